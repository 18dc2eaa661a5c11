package resolver

import (
	"context"
	"errors"
	"sort"

	"github.com/Masterminds/semver/v3"
)

// This file holds the reference semantics the tests check the solver
// against: a naive chronological backtracking solver (the benchmark
// baseline) and the acceptance rule both it and the brute-force oracle use.

// model answers "may this requirement be satisfied by this version" with
// the package's rules written out plainly.
type model struct {
	src  *memSource
	opts Options
	asc  map[string][]Candidate
}

func newModel(src *memSource, opts Options) *model {
	return &model{src: src, opts: opts, asc: map[string][]Candidate{}}
}

// versions lists the candidates of name, oldest first.
func (m *model) versions(name string) []Candidate {
	if l, ok := m.asc[name]; ok {
		return l
	}
	l := append([]Candidate(nil), m.src.versions[name]...)
	sort.Slice(l, func(i, j int) bool { return l[i].Version.LessThan(l[j].Version) })
	m.asc[name] = l
	return l
}

func (m *model) reqs(name string, v *semver.Version) []Requirement {
	r, _ := m.src.Requirements(context.Background(), name, v)
	return r
}

// accepts: Check matches; a yanked version only when locked, pinned, or
// named exactly by this requirement; a pinned package only at its pin.
func (m *model) accepts(r Requirement, c Candidate) bool {
	if !r.Constraint.Check(c.Version) {
		return false
	}
	if pin := m.opts.Pinned[r.Name]; pin != nil && !pin.Equal(c.Version) {
		return false
	}
	if c.Yanked {
		if l := m.opts.Locked[r.Name]; l != nil && l.Equal(c.Version) {
			return true
		}
		if p := m.opts.Pinned[r.Name]; p != nil && p.Equal(c.Version) {
			return true
		}
		if e, ok := exactVersion(r.Raw); ok && e.Equal(c.Version) {
			return true
		}
		return false
	}
	return true
}

var errBudget = errors.New("naive: search budget exhausted")
var errNaiveNoSolution = errors.New("naive: no solution")

// naive is depth-first search with chronological backtracking: take the
// first open requirement, try each accepted version newest first, push its
// requirements, recurse. No learning, so it is exponential on the chain
// and singleton shapes; budget caps the number of search nodes. It matches
// constraints with the resolver's own matchSet (then the yank and pin
// rules of model), so a benchmark ratio compares search, not matching.
type naive struct {
	m      *model
	budget int
	nodes  int
	sel    map[string]int // name -> index into m.versions(name)
	cache  map[[2]string][]bool
	match  *solver             // only for matchSet and its caches
	any    *semver.Constraints // every version, prereleases included
}

func newNaive(src *memSource, opts Options, budget int) *naive {
	match, _ := newSolver(context.Background(), src, Options{})
	match.newPkg("root", nil)
	anyVersion, _ := semver.NewConstraint(">=0.0.0-0")
	return &naive{m: newModel(src, opts), budget: budget, sel: map[string]int{}, cache: map[[2]string][]bool{}, match: match, any: anyVersion}
}

func (n *naive) ok(r Requirement) []bool {
	key := [2]string{r.Name, r.Raw}
	if a, ok := n.cache[key]; ok {
		return a
	}
	vs := n.m.versions(r.Name)
	a := make([]bool, len(vs))
	if p, err := n.match.lookup(r.Name); err == nil && p.n() == len(vs) {
		matched := n.match.matchSet(p, n.match.parseConstraint(r.Raw, r.Constraint), r.Constraint)
		for i, c := range vs {
			// Check already done by matchSet: accepts' other rules only.
			a[i] = matched.has(i) && n.m.accepts(Requirement{Name: r.Name, Constraint: n.any, Raw: r.Raw}, c)
		}
	}
	n.cache[key] = a
	return a
}

// solve returns the chosen version per name.
func (n *naive) solve(root []Requirement) (map[string]*semver.Version, error) {
	found, err := n.search(root)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errNaiveNoSolution
	}
	out := map[string]*semver.Version{}
	for name, i := range n.sel {
		out[name] = n.m.versions(name)[i].Version
	}
	return out, nil
}

func (n *naive) search(agenda []Requirement) (bool, error) {
	n.nodes++
	if n.nodes > n.budget {
		return false, errBudget
	}
	if len(agenda) == 0 {
		return true, nil
	}
	r, rest := agenda[0], agenda[1:]
	ok := n.ok(r)
	if i, chosen := n.sel[r.Name]; chosen {
		if !ok[i] {
			return false, nil
		}
		return n.search(rest)
	}
	vs := n.m.versions(r.Name)
	for i := len(vs) - 1; i >= 0; i-- {
		if !ok[i] {
			continue
		}
		n.sel[r.Name] = i
		deps := n.m.reqs(r.Name, vs[i].Version)
		next := make([]Requirement, 0, len(deps)+len(rest))
		next = append(append(next, deps...), rest...)
		found, err := n.search(next)
		if found || err != nil {
			return found, err
		}
		delete(n.sel, r.Name)
	}
	return false, nil
}
