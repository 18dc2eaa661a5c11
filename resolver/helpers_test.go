package resolver

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// memSource is an in-memory Source built from a small text format, one
// version per line:
//
//	name version [yanked]: dep constraint, dep constraint
//
// Versions are returned newest first, so the solver's sorting is exercised.
type memSource struct {
	versions map[string][]Candidate
	reqs     map[verKey][]Requirement
	byPtr    map[*semver.Version][]Requirement // frozen: keyed by the candidates' own versions
	calls    int
	// frozen serves the lists as stored (ascending, built by a benchmark
	// generator) without copying, as an in-memory index would.
	frozen bool
}

func newMemSource() *memSource {
	return &memSource{versions: map[string][]Candidate{}, reqs: map[verKey][]Requirement{}}
}

// verKey identifies a version without formatting it.
type verKey struct {
	name                string
	major, minor, patch uint64
	pre                 string
}

func keyOf(name string, v *semver.Version) verKey {
	return verKey{name, v.Major(), v.Minor(), v.Patch(), v.Prerelease()}
}

func parseSource(tb testing.TB, text string) *memSource {
	tb.Helper()
	src := newMemSource()
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		head, deps, _ := strings.Cut(line, ":")
		f := strings.Fields(head)
		if len(f) < 2 {
			tb.Fatalf("registry line %d: want \"name version\": %q", n+1, line)
		}
		yanked := len(f) > 2 && f[2] == "yanked"
		reqs, err := parseReqs(deps)
		if err != nil {
			tb.Fatalf("registry line %d: %v", n+1, err)
		}
		src.add(f[0], f[1], yanked, nil, reqs...)
	}
	return src
}

// freeze makes the source serve its lists as stored and index requirements
// by the candidates' own versions, as an in-memory index would.
func (m *memSource) freeze() {
	m.frozen = true
	m.byPtr = map[*semver.Version][]Requirement{}
	for n, cs := range m.versions {
		for _, c := range cs {
			m.byPtr[c.Version] = m.reqs[keyOf(n, c.Version)]
		}
	}
}

func (m *memSource) add(name, version string, yanked bool, dep *Deprecation, reqs ...Requirement) {
	v := semver.MustParse(version)
	m.versions[name] = append(m.versions[name], Candidate{Version: v, Yanked: yanked, Deprecated: dep})
	m.reqs[keyOf(name, v)] = reqs
}

func parseReqs(text string) ([]Requirement, error) {
	var out []Requirement
	for _, part := range strings.Split(text, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, raw, _ := strings.Cut(part, " ")
		c, err := semver.NewConstraint(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("requirement %q: %w", part, err)
		}
		out = append(out, Requirement{Name: name, Constraint: c, Raw: strings.TrimSpace(raw)})
	}
	return out, nil
}

func mustReqs(tb testing.TB, text string) []Requirement {
	tb.Helper()
	r, err := parseReqs(text)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func (m *memSource) Versions(ctx context.Context, name string) ([]Candidate, error) {
	m.calls++
	if m.frozen {
		return m.versions[name], nil
	}
	list := append([]Candidate(nil), m.versions[name]...)
	sort.Slice(list, func(i, j int) bool { return list[j].Version.LessThan(list[i].Version) })
	return list, nil
}

func (m *memSource) Requirements(ctx context.Context, name string, v *semver.Version) ([]Requirement, error) {
	m.calls++
	if r, ok := m.byPtr[v]; ok {
		return r, nil
	}
	r, ok := m.reqs[keyOf(name, v)]
	if !ok {
		return nil, fmt.Errorf("%s %s: %w", name, v, ErrNotFound)
	}
	return r, nil
}

// planString renders a plan as "a 1.0.0, b 2.0.0" in install order.
func planString(p *Plan) string {
	parts := make([]string, len(p.Order))
	for i, d := range p.Order {
		parts[i] = d.Name + " " + d.Version.String()
	}
	return strings.Join(parts, ", ")
}
