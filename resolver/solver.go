package resolver

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// assignment is one entry of the partial solution: a decision (cause < 0)
// or a derivation caused by an incompatibility.
type assignment struct {
	pkg   pkgID
	t     term
	acc   term // intersection of all assignments of pkg up to this one
	level int32
	cause int32
}

// solver holds one resolution. Its structure follows Dart pub's solver.md:
// unit propagation, decision making, conflict resolution with learned
// incompatibilities, and an explanation from the derivation graph.
type solver struct {
	ctx  context.Context
	src  Source
	opts Options
	a    arena

	pkgs   []*pkg
	byName map[string]pkgID
	incs   []*incompat
	parsed map[string]*parsedConstraint

	assigns []assignment
	level   int32
	// parked[l] lists incompatibilities taken out of a package's list
	// because the partial solution contradicted them at level l. They stay
	// contradicted until level l is backtracked, when they go back. Without
	// this, unit propagation re-reads every dead incompatibility of a
	// package on each change, which made long backtracking runs quadratic.
	parked  [][]parkedInc
	pending []pkgID // may hold stale entries; choose() filters them
	queue   []pkgID // unit propagation work list
	inProp  []bool

	stats struct{ decisions, conflicts, resSteps, visits, derivations int }
}

func newSolver(ctx context.Context, src Source, opts Options) (*solver, error) {
	if src == nil {
		return nil, fmt.Errorf("resolve: no package source")
	}
	if opts.RootName == "" {
		opts.RootName = "root"
	}
	s := &solver{
		ctx:    ctx,
		src:    src,
		opts:   opts,
		byName: map[string]pkgID{},
		parsed: map[string]*parsedConstraint{},
	}
	s.parked = [][]parkedInc{nil}
	return s, nil
}

// addIncompat stores in and indexes it under each of its packages.
func (s *solver) addIncompat(in *incompat) int32 {
	id := int32(len(s.incs))
	s.incs = append(s.incs, in)
	s.register(id)
	return id
}

// store keeps in for the derivation graph without indexing it.
func (s *solver) store(in *incompat) int32 {
	s.incs = append(s.incs, in)
	return int32(len(s.incs) - 1)
}

func (s *solver) register(id int32) {
	for _, t := range s.incs[id].terms {
		p := s.pkgs[t.pkg]
		p.incs = append(p.incs, id)
	}
}

func (s *solver) solve(rootReqs []Requirement) error {
	root := s.newPkg(s.opts.RootName, []Candidate{{Version: semver.New(0, 0, 0, "", "")}})
	root.allowed.set(0)
	root.ok.set(0)
	reqs := make([]Requirement, len(rootReqs))
	for i, r := range rootReqs {
		nr, err := normalize(r)
		if err != nil {
			return fmt.Errorf("resolve: root requirements: %w", err)
		}
		reqs[i] = nr
	}
	root.reqs[0], root.fetched[0] = reqs, true
	s.inProp = append(s.inProp, false)

	notRoot := s.a.newIncompat()
	notRoot.terms, notRoot.kind = []term{{pkg: rootID, pos: false, set: root.all}}, causeRoot
	s.addIncompat(notRoot)
	next := rootID
	for {
		if err := s.ctx.Err(); err != nil {
			return fmt.Errorf("resolve: %w", err)
		}
		if err := s.propagate(next); err != nil {
			return err
		}
		p, done, err := s.choose()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		next = p
	}
}

type relation uint8

const (
	relInconclusive relation = iota
	relSatisfied
	relAlmost
	relContradicted
)

// relation compares incompatibility id with the partial solution. For
// relAlmost it also returns the package of the one term left undecided.
func (s *solver) relation(in *incompat) (relation, pkgID) {
	rel, almost := relSatisfied, pkgID(-1)
	for _, t := range in.terms {
		acc, ok := s.pkgs[t.pkg].acc(s)
		switch {
		case t.tautology(): // a requirement no known version meets
			continue
		case ok && acc.subsetOf(t):
			continue
		case ok && acc.disjointWith(t):
			return relContradicted, -1
		case rel == relSatisfied:
			rel, almost = relAlmost, t.pkg
		default:
			return relInconclusive, -1
		}
	}
	return rel, almost
}

type parkedInc struct {
	pkg pkgID
	id  int32
}

// park removes entry i of p's incompatibility list (order is not kept:
// the last entry takes its place) until the current level is backtracked.
func (s *solver) park(pk *pkg, i int) {
	s.parked[s.level] = append(s.parked[s.level], parkedInc{pkg: pk.id, id: pk.incs[i]})
	last := len(pk.incs) - 1
	pk.incs[i] = pk.incs[last]
	pk.incs = pk.incs[:last]
}

func (s *solver) push(p pkgID) {
	for int(p) >= len(s.inProp) {
		s.inProp = append(s.inProp, false)
	}
	if !s.inProp[p] {
		s.inProp[p] = true
		s.queue = append(s.queue, p)
	}
}

func (s *solver) clearQueue() {
	for _, p := range s.queue {
		s.inProp[p] = false
	}
	s.queue = s.queue[:0]
}

// propagate derives everything the incompatibilities imply, starting from
// the incompatibilities of start, resolving any conflict it meets.
func (s *solver) propagate(start pkgID) error {
	s.clearQueue()
	s.push(start)
	for len(s.queue) > 0 {
		p := s.queue[len(s.queue)-1]
		s.queue = s.queue[:len(s.queue)-1]
		s.inProp[p] = false
		conflict := int32(-1)
		pk := s.pkgs[p]
		// Newest first: learned incompatibilities are the more general ones.
		// Parking swaps an already visited entry into place i.
		for i := len(pk.incs) - 1; i >= 0; i-- {
			id := pk.incs[i]
			in := s.incs[id]
			s.stats.visits++
			rel, q := s.relation(in)
			switch rel {
			case relSatisfied:
				conflict = id
			case relAlmost:
				t, _ := in.termFor(q)
				s.derive(q, t.negate(), id)
				s.park(pk, i)
				s.push(q)
			case relContradicted:
				s.park(pk, i)
			}
			if conflict >= 0 {
				break
			}
		}
		if conflict < 0 {
			continue
		}
		learned, err := s.resolveConflict(conflict)
		if err != nil {
			return err
		}
		in := s.incs[learned]
		rel, q := s.relation(in)
		if rel != relAlmost {
			return fmt.Errorf("resolve: internal error: learned incompatibility is not almost satisfied")
		}
		s.clearQueue()
		t, _ := in.termFor(q)
		s.derive(q, t.negate(), learned)
		s.push(q)
	}
	return nil
}

func (s *solver) derive(p pkgID, t term, cause int32) {
	pk := s.pkgs[p]
	acc := t
	if prev, ok := pk.acc(s); ok {
		acc = intersect(&s.a, prev, t)
	}
	s.assigns = append(s.assigns, assignment{pkg: p, t: t, acc: acc, level: s.level, cause: cause})
	pk.assigns = append(pk.assigns, int32(len(s.assigns)-1))
	if acc.pos && pk.decided < 0 {
		s.addPending(pk)
	}
}

func (s *solver) decide(pk *pkg, v int) {
	s.level++
	s.parked = append(s.parked, nil)
	t := term{pkg: pk.id, pos: true, set: s.a.singleton(pk.n(), v)}
	acc := t
	if prev, ok := pk.acc(s); ok {
		acc = intersect(&s.a, prev, t)
	}
	s.assigns = append(s.assigns, assignment{pkg: pk.id, t: t, acc: acc, level: s.level, cause: -1})
	pk.assigns = append(pk.assigns, int32(len(s.assigns)-1))
	pk.decided = v
	s.stats.decisions++
}

func (s *solver) addPending(pk *pkg) {
	if !pk.inQueue {
		pk.inQueue = true
		s.pending = append(s.pending, pk.id)
	}
}

// backtrack removes every assignment above level.
func (s *solver) backtrack(level int32) {
	for len(s.assigns) > 0 && s.assigns[len(s.assigns)-1].level > level {
		a := s.assigns[len(s.assigns)-1]
		s.assigns = s.assigns[:len(s.assigns)-1]
		pk := s.pkgs[a.pkg]
		pk.assigns = pk.assigns[:len(pk.assigns)-1]
		if a.cause < 0 {
			pk.decided = -1
		}
		if len(pk.assigns) > 0 {
			s.addPending(pk)
		}
	}
	for l := len(s.parked) - 1; l > int(level); l-- {
		for _, e := range s.parked[l] {
			pk := s.pkgs[e.pkg]
			pk.incs = append(pk.incs, e.id)
		}
		s.parked[l] = nil
	}
	s.parked = s.parked[:level+1]
	s.level = level
}

// satisfier returns the index of the earliest assignment of t's package
// after which the partial solution satisfies t (-1 for a tautology, which
// holds from the start). The accumulated terms only shrink, so the answer
// is found by binary search.
func (s *solver) satisfier(t term) int32 {
	if t.tautology() {
		return -1
	}
	as := s.pkgs[t.pkg].assigns
	i := sort.Search(len(as), func(i int) bool { return s.assigns[as[i]].acc.subsetOf(t) })
	if i == len(as) {
		return -1
	}
	return as[i]
}

// resolveConflict finds the root cause of the satisfied incompatibility id,
// backjumps, and returns the incompatibility to propagate from; when the
// root cause is the failure incompatibility it returns *NoSolutionError.
func (s *solver) resolveConflict(id int32) (int32, error) {
	cur := id
	s.stats.conflicts++
	for {
		s.stats.resSteps++
		in := s.incs[cur]
		if in.isFailure() {
			return -1, s.noSolution(cur)
		}
		sat, prev := int32(-1), int32(-1)
		var satTerm term
		for _, t := range in.terms {
			if t.tautology() {
				continue
			}
			j := s.satisfier(t)
			if j < 0 {
				return -1, fmt.Errorf("resolve: internal error: conflict term on %s is not satisfied", s.pkgs[t.pkg].name)
			}
			if j > sat {
				if sat > prev {
					prev = sat
				}
				sat, satTerm = j, t
			} else if j > prev {
				prev = j
			}
		}
		a := s.assigns[sat]
		if !a.t.subsetOf(satTerm) {
			// The satisfier only satisfies the term together with earlier
			// assignments of the same package: the earliest of those that
			// suffices is a candidate previous satisfier.
			pk := s.pkgs[a.pkg]
			for _, j := range pk.assigns {
				if j >= sat {
					break
				}
				if intersect(&s.a, s.assigns[j].acc, a.t).subsetOf(satTerm) {
					if j > prev {
						prev = j
					}
					break
				}
			}
		}
		prevLevel := int32(1)
		if prev >= 0 && s.assigns[prev].level > prevLevel {
			prevLevel = s.assigns[prev].level
		}
		if a.cause < 0 || prevLevel != a.level {
			if cur != id {
				s.register(cur)
			}
			s.backtrack(prevLevel)
			return cur, nil
		}
		next := s.a.newIncompat()
		next.terms, next.kind, next.c1, next.c2 = priorCause(&s.a, in, s.incs[a.cause], a.pkg), causeConflict, cur, a.cause
		cur = s.store(next)
	}
}

// choose makes the next decision. It picks the undecided package with a
// positive derivation and the fewest candidate versions (then by name),
// and its locked version if allowed, else its newest allowed version. It
// reports done when no such package remains.
func (s *solver) choose() (pkgID, bool, error) {
	var best *pkg
	var bestAcc term
	bestCount := 0
	for i := 0; i < len(s.pending); {
		pk := s.pkgs[s.pending[i]]
		acc, ok := pk.acc(s)
		if !ok || !acc.pos || pk.decided >= 0 {
			pk.inQueue = false
			s.pending[i] = s.pending[len(s.pending)-1]
			s.pending = s.pending[:len(s.pending)-1]
			continue
		}
		i++
		c := andCount(acc.set, pk.ok)
		if best == nil || c < bestCount || (c == bestCount && pk.name < best.name) {
			best, bestAcc, bestCount = pk, acc, c
		}
	}
	if best == nil {
		return 0, true, nil
	}
	v := andHighest(bestAcc.set, best.ok)
	if v < 0 {
		in := s.a.newIncompat()
		in.terms = append(s.a.termSlice(1), term{pkg: best.id, pos: true, set: bestAcc.set, label: bestAcc.label})
		in.kind, in.note = causeNoVersions, s.yankedNote(best, bestAcc)
		s.addIncompat(in)
		return best.id, false, nil
	}
	if l := best.locked; l >= 0 && bestAcc.set.has(l) && best.ok.has(l) {
		v = l
	}
	deps, err := s.dependencies(best, v)
	if err != nil {
		return 0, false, err
	}
	// Deciding v would immediately satisfy one of its own dependency
	// incompatibilities: leave it to propagation to rule v out instead.
	for _, id := range deps {
		if s.wouldConflict(s.incs[id], best.id) {
			return best.id, false, nil
		}
	}
	s.decide(best, v)
	return best.id, false, nil
}

// wouldConflict reports whether every term of in not about p is satisfied.
func (s *solver) wouldConflict(in *incompat, p pkgID) bool {
	for _, t := range in.terms {
		if t.pkg == p {
			continue
		}
		if t.tautology() {
			continue
		}
		acc, ok := s.pkgs[t.pkg].acc(s)
		if !ok || !acc.subsetOf(t) {
			return false
		}
	}
	return true
}

// yankedNote names the yanked versions that a failed term would have
// matched, so "no versions match" is not a mystery.
func (s *solver) yankedNote(pk *pkg, t term) string {
	var c *semver.Constraints
	if pc, ok := s.parsed[t.label]; ok && t.label != "" {
		c = pc.c
	}
	var ys []string
	for i, cand := range pk.cands {
		if !cand.Yanked || pk.ok.has(i) {
			continue
		}
		if t.set.has(i) || (c != nil && c.Check(cand.Version)) {
			ys = append(ys, cand.Version.String())
		}
	}
	switch len(ys) {
	case 0:
		return ""
	case 1:
		return ys[0] + " is yanked"
	default:
		return strings.Join(ys, ", ") + " are yanked"
	}
}
