package index

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/Masterminds/semver/v3"

	"github.com/skillsdev/skills/sdk/manifest"
)

var (
	hexSHA256       = regexp.MustCompile(`^[0-9a-f]{64}$`)
	platformPattern = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9]+$`)
)

// Limits on free text, matching the SKILL.md rules for a description.
const (
	maxDescription = 1024
	maxMessage     = 1024
	maxURL         = 2048
)

// Validate checks every rule of the format that is not about JSON syntax:
// names, semver keys, constraints, artifact keys per runtime, hashes, sizes,
// URLs, required times. Parse runs it; Encode runs it so that a publisher
// cannot sign an index that clients would refuse. It returns the first
// problem (skills and versions are visited in sorted order, so the same index
// always gives the same error) as an *Error.
func (x *Index) Validate() error {
	switch {
	case x.Schema != SchemaVersion:
		return &Error{Path: []string{"schema"}, Msg: fmt.Sprintf("unsupported index schema %d (this client reads schema %d)", x.Schema, SchemaVersion)}
	case x.Version < 1:
		return &Error{Path: []string{"version"}, Msg: fmt.Sprintf("must be at least 1, got %d", x.Version)}
	}
	if err := checkTime(x.Generated); err != nil {
		return &Error{Path: []string{"generated"}, Msg: err.Error()}
	}
	if err := checkTime(x.Expires); err != nil {
		return &Error{Path: []string{"expires"}, Msg: err.Error()}
	}
	if !x.Expires.After(x.Generated) {
		return &Error{Path: []string{"expires"}, Msg: fmt.Sprintf("%s is not after generated %s", stamp(x.Expires), stamp(x.Generated))}
	}
	v := &validator{constraints: make(map[string]error)}
	for _, name := range x.Names() {
		if err := v.skill(x.Skills[name], name); err != nil {
			return err
		}
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// checkTime refuses the zero time (a field never set) and years that RFC 3339
// cannot write.
func checkTime(t time.Time) error {
	if t.IsZero() {
		return fmt.Errorf("missing")
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return fmt.Errorf("year %d is out of range", y)
	}
	return nil
}

// validator carries what one Validate call memoises: an index repeats the
// same few constraints thousands of times, and compiling one costs several
// regexp matches.
type validator struct {
	constraints map[string]error
}

func (v *validator) constraint(c string) error {
	err, ok := v.constraints[c]
	if !ok {
		_, err = semver.NewConstraint(c)
		v.constraints[c] = err
	}
	return err
}

func (v *validator) skill(s *Skill, name string) error {
	path := []string{"skills", name}
	if !ValidName(name) {
		return &Error{Path: path, atKey: true, Msg: "invalid skill name: want 1-64 characters of a-z, 0-9 and single inner hyphens, like word-count"}
	}
	if s == nil {
		return &Error{Path: path, Msg: "missing"}
	}
	if err := text(s.Description, 1, maxDescription); err != nil {
		return &Error{Path: sub(path, "description"), Msg: err.Error()}
	}
	if len(s.Versions) == 0 {
		return &Error{Path: sub(path, "versions"), Msg: "no versions"}
	}
	var prev *semver.Version
	var prevKey string
	for _, key := range s.Sorted() {
		vpath := append(sub(path, "versions"), key)
		sv, err := semver.StrictNewVersion(key)
		if err != nil {
			return &Error{Path: vpath, atKey: true, Msg: fmt.Sprintf("not a strict semver version like 1.2.0: %v", err)}
		}
		if prev != nil && prev.Equal(sv) {
			return &Error{Path: vpath, atKey: true, Msg: fmt.Sprintf("same version as %q (build metadata does not make a new version)", prevKey)}
		}
		prev, prevKey = sv, key
		if err := v.release(s.Versions[key], name, vpath); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) release(r *Release, name string, path []string) error {
	if r == nil {
		return &Error{Path: path, Msg: "missing"}
	}
	switch r.Runtime {
	case manifest.RuntimeWasm, manifest.RuntimePlugin, manifest.RuntimeInstructions:
	default:
		return &Error{Path: sub(path, "runtime"), Msg: fmt.Sprintf("unknown runtime %q (want wasm, plugin or instructions)", r.Runtime)}
	}
	if r.Description != "" {
		if err := text(r.Description, 1, maxDescription); err != nil {
			return &Error{Path: sub(path, "description"), Msg: err.Error()}
		}
	}
	seen := make(map[string]bool, len(r.Requirements))
	for i, q := range r.Requirements {
		qpath := append(sub(path, "requirements"), fmt.Sprintf("[%d]", i))
		switch {
		case !ValidName(q.Name):
			return &Error{Path: sub(qpath, "name"), Msg: fmt.Sprintf("invalid skill name %q", q.Name)}
		case q.Name == name:
			return &Error{Path: sub(qpath, "name"), Msg: "a skill cannot require itself"}
		case seen[q.Name]:
			return &Error{Path: sub(qpath, "name"), Msg: fmt.Sprintf("%q is required twice", q.Name)}
		}
		seen[q.Name] = true
		if strings.TrimSpace(q.Constraint) == "" {
			return &Error{Path: sub(qpath, "constraint"), Msg: "empty constraint (use * for any version)"}
		}
		if err := v.constraint(q.Constraint); err != nil {
			return &Error{Path: sub(qpath, "constraint"), Msg: fmt.Sprintf("invalid constraint %q: %v", q.Constraint, err)}
		}
	}
	if err := r.validateArtifacts(sub(path, "artifacts")); err != nil {
		return err
	}
	if err := checkTime(r.Published); err != nil {
		return &Error{Path: sub(path, "published"), Msg: err.Error()}
	}
	if d := r.Deprecated; d != nil {
		dpath := sub(path, "deprecated")
		if err := text(d.Message, 1, maxMessage); err != nil {
			return &Error{Path: sub(dpath, "message"), Msg: err.Error()}
		}
		if d.Replacement != "" && !ValidName(d.Replacement) {
			return &Error{Path: sub(dpath, "replacement"), Msg: fmt.Sprintf("invalid skill name %q", d.Replacement)}
		}
		if d.ReplacementConstraint != "" {
			switch {
			case d.Replacement == "":
				return &Error{Path: sub(dpath, "replacement_constraint"), Msg: "set without replacement (the skill it constrains)"}
			case v.constraint(d.ReplacementConstraint) != nil:
				return &Error{Path: sub(dpath, "replacement_constraint"), Msg: fmt.Sprintf("invalid constraint %q: %v", d.ReplacementConstraint, v.constraint(d.ReplacementConstraint))}
			}
		}
		if d.Sunset != "" {
			if _, err := time.Parse(time.DateOnly, d.Sunset); err != nil {
				return &Error{Path: sub(dpath, "sunset"), Msg: fmt.Sprintf("want a date like 2026-12-31, got %q", d.Sunset)}
			}
		}
		if !d.Time.IsZero() {
			if err := checkTime(d.Time); err != nil {
				return &Error{Path: sub(dpath, "time"), Msg: err.Error()}
			}
		}
	}
	for i, e := range r.History {
		epath := append(sub(path, "history"), fmt.Sprintf("[%d]", i))
		min := 0
		switch e.Action {
		case ActionDeprecated, ActionYanked:
			min = 1 // the message or reason is what the history is for
		case ActionUndeprecated, ActionUnyanked:
		default:
			return &Error{Path: sub(epath, "action"), Msg: fmt.Sprintf("unknown action %q (want deprecated, undeprecated, yanked or unyanked)", e.Action)}
		}
		if err := checkTime(e.Time); err != nil {
			return &Error{Path: sub(epath, "time"), Msg: err.Error()}
		}
		if e.Reason != "" || min > 0 {
			if err := text(e.Reason, min, maxMessage); err != nil {
				return &Error{Path: sub(epath, "reason"), Msg: err.Error()}
			}
		}
	}
	if y := r.Yanked; y != nil {
		ypath := sub(path, "yanked")
		if err := text(y.Reason, 1, maxMessage); err != nil {
			return &Error{Path: sub(ypath, "reason"), Msg: err.Error()}
		}
		if err := checkTime(y.Time); err != nil {
			return &Error{Path: sub(ypath, "time"), Msg: err.Error()}
		}
	}
	return nil
}

func (r *Release) validateArtifacts(path []string) error {
	if len(r.Artifacts) == 0 {
		return &Error{Path: path, Msg: "no artifacts"}
	}
	keys := make([]string, 0, len(r.Artifacts))
	for k := range r.Artifacts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if r.Runtime == manifest.RuntimePlugin {
			if !platformPattern.MatchString(k) {
				return &Error{Path: sub(path, k), atKey: true, Msg: fmt.Sprintf("a plugin artifact is keyed by platform like linux/amd64, got %q", k)}
			}
		} else if k != AnyPlatform {
			return &Error{Path: sub(path, k), atKey: true, Msg: fmt.Sprintf("a %s skill has one artifact keyed %q, got %q", r.Runtime, AnyPlatform, k)}
		}
		if err := r.Artifacts[k].validate(sub(path, k)); err != nil {
			return err
		}
	}
	return nil
}

func (a Artifact) validate(path []string) error {
	if err := checkURL(a.URL); err != nil {
		return &Error{Path: sub(path, "url"), Msg: err.Error()}
	}
	if !hexSHA256.MatchString(a.SHA256) {
		return &Error{Path: sub(path, "sha256"), Msg: fmt.Sprintf("want 64 lowercase hex digits, got %q", a.SHA256)}
	}
	if a.Size < 1 || a.Size > MaxArtifactSize {
		return &Error{Path: sub(path, "size"), Msg: fmt.Sprintf("want 1 to %d bytes, got %d", int64(MaxArtifactSize), a.Size)}
	}
	return nil
}

// checkURL accepts an absolute http, https or file URL, or a reference
// relative to the index location (a path, optionally with a query).
func checkURL(s string) error {
	if s == "" {
		return fmt.Errorf("missing")
	}
	if len(s) > maxURL {
		return fmt.Errorf("longer than %d bytes", maxURL)
	}
	for _, r := range s {
		if r <= ' ' || r == '\\' || r == 0x7f {
			return fmt.Errorf("%q: spaces, control characters and backslashes are not allowed", s)
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q: %v", s, err)
	}
	if u.Fragment != "" {
		return fmt.Errorf("%q: fragments are not allowed", s)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return fmt.Errorf("%q: no host", s)
		}
	case "file":
		if u.Host != "" || !strings.HasPrefix(u.Path, "/") {
			return fmt.Errorf("%q: want file:///absolute/path", s)
		}
	case "":
		if u.Host != "" {
			return fmt.Errorf("%q: scheme-relative URLs are not allowed", s)
		}
		if u.Path == "" {
			return fmt.Errorf("%q: no path", s)
		}
	default:
		return fmt.Errorf("%q: unsupported scheme %q (want http, https, file, or a relative path)", s, u.Scheme)
	}
	return nil
}

// text checks free text: valid UTF-8, within [min, max] characters.
func text(s string, min, max int) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("not valid UTF-8")
	}
	n := utf8.RuneCountInString(s)
	if n < min {
		if s == "" {
			return fmt.Errorf("missing")
		}
		return fmt.Errorf("shorter than %d characters", min)
	}
	if n > max {
		return fmt.Errorf("%d characters, over the limit of %d", n, max)
	}
	return nil
}
