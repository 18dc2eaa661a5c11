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

// trail is the partial solution's assignment list, stored in fixed chunks
// so that growing it never copies the (large) assignments.
type trail struct {
	chunks [][]assignment
	n      int32
	pushed int // assignments ever pushed: progress, even across backjumps
}

const trailChunk = 1 << 12

func (t *trail) at(i int32) *assignment { return &t.chunks[i/trailChunk][i%trailChunk] }

func (t *trail) push(a assignment) int32 {
	if int(t.n/trailChunk) == len(t.chunks) {
		t.chunks = append(t.chunks, make([]assignment, trailChunk))
	}
	*t.at(t.n) = a
	t.n++
	t.pushed++
	return t.n - 1
}

func (t *trail) pop() assignment {
	t.n--
	a := *t.at(t.n)
	*t.at(t.n) = assignment{} // drop references for the collector
	return a
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

	trail trail
	level int32
	// parked[l] lists incompatibilities taken out of a package's list
	// because the partial solution contradicted them at level l. They stay
	// contradicted until level l is backtracked, when they go back. Without
	// this, unit propagation re-reads every dead incompatibility of a
	// package on each change, which made long backtracking runs quadratic.
	parked  [][]parkedInc
	pending pendingHeap // packages to decide; may hold stale entries
	gen     int32       // backtrack generation, to push each package once
	touched []*pkg      // scratch for backtrack
	queue   []pkgID     // unit propagation work list
	inProp  []bool

	memo []memoSat // scratch for carrySatisfiers, by package
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
	stalled := false
	for {
		if err := s.ctx.Err(); err != nil {
			return fmt.Errorf("resolve: %w", err)
		}
		before, incs := s.trail.pushed, len(s.incs)
		if err := s.propagate(next); err != nil {
			return err
		}
		if stalled && s.trail.pushed == before && len(s.incs) == incs {
			// choose declined a version, and propagation learned nothing
			// from it: looping further would never end.
			return fmt.Errorf("resolve: internal error: no progress deciding %s", s.pkgs[next].name)
		}
		p, done, err := s.choose()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		stalled = s.pkgs[p].decided < 0
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
	pk.assigns = append(pk.assigns, s.trail.push(assignment{pkg: p, t: t, acc: acc, level: s.level, cause: cause}))
	if acc.pos && pk.decided < 0 {
		s.addPending(pk)
	}
}

func (s *solver) decide(pk *pkg, v int) {
	s.level++
	if len(s.parked) < cap(s.parked) {
		s.parked = s.parked[:len(s.parked)+1] // reuse the level's old list
		s.parked[len(s.parked)-1] = s.parked[len(s.parked)-1][:0]
	} else {
		s.parked = append(s.parked, nil)
	}
	t := term{pkg: pk.id, pos: true, set: pk.single(&s.a, v)}
	acc := t
	if prev, ok := pk.acc(s); ok {
		acc = intersect(&s.a, prev, t)
	}
	pk.assigns = append(pk.assigns, s.trail.push(assignment{pkg: pk.id, t: t, acc: acc, level: s.level, cause: -1}))
	pk.decided = v
}

// addPending queues pk for decision making under its current candidate
// count, if it has a positive derivation and no decision. Entries whose
// count has since changed are skipped when they surface.
func (s *solver) addPending(pk *pkg) {
	acc, ok := pk.acc(s)
	if !ok || !acc.pos || pk.decided >= 0 {
		return
	}
	s.pending.push(pendingEntry{count: int32(andCount(acc.set, pk.ok)), pkg: pk})
}

type pendingEntry struct {
	count int32
	pkg   *pkg
}

// pendingHeap orders packages fewest candidates first, then by name. It
// is a plain binary heap (container/heap would box every entry).
type pendingHeap []pendingEntry

func (h pendingHeap) less(i, j int) bool {
	if h[i].count != h[j].count {
		return h[i].count < h[j].count
	}
	return h[i].pkg.name < h[j].pkg.name
}

func (h *pendingHeap) push(e pendingEntry) {
	*h = append(*h, e)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (h *pendingHeap) pop() {
	q := *h
	last := len(q) - 1
	q[0] = q[last]
	q[last] = pendingEntry{}
	q = q[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(q) && q.less(l, m) {
			m = l
		}
		if r < len(q) && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	*h = q
}

// backtrack removes every assignment above level.
func (s *solver) backtrack(level int32) {
	s.gen++
	touched := s.touched[:0]
	for s.trail.n > 0 && s.trail.at(s.trail.n-1).level > level {
		a := s.trail.pop()
		pk := s.pkgs[a.pkg]
		pk.assigns = pk.assigns[:len(pk.assigns)-1]
		if a.cause < 0 {
			pk.decided = -1
		}
		if pk.gen != s.gen {
			pk.gen = s.gen
			touched = append(touched, pk)
		}
	}
	for _, pk := range touched {
		s.addPending(pk)
	}
	s.touched = touched
	for l := len(s.parked) - 1; l > int(level); l-- {
		for _, e := range s.parked[l] {
			pk := s.pkgs[e.pkg]
			pk.incs = append(pk.incs, e.id)
		}
		s.parked[l] = s.parked[l][:0]
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
	i := sort.Search(len(as), func(i int) bool { return s.trail.at(as[i]).acc.subsetOf(t) })
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
	// sats[k] is the satisfier of the k-th term of the current
	// incompatibility. Most terms pass unchanged from one prior cause to
	// the next, so their satisfiers are carried over instead of searched
	// again: long resolutions build incompatibilities of hundreds of terms.
	var sats []int32
	for {
		in := s.incs[cur]
		if in.isFailure() {
			return -1, s.noSolution(cur)
		}
		if sats == nil {
			sats = make([]int32, len(in.terms))
			for k, t := range in.terms {
				sats[k] = s.satisfier(t)
			}
		}
		sat, prev := int32(-1), int32(-1)
		var satTerm term
		for k, t := range in.terms {
			if t.tautology() {
				continue
			}
			j := sats[k]
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
		a := *s.trail.at(sat)
		if !a.t.subsetOf(satTerm) {
			// The satisfier only satisfies the term together with earlier
			// assignments of the same package: the earliest of those that
			// suffices is a candidate previous satisfier.
			pk := s.pkgs[a.pkg]
			for _, j := range pk.assigns {
				if j >= sat {
					break
				}
				if intersect(&s.a, s.trail.at(j).acc, a.t).subsetOf(satTerm) {
					if j > prev {
						prev = j
					}
					break
				}
			}
		}
		prevLevel := int32(1)
		if prev >= 0 && s.trail.at(prev).level > prevLevel {
			prevLevel = s.trail.at(prev).level
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
		sats = s.carrySatisfiers(in.terms, sats, next.terms)
		cur = s.store(next)
	}
}

// carrySatisfiers returns the satisfiers of terms, reusing those of the
// terms of old that passed through unchanged (same set, by identity).
func (s *solver) carrySatisfiers(old []term, oldSats []int32, terms []term) []int32 {
	for len(s.memo) < len(s.pkgs) {
		s.memo = append(s.memo, memoSat{})
	}
	for k, t := range old {
		s.memo[t.pkg] = memoSat{t: t, sat: oldSats[k], ok: true}
	}
	sats := make([]int32, len(terms))
	for k, t := range terms {
		if m := s.memo[t.pkg]; m.ok && m.t.pos == t.pos && sameSet(m.t.set, t.set) {
			sats[k] = m.sat
		} else {
			sats[k] = s.satisfier(t)
		}
	}
	for _, t := range old {
		s.memo[t.pkg] = memoSat{}
	}
	return sats
}

type memoSat struct {
	t   term
	sat int32
	ok  bool
}

// sameSet reports that a and b are the very same bitset.
func sameSet(a, b bitset) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// choose makes the next decision. It picks the undecided package with a
// positive derivation and the fewest candidate versions (then by name),
// and its locked version if allowed, else its newest allowed version. It
// reports done when no such package remains.
func (s *solver) choose() (pkgID, bool, error) {
	var best *pkg
	var bestAcc term
	for len(s.pending) > 0 {
		e := s.pending[0]
		acc, ok := e.pkg.acc(s)
		if !ok || !acc.pos || e.pkg.decided >= 0 || int32(andCount(acc.set, e.pkg.ok)) != e.count {
			s.pending.pop()
			continue
		}
		best, bestAcc = e.pkg, acc
		break
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
	if best.tried >= 0 && best.tried != v {
		if best.fallbacks++; best.fallbacks >= eagerAfter && !best.eager {
			s.loadAll(best)
		}
	}
	best.tried = v
	deps, err := s.dependencies(best, v)
	if err != nil {
		return 0, false, err
	}
	// Deciding v would immediately satisfy one of its own dependency
	// incompatibilities: leave it to propagation to rule v out instead.
	for _, id := range deps {
		if s.wouldConflict(s.incs[id], best.id, v) {
			return best.id, false, nil
		}
	}
	s.decide(best, v)
	return best.id, false, nil
}

// eagerAfter is how many times a package must fall back to another
// version before loadAll loads all of its versions' dependencies.
const eagerAfter = 4

// loadAll builds the dependency incompatibilities of every selectable
// version of p. PubGrub loads dependencies lazily, one decided version at a
// time; but a package that keeps falling back to older versions tends to
// go on doing so, and when each version fails for its own reason (the
// solana-style "=x.y.z" lockstep chains) learning cannot cover several
// versions at once, so ruling them out one decision at a time costs a full
// descent per version. With every version's dependencies known, unit
// propagation rules them out without deciding them (DisjointVersions300x200:
// 60,000 decisions become 1,500). Loading them all as soon as a package
// falls back made ordinary registries slower (Random2000x20: more
// incompatibilities to propagate), hence eagerAfter, chosen by measuring
// both. Errors are left for lazy loading to report, should the version
// ever be chosen.
func (s *solver) loadAll(p *pkg) {
	p.eager = true
	for i := p.n() - 1; i >= 0; i-- {
		if p.ok.has(i) && !p.built[i] {
			if _, err := s.dependencies(p, i); err != nil {
				continue
			}
		}
	}
}

// wouldConflict reports whether deciding version v of p would satisfy in.
func (s *solver) wouldConflict(in *incompat, p pkgID, v int) bool {
	for _, t := range in.terms {
		if t.pkg == p {
			if t.set.has(v) != t.pos {
				return false
			}
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
