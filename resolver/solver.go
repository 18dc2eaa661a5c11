package resolver

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// assignment is one entry of the partial solution: a decision (cause < 0)
// or a derivation caused by an incompatibility. Only the accumulated term
// is stored: the assignment's own term follows from the others (see term),
// and a solve can hold tens of thousands of assignments at once.
type assignment struct {
	acc   term // intersection of all assignments of acc.pkg up to this one
	level int32
	cause int32
}

// term returns what assignment a itself says. A derivation is the negation
// of its cause's term on the package; a decision {v} is its own
// accumulation, since v is chosen from the versions still allowed.
func (s *solver) term(a *assignment) term {
	if a.cause < 0 {
		return a.acc
	}
	t, _ := s.incs.at(a.cause).termFor(a.acc.pkg)
	return t.negate()
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
	incs   incStore
	notes  []string // incompat notes by index; notes[0] is ""
	parsed map[string]*parsedConstraint
	shapes map[int]*shape // by version count
	last   *pkg           // lookup's last answer
	labels []string       // term labels by labelID; labels[0] is ""
	// cur[p] is package p's accumulated term: the acc of its last
	// assignment, kept here because unit propagation reads it for every
	// term it looks at, and going through the trail for it cost a chain
	// of cache misses each time.
	cur     []curAcc
	depPool []int32 // every version's dependency incompatibilities, see verState

	trail trail
	level int32
	// parked lists incompatibilities taken out of a package's list because
	// the partial solution contradicted them, those of level l from
	// parkedAt[l] on. They stay contradicted until their level is
	// backtracked, when they go back. Without this, unit propagation
	// re-reads every dead incompatibility of a package on each change,
	// which made long backtracking runs quadratic. One stack, rather than
	// a list per level, so that it is allocated once.
	parked   []parkedInc
	parkedAt []int
	pending  pendingHeap // packages to decide; may hold stale entries
	gen      int32       // backtrack generation, to push each package once
	touched  []*pkg      // scratch for backtrack
	queue    []pkgID     // unit propagation work list
	inProp   []bool

	conflict conflict // scratch for resolveConflict
	replay   conflict // scratch for terms
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
		shapes: map[int]*shape{},
	}
	s.parkedAt = []int{0}
	s.labels = []string{""}
	s.notes = []string{""}
	s.a.alloc(1) // so that no set has id 0, which shape.singles uses for "not built"
	return s, nil
}

// newIncompat stores a new incompatibility, to be filled in. It is kept
// for the derivation graph; register also indexes it for propagation.
func (s *solver) newIncompat() (int32, *incompat) { return s.incs.add() }

// setNote records extra words for in.
func (s *solver) setNote(in *incompat, note string) {
	if note == "" {
		in.note = 0
		return
	}
	in.note = int32(len(s.notes))
	s.notes = append(s.notes, note)
}

func (s *solver) register(id int32) {
	for _, t := range s.incs.at(id).terms {
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
	vs := root.state(0)
	vs.reqs, vs.fetched = reqs, true
	s.inProp = append(s.inProp, false)

	id, notRoot := s.newIncompat()
	notRoot.terms, notRoot.kind = []term{{pkg: rootID, pos: false, set: root.all}}, causeRoot
	s.register(id)
	next := rootID
	stalled := false
	for {
		if err := s.ctx.Err(); err != nil {
			return fmt.Errorf("resolve: %w", err)
		}
		before, incs := s.trail.pushed, s.incs.len()
		if err := s.propagate(next); err != nil {
			return err
		}
		if stalled && s.trail.pushed == before && s.incs.len() == incs {
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

type curAcc struct {
	t  term
	ok bool
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
		c := &s.cur[t.pkg]
		acc, ok := c.t, c.ok
		switch {
		case t.tautology(): // a requirement no known version meets
			continue
		case ok && s.a.subset(acc, t):
			continue
		case ok && s.a.disjointWith(acc, t):
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
	s.parked = append(room(s.parked), parkedInc{pkg: pk.id, id: pk.incs[i]})
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
			in := s.incs.at(id)
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
		in := s.incs.at(learned)
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
		acc = s.a.intersect(prev, t)
	}
	pk.assigns = append(pk.assigns, s.trail.push(assignment{acc: acc, level: s.level, cause: cause}))
	s.cur[p] = curAcc{t: acc, ok: true}
	if acc.pos && pk.decided < 0 {
		s.addPending(pk)
	}
}

func (s *solver) decide(pk *pkg, v int) {
	s.level++
	s.parkedAt = append(s.parkedAt, len(s.parked))
	// choose picked v among the versions pk's accumulated term allows, so
	// the new accumulation is {v} itself, which s.term relies on.
	t := term{pkg: pk.id, pos: true, set: pk.single(&s.a, v)}
	pk.assigns = append(pk.assigns, s.trail.push(assignment{acc: t, level: s.level, cause: -1}))
	s.cur[pk.id] = curAcc{t: t, ok: true}
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
	s.pending.push(pendingEntry{count: int32(andCount(s.a.of(acc), pk.ok)), pkg: pk})
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
		pk := s.pkgs[a.acc.pkg]
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
		if n := len(pk.assigns); n > 0 {
			s.cur[pk.id] = curAcc{t: s.trail.at(pk.assigns[n-1]).acc, ok: true}
		} else {
			s.cur[pk.id] = curAcc{}
		}
		s.addPending(pk)
	}
	s.touched = touched
	// Levels are restored newest first, each in parking order.
	end := len(s.parked)
	for l := len(s.parkedAt) - 1; l > int(level); l-- {
		for _, e := range s.parked[s.parkedAt[l]:end] {
			pk := s.pkgs[e.pkg]
			pk.incs = append(pk.incs, e.id)
		}
		end = s.parkedAt[l]
	}
	s.parked = s.parked[:end]
	s.parkedAt = s.parkedAt[:level+1]
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
	i := sort.Search(len(as), func(i int) bool { return s.a.subset(s.trail.at(as[i]).acc, t) })
	if i == len(as) {
		return -1
	}
	return as[i]
}

// resolveConflict finds the root cause of the satisfied incompatibility id,
// backjumps, and returns the incompatibility to propagate from; when the
// root cause is the failure incompatibility it returns *NoSolutionError.
func (s *solver) resolveConflict(id int32) (int32, error) {
	c := &s.conflict
	c.load(s, s.incs.at(id))
	cur := id
	for {
		if c.failure() {
			return -1, s.noSolution(cur)
		}
		sat, satTerm, prev, err := c.satisfiers(s)
		if err != nil {
			return -1, err
		}
		a := *s.trail.at(sat)
		if at := s.term(&a); !s.a.subset(at, satTerm) {
			// The satisfier only satisfies the term together with earlier
			// assignments of the same package: the earliest of those that
			// suffices is a candidate previous satisfier. Accumulated terms
			// only shrink, so it is found by binary search.
			as := s.pkgs[a.acc.pkg].assigns
			before := sort.Search(len(as), func(i int) bool { return as[i] >= sat })
			k := sort.Search(before, func(i int) bool { return s.a.meetSubset(s.trail.at(as[i]).acc, at, satTerm) })
			if k < before && as[k] > prev {
				prev = as[k]
			}
		}
		prevLevel := int32(1)
		if prev >= 0 && s.trail.at(prev).level > prevLevel {
			prevLevel = s.trail.at(prev).level
		}
		if a.cause < 0 || prevLevel != a.level {
			if cur != id {
				s.incs.at(cur).terms = c.materialize(&s.a)
				s.register(cur)
			}
			s.backtrack(prevLevel)
			return cur, nil
		}
		c.resolve(s, s.incs.at(a.cause), a.acc.pkg)
		nid, next := s.newIncompat()
		next.kind, next.c1, next.c2, next.pivot = causeConflict, cur, a.cause, a.acc.pkg
		cur = nid
	}
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
		if !ok || !acc.pos || e.pkg.decided >= 0 || int32(andCount(s.a.of(acc), e.pkg.ok)) != e.count {
			s.pending.pop()
			continue
		}
		best, bestAcc = e.pkg, acc
		break
	}
	if best == nil {
		return 0, true, nil
	}
	v := andHighest(s.a.of(bestAcc), best.ok)
	if v < 0 {
		id, in := s.newIncompat()
		in.terms = append(s.a.termSlice(1), term{pkg: best.id, pos: true, set: bestAcc.set, label: bestAcc.label})
		in.kind = causeNoVersions
		s.setNote(in, s.yankedNote(best, bestAcc))
		s.register(id)
		return best.id, false, nil
	}
	if l := best.locked; l >= 0 && s.a.of(bestAcc).has(l) && best.ok.has(l) {
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
		if s.wouldConflict(s.incs.at(id), best.id, v) {
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
		if p.ok.has(i) && !p.state(i).built {
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
			if s.a.of(t).has(v) != t.pos {
				return false
			}
			continue
		}
		if t.tautology() {
			continue
		}
		acc, ok := s.pkgs[t.pkg].acc(s)
		if !ok || !s.a.subset(acc, t) {
			return false
		}
	}
	return true
}

// yankedNote names the yanked versions that a failed term would have
// matched, so "no versions match" is not a mystery.
func (s *solver) yankedNote(pk *pkg, t term) string {
	var c *semver.Constraints
	if pc, ok := s.parsed[s.labels[t.label]]; ok && t.label != 0 {
		c = pc.c
	}
	set := s.a.of(t)
	var ys []string
	for i, cand := range pk.cands {
		if !cand.Yanked || pk.ok.has(i) {
			continue
		}
		if set.has(i) || (c != nil && c.Check(cand.Version)) {
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
