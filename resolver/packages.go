package resolver

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// pkg is everything the solver knows about one package name, plus its
// slice of the solver state.
type pkg struct {
	id       pkgID
	name     string
	versions []*semver.Version // ascending
	cands    []Candidate       // parallel to versions
	all      bitset            // every known version
	// allowed holds the versions a non-exact requirement may match: not
	// yanked, or yanked but locked or pinned. ok adds the yanked versions
	// named exactly by a requirement seen so far: what a decision may pick.
	allowed   bitset
	ok        bitset
	locked    int // version index, or -1
	pinned    int // version index, or -1
	pinnedVer *semver.Version

	reqs    [][]Requirement // per version, normalized; nil until fetched
	fetched []bool
	depIncs [][]int32 // per version: its dependency incompatibilities, once built
	cover   [][]int32 // per version: dependency incompatibilities whose run covers it
	built   []bool
	sets    map[*parsedConstraint]bitset // requirement sets, by constraint
	rel     []int                        // indexes of release versions, built on first use
	pre     []int                        // indexes of prerelease versions, built with rel
	singles []bitset                     // singles[i] = {i}, built on first use, shared
	none    bitset                       // the empty set, shared
	relKeys [][3]uint64                  // major, minor, patch of each release version, built with rel

	// Solver state.
	assigns   []int32 // indexes into solver.trail, oldest first
	decided   int     // version index, or -1
	incs      []int32 // incompatibilities mentioning this package
	gen       int32   // last backtrack generation that touched it
	tried     int     // version index last decided, or -1
	fallbacks int     // decisions at a version other than the one tried before
	eager     bool    // every version's dependencies are loaded (see loadAll)
	selfDeps  []bool  // per version: requires itself (a cycle, reported after solving)
}

func (p *pkg) n() int { return len(p.versions) }

// single returns the shared set {i}.
func (p *pkg) single(a *arena, i int) bitset {
	if p.singles == nil {
		p.singles = make([]bitset, p.n())
	}
	if p.singles[i] == nil {
		p.singles[i] = a.singleton(p.n(), i)
	}
	return p.singles[i]
}

func (p *pkg) acc(s *solver) (term, bool) {
	if len(p.assigns) == 0 {
		return term{}, false
	}
	return s.trail.at(p.assigns[len(p.assigns)-1]).acc, true
}

// lookup returns the package called name, loading its versions on first use.
func (s *solver) lookup(name string) (*pkg, error) {
	if id, ok := s.byName[name]; ok {
		return s.pkgs[id], nil
	}
	list, err := s.src.Versions(s.ctx, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("resolve: list versions of %s: %w", name, err)
	}
	if err != nil {
		list = nil
	}
	for _, c := range list {
		if c.Version == nil {
			return nil, fmt.Errorf("resolve: list versions of %s: a candidate has no version", name)
		}
	}
	// The list is the source's: sort a copy, and only when needed.
	cands := list
	if !sort.SliceIsSorted(cands, func(i, j int) bool { return cands[i].Version.LessThan(cands[j].Version) }) {
		cands = append([]Candidate(nil), list...)
		sort.SliceStable(cands, func(i, j int) bool { return cands[i].Version.LessThan(cands[j].Version) })
	}
	for i := 1; i < len(cands); i++ {
		if cands[i].Version.Equal(cands[i-1].Version) {
			return nil, fmt.Errorf("resolve: list versions of %s: version %s is listed twice (%q and %q)",
				name, cands[i].Version, cands[i-1].Version.Original(), cands[i].Version.Original())
		}
	}
	p := s.newPkg(name, cands)
	if v := s.opts.Locked[name]; v != nil {
		p.locked = p.index(v)
	}
	if v := s.opts.Pinned[name]; v != nil {
		p.pinned, p.pinnedVer = p.index(v), v
	}
	for i, c := range cands {
		if !c.Yanked || i == p.locked || i == p.pinned {
			p.allowed.set(i)
			p.ok.set(i)
		}
	}
	if p.pinnedVer != nil && p.n() > 0 {
		// The pin forbids every other version. When the pinned version is
		// unknown that is all of them, which the explanation says.
		other := p.all
		if p.pinned >= 0 {
			other = s.a.andNot(p.all, s.a.singleton(p.n(), p.pinned))
		}
		if !other.empty() {
			in := s.a.newIncompat()
			in.terms = []term{{pkg: p.id, pos: true, set: other}}
			in.kind, in.note = causePinned, p.pinnedVer.String()
			s.addIncompat(in)
		}
	}
	return p, nil
}

func (s *solver) newPkg(name string, cands []Candidate) *pkg {
	n := len(cands)
	p := &pkg{
		id:       pkgID(len(s.pkgs)),
		name:     name,
		versions: make([]*semver.Version, n),
		cands:    cands,
		all:      s.a.full(n),
		none:     s.a.bits(n),
		allowed:  make(bitset, (n+63)/64),
		ok:       make(bitset, (n+63)/64),
		locked:   -1,
		pinned:   -1,
		tried:    -1,
		reqs:     make([][]Requirement, n),
		fetched:  make([]bool, n),
		depIncs:  make([][]int32, n),
		cover:    make([][]int32, n),
		built:    make([]bool, n),
		selfDeps: make([]bool, n),
		sets:     map[*parsedConstraint]bitset{},
		decided:  -1,
	}
	for i, c := range cands {
		p.versions[i] = c.Version
	}
	s.pkgs = append(s.pkgs, p)
	if name != "" && pkgID(len(s.pkgs)-1) != rootID {
		s.byName[name] = p.id
	}
	return p
}

// index finds v among the versions, or -1.
func (p *pkg) index(v *semver.Version) int {
	i := sort.Search(p.n(), func(i int) bool { return !p.versions[i].LessThan(v) })
	if i < p.n() && p.versions[i].Equal(v) {
		return i
	}
	return -1
}

// normalize checks a requirement and fills in Constraint and Raw.
func normalize(r Requirement) (Requirement, error) {
	if r.Constraint != nil && r.Name != "" && r.Raw != "" && !spaced(r.Name) && !spaced(r.Raw) {
		return r, nil // the common case, already in shape
	}
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		return r, errors.New("a requirement has no package name")
	}
	r.Raw = strings.TrimSpace(r.Raw)
	if r.Constraint == nil {
		raw := r.Raw
		if raw == "" {
			raw = "*"
		}
		c, err := semver.NewConstraint(raw)
		if err != nil {
			return r, fmt.Errorf("requirement %s %q: %w", r.Name, r.Raw, err)
		}
		r.Constraint = c
	}
	if r.Raw == "" {
		r.Raw = r.Constraint.String()
	}
	return r, nil
}

// exactVersion returns the version an exact constraint ("=1.2.3", "1.2.3",
// "v1.2.3") names.
func exactVersion(raw string) (*semver.Version, bool) {
	s := strings.TrimSpace(raw)
	s = strings.TrimSpace(strings.TrimPrefix(s, "="))
	s = strings.TrimPrefix(s, "v")
	v, err := semver.StrictNewVersion(s)
	return v, err == nil
}

// constraintSet returns the versions of p that requirement r accepts: those
// Check accepts, minus yanked ones unless locked, pinned, or named exactly.
func (s *solver) constraintSet(p *pkg, r Requirement) bitset {
	pc := s.parseConstraint(r.Raw, r.Constraint)
	if pc.exact != nil {
		return s.exactSet(p, pc)
	}
	if set, ok := p.sets[pc]; ok {
		return set
	}
	set := s.a.and(s.matchSet(p, pc, r.Constraint), p.allowed)
	p.sets[pc] = set
	return set
}

// exactSet is constraintSet for an exact requirement ("=1.2.3"): at most
// its own version, which it may take even when yanked. These are cheap to
// build and rarely shared, so they are not cached.
func (s *solver) exactSet(p *pkg, pc *parsedConstraint) bitset {
	// For an exact constraint Masterminds' Check is Version.Equal (build
	// metadata ignored), so the version's position decides it; for a
	// release version the position comes from the release numbers alone.
	var i int
	if pc.exact.Prerelease() == "" {
		rel := p.releases()
		j := p.releaseLowerBound(pc.exact)
		if j == len(rel) || p.relKeys[j] != [3]uint64{pc.exact.Major(), pc.exact.Minor(), pc.exact.Patch()} {
			return p.none
		}
		i = rel[j]
	} else if i = p.index(pc.exact); i < 0 {
		return p.none
	}
	if !p.ok.has(i) {
		p.ok.set(i)
		s.addPending(p) // one more candidate: requeue under the new count
	}
	return p.single(&s.a, i)
}

// requirements returns the normalized requirements of version i of p.
func (s *solver) requirements(p *pkg, i int) ([]Requirement, error) {
	if p.fetched[i] {
		return p.reqs[i], nil
	}
	raw, err := s.src.Requirements(s.ctx, p.name, p.versions[i])
	if err != nil {
		return nil, fmt.Errorf("resolve: requirements of %s %s: %w", p.name, p.versions[i], err)
	}
	reqs := raw
	for j, r := range raw {
		nr, err := normalize(r)
		if err != nil {
			return nil, fmt.Errorf("resolve: requirements of %s %s: %w", p.name, p.versions[i], err)
		}
		if nr != r {
			if &reqs[0] == &raw[0] { // copy before the first change: the slice is the source's
				reqs = append([]Requirement(nil), raw...)
			}
			reqs[j] = nr
		}
	}
	p.reqs[i], p.fetched[i] = reqs, true
	return reqs, nil
}

// hasReq reports whether version i of p has a requirement identical to r
// (false when its requirements cannot be read).
func (s *solver) hasReq(p *pkg, i int, r Requirement) bool {
	reqs, err := s.requirements(p, i)
	if err != nil {
		return false
	}
	for _, o := range reqs {
		if (o.Constraint == r.Constraint || o.Raw == r.Raw) && o.Name == r.Name {
			return true
		}
	}
	return false
}

// covering finds an existing dependency incompatibility of p whose run
// covers version i and states requirement r.
func (s *solver) covering(p *pkg, i int, q *pkg, r Requirement) (int32, bool) {
	for _, id := range p.cover[i] {
		in := s.incs[id]
		if in.kind == causeSelfDep {
			if q == p && in.note == r.Raw {
				return id, true
			}
			continue
		}
		if dep := in.terms[1]; dep.pkg == q.id && dep.label == r.Raw {
			return id, true
		}
	}
	return 0, false
}

// dependencies returns the dependency incompatibilities of version i of p,
// building them on first use. Like pub's package lister, each dependency is
// widened to the run of adjacent versions that declare the very same
// requirement, so one incompatibility speaks for all of them ("foo >=1.2.0
// depends on bar ^2"), which keeps learning and explanations short.
func (s *solver) dependencies(p *pkg, i int) ([]int32, error) {
	if p.built[i] {
		return p.depIncs[i], nil
	}
	reqs, err := s.requirements(p, i)
	if err != nil {
		return nil, err
	}
	var ids []int32
	for _, r := range reqs {
		self := r.Name == p.name && p.id != rootID
		q := p
		if self {
			p.selfDeps[i] = true // a cycle of one, if chosen; reported after solving
		} else if q, err = s.lookup(r.Name); err != nil {
			return nil, err
		}
		if id, ok := s.covering(p, i, q, r); ok {
			ids = append(ids, id)
			continue
		}
		// A neighbour whose requirements cannot be read ends the run: its
		// error is reported only if that version is ever chosen.
		lo, hi := i, i
		if p.id != rootID {
			for lo > 0 && s.hasReq(p, lo-1, r) {
				lo--
			}
			for hi+1 < p.n() && s.hasReq(p, hi+1, r) {
				hi++
			}
		}
		depender := p.single(&s.a, lo)
		if hi > lo {
			depender = s.a.bits(p.n())
			for j := lo; j <= hi; j++ {
				depender.set(j)
			}
		}
		dependee := s.constraintSet(q, r)
		in := s.a.newIncompat()
		if self {
			// A version that requires its own package can only be chosen
			// if it meets that requirement itself.
			bad := s.a.andNot(depender, dependee)
			in.terms = append(s.a.termSlice(1), term{pkg: p.id, pos: true, set: bad})
			in.kind, in.note = causeSelfDep, r.Raw
		} else {
			dep := term{pkg: q.id, pos: false, set: dependee, label: r.Raw}
			in.terms = append(s.a.termSlice(2), term{pkg: p.id, pos: true, set: depender}, dep)
			in.kind = causeDependency
			if dependee.empty() {
				in.note = s.yankedNote(q, dep)
			}
		}
		var id int32
		if self && in.terms[0].set.empty() {
			id = s.store(in) // never satisfied: kept only so the run is not built twice
		} else {
			id = s.addIncompat(in)
		}
		for j := lo; j <= hi; j++ {
			p.cover[j] = append(p.cover[j], id)
		}
		ids = append(ids, id)
	}
	p.depIncs[i], p.built[i] = ids, true
	return ids, nil
}

// spaced reports leading or trailing white space.
func spaced(s string) bool {
	return s[0] == ' ' || s[0] == '\t' || s[len(s)-1] == ' ' || s[len(s)-1] == '\t' ||
		s[0] == '\n' || s[len(s)-1] == '\n' || s[0] == '\r' || s[len(s)-1] == '\r'
}
