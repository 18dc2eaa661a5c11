// Package resolver is a pure PubGrub dependency solver for skills: given the
// root requirements and a Source that lists versions and their requirements,
// it returns the versions to install in dependency order, or an explanation
// in PubGrub's derivation prose of why no such set exists.
//
// It does no I/O of its own; everything it learns comes through Source. One
// version per skill name is active. Because Masterminds constraints cannot be
// intersected as ranges, every term is a bitset over the known versions of
// its package, built with Constraints.Check. (Over release versions each
// comparator accepts a contiguous run, so only the versions around its
// bounds are checked; prereleases, and constraints using "!=", are checked
// one by one.)
//
// Rules beyond plain semver matching:
//   - Prereleases follow Masterminds' Check: a constraint group matches
//     prereleases only if one of its comparators names a prerelease (then it
//     matches any prerelease in range, not only those of the same x.y.z).
//   - Yanked versions never match a requirement, except an exact one ("=1.2.3"
//     or "1.2.3") naming that version, a Pinned entry, or a Locked entry.
//   - Deprecated versions resolve, and each one chosen adds a warning to the
//     Plan naming the replacement and sunset.
//   - The newest allowed version is preferred, except that a Locked version is
//     preferred while it is allowed. Packages are decided fewest candidates
//     first, then by name, so results are deterministic.
//   - Chosen versions must not depend on each other in a cycle: that is a
//     *CycleError, printed from the lexicographically smallest member.
package resolver

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
)

// Source is where the solver learns about packages. Implementations must be
// deterministic for the duration of one Resolve call.
type Source interface {
	// Versions lists every known version of name, in any order. An unknown
	// name is reported by returning no versions, or an error wrapping
	// ErrNotFound; any other error aborts resolution.
	Versions(ctx context.Context, name string) ([]Candidate, error)
	// Requirements lists what version v of name requires.
	Requirements(ctx context.Context, name string, v *semver.Version) ([]Requirement, error)
}

// ErrNotFound is what a Source wraps when a package does not exist; the
// solver then explains the failure as "no versions of x exist".
var ErrNotFound = errors.New("package not found")

// Candidate is one published version of a package.
type Candidate struct {
	Version    *semver.Version
	Yanked     bool
	Deprecated *Deprecation // nil when not deprecated
}

// Deprecation says why a version should no longer be used and what to use.
type Deprecation struct {
	Message     string
	Replacement string    // e.g. "other-skill ^2"; empty when there is none
	Sunset      time.Time // zero when no end date was announced
}

// Requirement is a dependency on another package: "name constraint". When
// Constraint is nil, Raw is parsed; when both are empty it means any version.
// When both are set, Raw must be the text Constraint was parsed from: it is
// what explanations print, and the solver caches by it.
type Requirement struct {
	Name       string
	Constraint *semver.Constraints
	Raw        string
}

// Options tune one resolution. The zero value is valid.
type Options struct {
	// RootName names the root in explanations ("root" when empty).
	RootName string
	// Locked versions are preferred while they satisfy every requirement,
	// and are allowed even when yanked.
	Locked map[string]*semver.Version
	// Pinned packages, when they are part of the solution, must be exactly
	// this version (allowed even when yanked). A pin does not by itself add
	// the package to the solution.
	Pinned map[string]*semver.Version
	// Now dates sunset warnings ("passed" or not); zero leaves them undated.
	Now time.Time
}

// Plan is a successful resolution.
type Plan struct {
	// Order lists the chosen versions, dependencies before their dependents;
	// ties are broken by name. The root is not included.
	Order []Decision
	// Warnings are human-readable notes about the chosen versions
	// (deprecations, yanked versions allowed by a lock or pin), sorted.
	Warnings []string
}

// Decision is one chosen package version and what it requires.
type Decision struct {
	Name         string
	Version      *semver.Version
	Requirements []Requirement
}

// NoSolutionError reports that no set of versions satisfies the requirements.
// Its message is PubGrub's explanation, one derivation per line.
type NoSolutionError struct {
	explain     func() string // writes explanation once
	explanation string
}

// Error returns the explanation, written on first call.
func (e *NoSolutionError) Error() string {
	if e.explain == nil {
		return "version solving failed"
	}
	return e.explain()
}

// CycleError reports that the chosen versions depend on each other in a
// cycle, which skills may not do.
type CycleError struct {
	// Cycle starts and ends with the same package: its lexicographically
	// smallest member.
	Cycle []Decision
}

// Error prints the cycle as "a 1.0.0 -> b 2.1.0 -> a 1.0.0".
func (e *CycleError) Error() string {
	parts := make([]string, len(e.Cycle))
	for i, d := range e.Cycle {
		parts[i] = d.Name + " " + d.Version.String()
	}
	return "dependency cycle: " + strings.Join(parts, " -> ")
}

// Resolve chooses one version for each package reachable from root. It
// returns a *NoSolutionError when no choice satisfies every requirement, a
// *CycleError when the only choice found has a dependency cycle, and a
// wrapped error when the Source fails, an input is malformed, or ctx ends.
func Resolve(ctx context.Context, src Source, root []Requirement, opts Options) (*Plan, error) {
	s, err := newSolver(ctx, src, opts)
	if err != nil {
		return nil, err
	}
	if err := s.solve(root); err != nil {
		return nil, err
	}
	return s.plan()
}
