// Package index defines the marketplace index: the one JSON document that
// lists every skill, every published version, and for each version the
// SHA-256 and size of its package archive per platform.
//
// The document is keyed by name (skills) and by version string (versions)
// rather than holding sorted arrays: lookups are direct, and publishing a
// version adds a few lines to the canonical encoding instead of shifting an
// array, so diffs between index versions stay small and reviewable.
//
//	{
//	  "expires": "2026-10-01T00:00:00Z",
//	  "generated": "2026-09-01T00:00:00Z",
//	  "schema": 1,
//	  "skills": {
//	    "wordcount": {
//	      "description": "Counts words.",
//	      "versions": {
//	        "1.2.0": {
//	          "artifacts": {
//	            "any": {"sha256": "9f86...", "size": 812345, "url": "artifacts/wordcount-1.2.0.tar.gz"}
//	          },
//	          "published": "2026-08-30T12:00:00Z",
//	          "requirements": [{"constraint": "^1.0.0", "name": "tokenize"}],
//	          "runtime": "wasm"
//	        }
//	      }
//	    }
//	  },
//	  "version": 42
//	}
//
// A release may also carry "deprecated" (message, replacement and its
// constraint, sunset date, time), "yanked" (reason, time) and "history": the
// operator actions on it (deprecated, undeprecated, yanked, unyanked), each
// with its time and reason, oldest first, so that undoing a deprecation or a
// yank leaves a record.
//
// Parse is strict (unknown fields, duplicate keys, wrong types and invalid
// values are errors that name the line, column, skill, version and field);
// Encode writes the canonical form (keys sorted at every level, two-space
// indent, UTC times, trailing newline) so that the same Index always gives
// the same bytes, which is what gets signed (see package sign). The JSON
// Schema of the format is registry/index.schema.json.
package index

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/skillsdev/skills/sdk/manifest"
)

// SchemaVersion is the value of "schema" this package reads and writes. A
// different value is refused rather than half-understood.
const SchemaVersion = 1

// MaxSize caps the raw index: Parse refuses anything larger, and registry
// clients stop reading at this many bytes, so a hostile or broken server
// cannot make a client buffer without end.
const MaxSize = 32 << 20

// MaxArtifactSize is the largest artifact size an index may declare. Plugin
// binaries are tens of MiB; anything near this is a mistake or an attack.
const MaxArtifactSize = 1 << 30

// AnyPlatform is the artifact key of a platform-independent package (wasm and
// instructions skills). Plugin skills key their artifacts by "goos/goarch".
const AnyPlatform = "any"

// Index is a parsed, validated marketplace index.
type Index struct {
	Schema    int               // always SchemaVersion
	Version   int64             // monotonically increasing; clients refuse a lower one than they have seen (rollback)
	Expires   time.Time         // clients refuse the index after this (freeze)
	Generated time.Time         // when the publisher built it; informational
	Skills    map[string]*Skill // by skill name
}

// Skill is one skill name and its published versions.
type Skill struct {
	Description string              // 1-1024 characters, the current description for listings
	Versions    map[string]*Release // by strict semver string, e.g. "1.2.0"
}

// Release is one published version of a skill. Published releases are
// immutable: a fix is a new version; a bad one is yanked or deprecated.
type Release struct {
	Runtime      manifest.Runtime    // wasm, plugin or instructions
	Description  string              // optional; the description of this version
	Requirements []Requirement       // the skills this version depends on (its ## Requires)
	Artifacts    map[string]Artifact // AnyPlatform for wasm and instructions; "goos/goarch" for plugins
	Published    time.Time
	Deprecated   *Deprecation // nil unless deprecated: still resolvable, with a warning
	Yanked       *Yank        // nil unless yanked: skipped unless pinned exactly or locked
	// History lists the operator actions on this release, oldest first
	// (optional). Deprecated and Yanked hold only the current state; the
	// history keeps what an undeprecate or unyank removed, so that clients
	// can show what happened to a version and why.
	History []Event
}

// Requirement is one dependency: a skill name and a semver constraint in
// Masterminds syntax ("^1.2", ">=1.0.0, <2.0.0").
type Requirement struct {
	Name       string
	Constraint string
}

// Artifact pins one package archive (a tar.gz made by package archive) by
// content. URL is relative to the location of the index, or an absolute
// http, https or file URL.
type Artifact struct {
	URL    string
	SHA256 string // 64 lowercase hex digits
	Size   int64  // bytes; clients read exactly this many
}

// Deprecation marks a release that still installs but should be replaced.
type Deprecation struct {
	Message     string // required: why, and what to do
	Replacement string // optional: the name of the skill to use instead
	// ReplacementConstraint optionally narrows Replacement to the versions
	// to move to, e.g. "^2.0" (Masterminds syntax); only with Replacement.
	ReplacementConstraint string
	Sunset                string    // optional: date (YYYY-MM-DD) after which it may be yanked
	Time                  time.Time // optional: when it was deprecated (zero when unknown)
}

// Yank withdraws a release: resolvers skip it unless it is pinned exactly or
// already locked, so existing installs keep working.
type Yank struct {
	Reason string // required
	Time   time.Time
}

// Event is one operator action recorded in a release's History.
type Event struct {
	Action Action
	Time   time.Time
	// Reason is the deprecation message or the yank reason (required for
	// those two actions), or why it was undone (optional).
	Reason string
}

// Action is what an Event did to a release.
type Action string

// Actions recorded in Release.History.
const (
	ActionDeprecated   Action = "deprecated"
	ActionUndeprecated Action = "undeprecated"
	ActionYanked       Action = "yanked"
	ActionUnyanked     Action = "unyanked"
)

// NameMaxLen and namePattern mirror the Agent Skills rules for a skill name,
// which the manifest package enforces for SKILL.md.
const NameMaxLen = 64

var namePattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ValidName reports whether s is a valid skill name.
func ValidName(s string) bool {
	return len(s) <= NameMaxLen && namePattern.MatchString(s)
}

// Expired reports whether the index must no longer be trusted at now.
func (x *Index) Expired(now time.Time) bool {
	return !now.Before(x.Expires)
}

// Names returns the skill names in sorted order.
func (x *Index) Names() []string {
	names := make([]string, 0, len(x.Skills))
	for n := range x.Skills {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the release of skill name at exactly version.
func (x *Index) Lookup(name, version string) (*Release, error) {
	s, ok := x.Skills[name]
	if !ok {
		return nil, fmt.Errorf("index: no skill %q", name)
	}
	r, ok := s.Versions[version]
	if !ok {
		return nil, fmt.Errorf("index: skill %q has no version %q (have %s)", name, version, strings.Join(s.Sorted(), ", "))
	}
	return r, nil
}

// Latest returns the highest version of skill name that is not yanked,
// skipping prereleases unless prerelease is true.
func (x *Index) Latest(name string, prerelease bool) (string, *Release, error) {
	s, ok := x.Skills[name]
	if !ok {
		return "", nil, fmt.Errorf("index: no skill %q", name)
	}
	vs := s.Sorted()
	for i := len(vs) - 1; i >= 0; i-- {
		r := s.Versions[vs[i]]
		if r.Yanked != nil {
			continue
		}
		if !prerelease {
			if v, err := semver.StrictNewVersion(vs[i]); err != nil || v.Prerelease() != "" {
				continue
			}
		}
		return vs[i], r, nil
	}
	return "", nil, fmt.Errorf("index: skill %q has no installable version", name)
}

// Sorted returns the skill's version strings in ascending semver order.
// Strings that are not valid semver (impossible after Parse) sort first, by
// text, so the result is still deterministic.
func (s *Skill) Sorted() []string {
	type kv struct {
		s string
		v *semver.Version
	}
	list := make([]kv, 0, len(s.Versions))
	for k := range s.Versions {
		v, _ := semver.StrictNewVersion(k)
		list = append(list, kv{k, v})
	}
	slices.SortFunc(list, func(a, b kv) int {
		switch {
		case a.v == nil && b.v == nil:
			return strings.Compare(a.s, b.s)
		case a.v == nil:
			return -1
		case b.v == nil:
			return 1
		}
		if c := a.v.Compare(b.v); c != 0 {
			return c
		}
		return strings.Compare(a.s, b.s)
	})
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.s
	}
	return out
}

// ArtifactFor returns the artifact to install on goos/goarch and the key it
// was found under: AnyPlatform for wasm and instructions skills, "goos/goarch"
// for plugins. The error lists the platforms that are available.
func (r *Release) ArtifactFor(goos, goarch string) (Artifact, string, error) {
	if a, ok := r.Artifacts[AnyPlatform]; ok {
		return a, AnyPlatform, nil
	}
	key := goos + "/" + goarch
	if a, ok := r.Artifacts[key]; ok {
		return a, key, nil
	}
	have := make([]string, 0, len(r.Artifacts))
	for k := range r.Artifacts {
		have = append(have, k)
	}
	sort.Strings(have)
	return Artifact{}, "", fmt.Errorf("index: no %s artifact for %s (available: %s)", r.Runtime, key, strings.Join(have, ", "))
}
