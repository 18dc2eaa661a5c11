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
	id    pkgID
	name  string
	cands []Candidate // ascending
	shape *shape      // the sets every package with this many versions shares
	all   setID       // every known version (shape.all)
	// allowed holds the versions a non-exact requirement may match: not
	// yanked, or yanked but locked or pinned. ok adds the yanked versions
	// named exactly by a requirement seen so far: what a decision may pick.
	// Unlike the sets of terms, these two change, so they are not setIDs.
	allowed   bitset
	ok        bitset
	locked    int // version index, or -1
	pinned    int // version index, or -1
	pinnedVer *semver.Version

	vers    []verState                  // per version, allocated on first use
	cover   [][]int32                   // per version: runs of two or more versions covering it; nil until there is one
	sets    map[*parsedConstraint]setID // requirement sets, by constraint; nil until needed
	relKeys []uint64                    // packKey of each release version, ascending; built on first use
	relWide [][3]uint64                 // instead of relKeys when some version's numbers do not fit packKey
	relPos  []int32                     // version index of each release version; nil when they are all releases
	pre     []int                       // indexes of prerelease versions, built with relKeys
	relDone bool                        // relKeys (or relWide), relPos and pre are built

	// Solver state.
	assigns   []int32 // indexes into solver.trail, oldest first
	decided   int     // version index, or -1
	incs      []int32 // incompatibilities mentioning this package
	gen       int32   // last backtrack generation that touched it
	tried     int     // version index last decided, or -1
	fallbacks int     // decisions at a version other than the one tried before
	eager     bool    // every version's dependencies are loaded (see loadAll)
}

// verState is what the solver has learned about one version. It is one
// struct per version, rather than a slice per field, because registries
// with tens of thousands of versions made those slices a large share of
// the allocations.
type verState struct {
	reqs    []Requirement // normalized; valid when fetched
	depOff  int32         // its dependency incompatibilities: solver.depPool[depOff:depOff+depN]
	depN    int32
	fetched bool
	built   bool
}

// shape holds the immutable sets that depend only on a version count, so
// packages of the same size share them: the singletons alone were one
// allocation per version.
type shape struct {
	all     setID
	singles []setID // singles[i] = {i}; 0 until built (the arena never hands out 0)
}

func (p *pkg) n() int { return len(p.cands) }

// w returns how many words p's sets have.
func (p *pkg) w() int { return (len(p.cands) + 63) / 64 }

// ver returns the i-th version.
func (p *pkg) ver(i int) *semver.Version { return p.cands[i].Version }

// single returns the shared set {i}.
func (p *pkg) single(a *arena, i int) setID {
	sh := p.shape
	if sh.singles == nil {
		sh.singles = make([]setID, p.n())
	}
	if sh.singles[i] == 0 {
		sh.singles[i] = a.singleton(p.n(), i)
	}
	return sh.singles[i]
}

// state returns the solver's record of version i.
func (p *pkg) state(i int) *verState {
	if p.vers == nil {
		p.vers = make([]verState, p.n())
	}
	return &p.vers[i]
}

func (p *pkg) acc(s *solver) (term, bool) {
	c := &s.cur[p.id]
	return c.t, c.ok
}

// lookup returns the package called name, loading its versions on first use.
func (s *solver) lookup(name string) (*pkg, error) {
	// Consecutive requirements mostly name the same package (every
	// version of a package lists much the same dependencies), so the last
	// answer is checked before the map.
	if s.last != nil && s.last.name == name {
		return s.last, nil
	}
	if id, ok := s.byName[name]; ok {
		s.last = s.pkgs[id]
		return s.last, nil
	}
	list, err := s.src.Versions(s.ctx, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("resolve: list versions of %s: %w", name, err)
	}
	if err != nil {
		list = nil
	}
	// The common list, release versions in ascending order, is recognized
	// in one pass that also builds the release keys, touching each version
	// once: on registries of tens of thousands of versions, reading them
	// is most of the cost of loading a package.
	keys, fast := make([]uint64, len(list)), true
	for i, c := range list {
		v := c.Version
		if v == nil {
			return nil, fmt.Errorf("resolve: list versions of %s: a candidate has no version", name)
		}
		if fast {
			k, ok := packKey(v.Major(), v.Minor(), v.Patch())
			if fast = ok && v.Prerelease() == "" && (i == 0 || k > keys[i-1]); fast {
				keys[i] = k
			}
		}
	}
	// The list is the source's: sort a copy, and only when needed.
	cands := list
	if !fast {
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
	}
	p := s.newPkg(name, cands)
	if fast {
		p.relKeys, p.relDone = keys, true
	}
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
			other = s.a.andNot(p.all, p.single(&s.a, p.pinned), p.w())
		}
		if other != emptySet {
			id, in := s.newIncompat()
			in.terms = []term{{pkg: p.id, pos: true, set: other}}
			in.kind = causePinned
			s.setNote(in, p.pinnedVer.String())
			s.register(id)
		}
	}
	return p, nil
}

func (s *solver) newPkg(name string, cands []Candidate) *pkg {
	n := len(cands)
	sh := s.shapes[n]
	if sh == nil {
		sh = &shape{all: s.a.full(n)}
		s.shapes[n] = sh
	}
	s.a.addPkg(n)
	w := (n + 63) / 64
	_, words := s.a.alloc(2 * w) // allowed and ok, one allocation
	p := &pkg{
		id:      pkgID(len(s.pkgs)),
		name:    name,
		cands:   cands,
		shape:   sh,
		all:     sh.all,
		allowed: words[:w:w],
		ok:      words[w:],
		locked:  -1,
		pinned:  -1,
		tried:   -1,
		decided: -1,
	}
	s.pkgs = append(s.pkgs, p)
	s.cur = append(s.cur, curAcc{})
	if name != "" && pkgID(len(s.pkgs)-1) != rootID {
		s.byName[name] = p.id
	}
	return p
}

// index finds v among the versions, or -1.
func (p *pkg) index(v *semver.Version) int {
	i := sort.Search(p.n(), func(i int) bool { return !p.ver(i).LessThan(v) })
	if i < p.n() && p.ver(i).Equal(v) {
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

// constraintSet returns the versions of p that a requirement accepts (pc,
// parsed from c): those Check accepts, minus yanked ones unless locked,
// pinned, or named exactly.
func (s *solver) constraintSet(p *pkg, pc *parsedConstraint, c *semver.Constraints) setID {
	if pc.exact != nil {
		return s.exactSet(p, pc)
	}
	if set, ok := p.sets[pc]; ok {
		return set
	}
	id, m := s.matchSetID(p, pc, c)
	for i := range m {
		m[i] &= p.allowed[i]
	}
	set := s.a.seal(id, m)
	if p.sets == nil {
		p.sets = map[*parsedConstraint]setID{}
	}
	p.sets[pc] = set
	return set
}

// exactSet is constraintSet for an exact requirement ("=1.2.3"): at most
// its own version, which it may take even when yanked. These are cheap to
// build and rarely shared, so they are not cached.
func (s *solver) exactSet(p *pkg, pc *parsedConstraint) setID {
	// For an exact constraint Masterminds' Check is Version.Equal (build
	// metadata ignored), so the version's position decides it; for a
	// release version the position comes from the release numbers alone.
	var i int
	if pc.exact.Prerelease() == "" {
		j := p.releaseLowerBound(pc.exact)
		if j == p.releases() || p.relKey(j) != [3]uint64{pc.exact.Major(), pc.exact.Minor(), pc.exact.Patch()} {
			return emptySet
		}
		i = p.relAt(j)
	} else if i = p.index(pc.exact); i < 0 {
		return emptySet
	}
	if !p.ok.has(i) {
		p.ok.set(i)
		s.addPending(p) // one more candidate: requeue under the new count
	}
	return p.single(&s.a, i)
}

// requirements returns the normalized requirements of version i of p.
func (s *solver) requirements(p *pkg, i int) ([]Requirement, error) {
	vs := p.state(i)
	if vs.fetched {
		return vs.reqs, nil
	}
	raw, err := s.src.Requirements(s.ctx, p.name, p.ver(i))
	if err != nil {
		return nil, fmt.Errorf("resolve: requirements of %s %s: %w", p.name, p.ver(i), err)
	}
	reqs := raw
	for j, r := range raw {
		nr, err := normalize(r)
		if err != nil {
			return nil, fmt.Errorf("resolve: requirements of %s %s: %w", p.name, p.ver(i), err)
		}
		if nr != r {
			if &reqs[0] == &raw[0] { // copy before the first change: the slice is the source's
				reqs = append([]Requirement(nil), raw...)
			}
			reqs[j] = nr
		}
	}
	vs.reqs, vs.fetched = reqs, true
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

// covering finds an existing dependency incompatibility of p for
// requirement r of version i: one among built (those already built for
// i's earlier requirements, should r be listed twice), or a run of several
// versions that covers i. A run of one version is only ever built by that
// version itself, so only longer runs are indexed.
func (s *solver) covering(p *pkg, i int, q *pkg, r Requirement, label labelID, built []int32) (int32, bool) {
	match := func(id int32) bool {
		in := s.incs.at(id)
		if in.kind == causeSelfDep {
			return q == p && s.notes[in.note] == r.Raw
		}
		dep := in.terms[1]
		return dep.pkg == q.id && dep.label == label
	}
	for _, id := range built {
		if match(id) {
			return id, true
		}
	}
	if p.cover != nil {
		for _, id := range p.cover[i] {
			if match(id) {
				return id, true
			}
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
	vs := p.state(i)
	if vs.built {
		return s.depPool[vs.depOff : vs.depOff+vs.depN : vs.depOff+vs.depN], nil
	}
	reqs, err := s.requirements(p, i)
	if err != nil {
		return nil, err
	}
	// The ids go to the end of depPool; nothing below builds another
	// version's dependencies, so they stay contiguous.
	off := len(s.depPool)
	for _, r := range reqs {
		q := p
		self := r.Name == p.name && p.id != rootID
		if !self {
			if q, err = s.lookup(r.Name); err != nil {
				s.depPool = s.depPool[:off]
				return nil, err
			}
		}
		pc := s.parseConstraint(r.Raw, r.Constraint)
		if id, ok := s.covering(p, i, q, r, pc.label, s.depPool[off:]); ok {
			s.depPool = append(room(s.depPool), id)
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
			var b bitset
			depender, b = s.a.alloc(p.w())
			for j := lo; j <= hi; j++ {
				b.set(j)
			}
		}
		dependee := s.constraintSet(q, pc, r.Constraint)
		id, in := s.newIncompat()
		if self {
			// A version that requires its own package can only be chosen
			// if it meets that requirement itself.
			bad := s.a.andNot(depender, dependee, p.w())
			in.terms = append(s.a.termSlice(1), term{pkg: p.id, pos: true, set: bad})
			in.kind = causeSelfDep
			s.setNote(in, r.Raw)
		} else {
			dep := term{pkg: q.id, pos: false, set: dependee, label: pc.label}
			in.terms = append(s.a.termSlice(2), term{pkg: p.id, pos: true, set: depender}, dep)
			in.kind = causeDependency
			if dependee == emptySet {
				s.setNote(in, s.yankedNote(q, dep))
			}
		}
		// A self-dependency every version of the run meets is never
		// satisfied: it is kept only so the run is not built twice.
		if !self || in.terms[0].set != emptySet {
			s.register(id)
		}
		if hi > lo {
			if p.cover == nil {
				p.cover = make([][]int32, p.n())
			}
			for j := lo; j <= hi; j++ {
				p.cover[j] = append(p.cover[j], id)
			}
		}
		s.depPool = append(room(s.depPool), id)
	}
	vs.depOff, vs.depN, vs.built = int32(off), int32(len(s.depPool)-off), true
	return s.depPool[off:len(s.depPool):len(s.depPool)], nil
}

// spaced reports leading or trailing white space.
func spaced(s string) bool {
	return s[0] == ' ' || s[0] == '\t' || s[len(s)-1] == ' ' || s[len(s)-1] == '\t' ||
		s[0] == '\n' || s[len(s)-1] == '\n' || s[0] == '\r' || s[len(s)-1] == '\r'
}
