package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/Masterminds/semver/v3"

	"github.com/skillsdev/skills/marketplace/index"
)

// Errors of the operator commands, for errors.Is.
var (
	ErrUnknownSkill = errors.New("unknown skill")
	ErrNoMatch      = errors.New("no version matches")
	ErrBadSpec      = errors.New("bad skill spec")
	ErrReplacement  = errors.New("bad replacement")
	ErrSunset       = errors.New("bad sunset date")
)

// DefaultYankReason is recorded when a yank gives no reason (the index
// requires one).
const DefaultYankReason = "no reason given"

// maxText is the index's limit on messages and reasons, checked before
// anything is locked so that the error is about the flag, not the index.
const maxText = 1024

// Spec is a skill name with an optional version range, as written on the
// command line: NAME, NAME@RANGE (a Masterminds constraint such as ^1.2 or
// "<1.4.0") or NAME@VERSION.
type Spec struct {
	Name  string
	Range string // "" means every version
}

func (s Spec) String() string {
	if s.Range == "" {
		return s.Name
	}
	return s.Name + "@" + s.Range
}

// ParseSpec parses NAME or NAME@RANGE.
func ParseSpec(s string) (Spec, error) {
	name, rng, hasAt := strings.Cut(s, "@")
	if !index.ValidName(name) {
		return Spec{}, fmt.Errorf("%w %q: %q is not a skill name (a-z, 0-9 and single inner hyphens)", ErrBadSpec, s, name)
	}
	rng = strings.TrimSpace(rng)
	if hasAt && rng == "" {
		return Spec{}, fmt.Errorf("%w %q: nothing after @ (write NAME@RANGE, e.g. %s@^1.2, or NAME alone for every version)", ErrBadSpec, s, name)
	}
	if rng != "" {
		if _, err := semver.NewConstraint(rng); err != nil {
			return Spec{}, fmt.Errorf("%w %q: invalid version range %q: %v", ErrBadSpec, s, rng, err)
		}
	}
	return Spec{Name: name, Range: rng}, nil
}

// ParseSunset accepts a date (2027-01-31) or an RFC 3339 time
// (2027-01-31T00:00:00Z) and returns the date the index stores: a time is
// reduced to its date in UTC.
func ParseSunset(s string) (string, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Format(time.DateOnly), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Format(time.DateOnly), nil
	}
	return "", fmt.Errorf("%w %q: want a date like 2027-01-31 or an RFC 3339 time like 2027-01-31T00:00:00Z", ErrSunset, s)
}

// match returns the versions of the skill that the spec selects, in
// ascending order: all of them for a bare name; those the range allows
// otherwise (prereleases only when the range names one, as in resolution).
func match(x *index.Index, sp Spec) ([]string, error) {
	s := x.Skills[sp.Name]
	if s == nil {
		return nil, fmt.Errorf("%w %q: this registry has no such skill (it has %s)", ErrUnknownSkill, sp.Name, listOr(x.Names(), "no skills"))
	}
	all := s.Sorted()
	if sp.Range == "" {
		return all, nil
	}
	c, err := semver.NewConstraint(sp.Range)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadSpec, sp, err)
	}
	var out []string
	for _, key := range all {
		if v, err := semver.StrictNewVersion(key); err == nil && c.Check(v) {
			out = append(out, key)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s matches none of the versions of %s (%s)", ErrNoMatch, sp, sp.Name, strings.Join(all, ", "))
	}
	return out, nil
}

// matchExact returns the one version NAME@VERSION names.
func matchExact(x *index.Index, spec string) (string, string, error) {
	sp, err := ParseSpec(spec)
	if err != nil {
		return "", "", err
	}
	if sp.Range == "" {
		return "", "", fmt.Errorf("%w %q: name one exact version, e.g. %s@1.2.3", ErrBadSpec, spec, sp.Name)
	}
	v, err := semver.StrictNewVersion(sp.Range)
	if err != nil {
		return "", "", fmt.Errorf("%w %q: %q is not one exact version (a range cannot be yanked at once: yank versions one by one)", ErrBadSpec, spec, sp.Range)
	}
	s := x.Skills[sp.Name]
	if s == nil {
		return "", "", fmt.Errorf("%w %q: this registry has no such skill (it has %s)", ErrUnknownSkill, sp.Name, listOr(x.Names(), "no skills"))
	}
	key, _ := findVersion(x, sp.Name, v)
	if key == "" {
		return "", "", fmt.Errorf("%w: %s has no version %s (it has %s)", ErrNoMatch, sp.Name, sp.Range, strings.Join(s.Sorted(), ", "))
	}
	return sp.Name, key, nil
}

func listOr(xs []string, none string) string {
	if len(xs) == 0 {
		return none
	}
	return strings.Join(xs, ", ")
}

func checkText(flag, s string, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return fmt.Errorf("%s is required", flag)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", flag)
	case utf8.RuneCountInString(s) > maxText:
		return fmt.Errorf("%s is %d characters, over the limit of %d", flag, utf8.RuneCountInString(s), maxText)
	}
	return nil
}

// Deprecation is what Deprecate records.
type Deprecation struct {
	Message     string // required: why, and what to do instead
	Replacement string // optional: NAME or NAME@RANGE of a skill in this registry to use instead
	Sunset      string // optional: YYYY-MM-DD or RFC 3339; after it new installs are refused
}

// Deprecate marks the versions spec selects (NAME, NAME@RANGE) deprecated.
// The replacement must exist in the registry with an installable version
// outside the versions being deprecated. Versions already deprecated the
// same way are left alone; if that is all of them, the error is
// ErrNoChange and nothing is written.
func Deprecate(ctx context.Context, dir, spec string, d Deprecation, o Options) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sp, err := ParseSpec(spec)
	if err != nil {
		return nil, fmt.Errorf("deprecate: %w", err)
	}
	if err := checkText("the deprecation message (--message)", d.Message, true); err != nil {
		return nil, fmt.Errorf("deprecate %s: %w", sp, err)
	}
	var sunset string
	if d.Sunset != "" {
		if sunset, err = ParseSunset(d.Sunset); err != nil {
			return nil, fmt.Errorf("deprecate %s: %w", sp, err)
		}
	}
	var repl Spec
	if d.Replacement != "" {
		if repl, err = ParseSpec(d.Replacement); err != nil {
			return nil, fmt.Errorf("deprecate %s: replacement: %w", sp, err)
		}
	}
	f, err := openFolder(dir, o, false, true)
	if err != nil {
		return nil, fmt.Errorf("deprecate %s: %w", sp, err)
	}
	defer f.close()
	x := f.cur
	versions, err := match(x, sp)
	if err != nil {
		return nil, fmt.Errorf("deprecate: %w", err)
	}
	var warnings []string
	if repl.Name != "" {
		if warnings, err = checkReplacement(x, sp.Name, versions, repl); err != nil {
			return nil, fmt.Errorf("deprecate %s: %w", sp, err)
		}
	}
	now := o.now()
	if sunset != "" {
		if t, _ := time.Parse(time.DateOnly, sunset); t.Before(now) {
			warnings = append(warnings, fmt.Sprintf("sunset %s is in the past: new installs of these versions are refused from now on unless --allow-deprecated", sunset))
		}
	}
	want := index.Deprecation{Message: d.Message, Replacement: repl.Name, ReplacementConstraint: repl.Range, Sunset: sunset, Time: now}
	var changed []string
	for _, v := range versions {
		r := x.Skills[sp.Name].Versions[v]
		if old := r.Deprecated; old != nil && old.Message == want.Message && old.Replacement == want.Replacement &&
			old.ReplacementConstraint == want.ReplacementConstraint && old.Sunset == want.Sunset {
			continue
		}
		dep := want
		r.Deprecated = &dep
		r.History = append(r.History, index.Event{Action: index.ActionDeprecated, Time: now, Reason: d.Message})
		changed = append(changed, sp.Name+"@"+v)
	}
	if len(changed) == 0 {
		return nil, fmt.Errorf("deprecate %s: %w: %s already deprecated with this message, replacement and sunset", sp, ErrNoChange, plural(versions))
	}
	return commitOp(f, x, o, now, changed, warnings)
}

// checkReplacement refuses a replacement that does not exist in the
// registry or offers nothing to move to, and warns about one that is itself
// deprecated.
func checkReplacement(x *index.Index, name string, deprecating []string, repl Spec) ([]string, error) {
	s := x.Skills[repl.Name]
	if s == nil {
		return nil, fmt.Errorf("%w: %s does not exist in this registry (it has %s)", ErrReplacement, repl.Name, listOr(x.Names(), "no skills"))
	}
	var c *semver.Constraints
	if repl.Range != "" {
		c, _ = semver.NewConstraint(repl.Range) // checked by ParseSpec
	}
	var candidates, deprecated []string
	for _, key := range s.Sorted() {
		r := s.Versions[key]
		v, err := semver.StrictNewVersion(key)
		if err != nil || r.Yanked != nil {
			continue
		}
		if c != nil && !c.Check(v) {
			continue
		}
		if repl.Name == name && contains(deprecating, key) {
			continue
		}
		candidates = append(candidates, key)
		if r.Deprecated != nil {
			deprecated = append(deprecated, key)
		}
	}
	if len(candidates) == 0 {
		what := repl.String()
		if repl.Name == name {
			return nil, fmt.Errorf("%w: %s has no installable version outside the ones being deprecated (it has %s)", ErrReplacement, what, strings.Join(s.Sorted(), ", "))
		}
		return nil, fmt.Errorf("%w: %s matches no installable (unyanked) version in this registry (it has %s)", ErrReplacement, what, strings.Join(s.Sorted(), ", "))
	}
	if len(deprecated) == len(candidates) {
		return []string{fmt.Sprintf("the replacement %s is itself deprecated (%s)", repl, strings.Join(deprecated, ", "))}, nil
	}
	return nil, nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func plural(versions []string) string {
	if len(versions) == 1 {
		return "version " + versions[0] + " is"
	}
	return "versions " + strings.Join(versions, ", ") + " are"
}

// Undeprecate removes the deprecation of the versions spec selects that are
// deprecated, recording reason (optional) in their history. If none is
// deprecated the error is ErrNoChange.
func Undeprecate(ctx context.Context, dir, spec, reason string, o Options) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sp, err := ParseSpec(spec)
	if err != nil {
		return nil, fmt.Errorf("undeprecate: %w", err)
	}
	if err := checkText("the reason (--reason)", reason, false); err != nil {
		return nil, fmt.Errorf("undeprecate %s: %w", sp, err)
	}
	f, err := openFolder(dir, o, false, true)
	if err != nil {
		return nil, fmt.Errorf("undeprecate %s: %w", sp, err)
	}
	defer f.close()
	x := f.cur
	versions, err := match(x, sp)
	if err != nil {
		return nil, fmt.Errorf("undeprecate: %w", err)
	}
	now := o.now()
	var changed []string
	for _, v := range versions {
		r := x.Skills[sp.Name].Versions[v]
		if r.Deprecated == nil {
			continue
		}
		r.Deprecated = nil
		r.History = append(r.History, index.Event{Action: index.ActionUndeprecated, Time: now, Reason: reason})
		changed = append(changed, sp.Name+"@"+v)
	}
	if len(changed) == 0 {
		return nil, fmt.Errorf("undeprecate %s: %w: %s not deprecated", sp, ErrNoChange, plural(versions))
	}
	return commitOp(f, x, o, now, changed, nil)
}

// Yank withdraws NAME@VERSION: new resolutions skip it, while installs that
// pin or lock it keep working. reason "" records DefaultYankReason.
func Yank(ctx context.Context, dir, spec, reason string, o Options) (*Result, error) {
	return setYank(ctx, dir, spec, reason, o, true)
}

// Unyank makes a yanked NAME@VERSION resolvable again, recording reason
// (optional) in its history.
func Unyank(ctx context.Context, dir, spec, reason string, o Options) (*Result, error) {
	return setYank(ctx, dir, spec, reason, o, false)
}

func setYank(ctx context.Context, dir, spec, reason string, o Options, yank bool) (*Result, error) {
	op := "unyank"
	if yank {
		op = "yank"
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := ParseSpec(spec); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := checkText("the reason (--reason)", reason, false); err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, spec, err)
	}
	f, err := openFolder(dir, o, false, true)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, spec, err)
	}
	defer f.close()
	x := f.cur
	name, v, err := matchExact(x, spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	r := x.Skills[name].Versions[v]
	now := o.now()
	if yank {
		if r.Yanked != nil {
			return nil, fmt.Errorf("yank %s@%s: %w: already yanked on %s (%s)", name, v, ErrNoChange, r.Yanked.Time.UTC().Format(time.DateOnly), r.Yanked.Reason)
		}
		if reason == "" {
			reason = DefaultYankReason
		}
		r.Yanked = &index.Yank{Reason: reason, Time: now}
		r.History = append(r.History, index.Event{Action: index.ActionYanked, Time: now, Reason: reason})
	} else {
		if r.Yanked == nil {
			return nil, fmt.Errorf("unyank %s@%s: %w: it is not yanked", name, v, ErrNoChange)
		}
		r.Yanked = nil
		r.History = append(r.History, index.Event{Action: index.ActionUnyanked, Time: now, Reason: reason})
	}
	var warnings []string
	if yank {
		if _, _, err := x.Latest(name, true); err != nil {
			warnings = append(warnings, fmt.Sprintf("every version of %s is now yanked: new installs of %s fail until one is published or unyanked", name, name))
		}
	}
	return commitOp(f, x, o, now, []string{name + "@" + v}, warnings)
}

func commitOp(f *folder, x *index.Index, o Options, now time.Time, changed, warnings []string) (*Result, error) {
	res, err := f.commit(x, o, now)
	if err != nil {
		return nil, err
	}
	res.Releases = changed
	res.Warnings = append(res.Warnings, warnings...)
	return res, nil
}
