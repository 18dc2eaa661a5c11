package resolver

import "fmt"

// conflict is the incompatibility that conflict resolution is deriving,
// kept by package. Each resolution step replaces it with its prior cause
// (see resolve), which changes only the terms the step's cause mentions;
// rebuilding the whole incompatibility at each step made long resolutions
// quadratic (ChainMissingDistinct200x99 derives 20,000 incompatibilities
// of up to 200 terms each). The steps' incompatibilities are stored
// without terms, which solver.terms rebuilds should an explanation need
// them; the one learned is materialized.
type conflict struct {
	terms []cterm // in order (see resolve); dead entries are skipped
	at    []int32 // by package: index of its live term in terms, or -1
	heap  []csat  // satisfiers of live terms, latest first; stale entries are skipped
	live  int
	stamp int32
	// replay: rebuilding the terms of earlier steps (solver.terms), which
	// needs no satisfiers.
	replay bool
}

type cterm struct {
	t     term
	sat   int32 // index of the term's satisfier in the trail
	stamp int32 // matches the csat entry that is current
	dead  bool
}

type csat struct {
	sat, idx, stamp int32
}

// load makes the conflict in, which the partial solution satisfies.
func (c *conflict) load(s *solver, in *incompat) {
	for _, ct := range c.terms {
		c.at[ct.t.pkg] = -1
	}
	for len(c.at) < len(s.pkgs) {
		c.at = append(c.at, -1)
	}
	c.terms, c.heap, c.live = c.terms[:0], c.heap[:0], 0
	for _, t := range in.terms {
		// Tautologies take no part in finding satisfiers, and the first
		// step drops them anyway.
		if !t.tautology() {
			c.add(s, t)
		}
	}
}

func (c *conflict) add(s *solver, t term) {
	c.terms = append(c.terms, cterm{})
	c.at[t.pkg] = int32(len(c.terms) - 1)
	c.live++
	c.set(s, len(c.terms)-1, t)
}

// set replaces term i with t, finding its satisfier if t differs.
func (c *conflict) set(s *solver, i int, t term) {
	ct := &c.terms[i]
	if c.replay {
		ct.t = t
		return
	}
	if ct.stamp != 0 && ct.t.pos == t.pos && ct.t.set == t.set {
		ct.t = t // the same set: the satisfier stands
		return
	}
	c.stamp++
	ct.t, ct.sat, ct.stamp = t, s.satisfier(t), c.stamp
	c.push(csat{sat: ct.sat, idx: int32(i), stamp: c.stamp})
}

func (c *conflict) remove(i int) {
	ct := &c.terms[i]
	ct.dead = true
	c.at[ct.t.pkg] = -1
	c.live--
}

// failure reports the incompatibility that ends solving: no terms, or only
// "root is selected" (as incompat.isFailure).
func (c *conflict) failure() bool {
	if c.live == 0 {
		return true
	}
	r := c.at[rootID]
	return c.live == 1 && r >= 0 && c.terms[r].t.pos
}

// rootPos reports the index of a positive root term, if any.
func (c *conflict) rootPos() (int, bool) {
	r := c.at[rootID]
	return int(r), r >= 0 && c.terms[r].t.pos
}

// resolve applies generalized resolution: from the conflict {t1, q...} and
// cause {t2, r...}, both mentioning p, it derives {t1 ∪ t2, q..., r...},
// where terms on the same other package are intersected, a tautological
// term is dropped, and the positive root term is dropped unless it is
// alone. Terms keep their places, new ones follow in the cause's order:
// the order shapes the wording of explanations. (priorCause, in the
// tests, is the same rule written out over whole incompatibilities.)
func (c *conflict) resolve(s *solver, cause *incompat, p pkgID) {
	t2, _ := cause.termFor(p)
	i := int(c.at[p])
	if u := s.a.union(c.terms[i].t, t2); u.tautology() {
		c.remove(i)
	} else {
		c.set(s, i, u)
	}
	for _, t := range cause.terms {
		if t.pkg == p || t.tautology() {
			continue
		}
		if j := c.at[t.pkg]; j >= 0 {
			c.set(s, int(j), s.a.intersect(c.terms[j].t, t))
		} else {
			c.add(s, t)
		}
	}
	if r, ok := c.rootPos(); ok && c.live > 1 {
		c.remove(r)
	}
}

// satisfiers returns the latest satisfier of the live terms, that term, and
// the latest satisfier among the others (-1 when there is none).
func (c *conflict) satisfiers(s *solver) (int32, term, int32, error) {
	first, ok := c.top()
	if !ok {
		return -1, term{}, -1, fmt.Errorf("resolve: internal error: conflict without terms")
	}
	if first.sat < 0 {
		t := c.terms[first.idx].t
		return -1, term{}, -1, fmt.Errorf("resolve: internal error: conflict term on %s is not satisfied", s.pkgs[t.pkg].name)
	}
	c.pop()
	prev := int32(-1)
	if second, ok := c.top(); ok {
		prev = second.sat
	}
	c.push(first)
	return first.sat, c.terms[first.idx].t, prev, nil
}

// materialize returns the live terms, in order, in the arena; never nil,
// which marks a step whose terms are not built.
func (c *conflict) materialize(a *arena) []term {
	if c.live == 0 {
		return []term{}
	}
	terms := a.termSlice(c.live)
	for _, ct := range c.terms {
		if !ct.dead {
			terms = append(terms, ct.t)
		}
	}
	return terms
}

// A binary max-heap of satisfiers. An entry is stale once its term changed
// or died; top drops those it finds.

func (c *conflict) valid(e csat) bool {
	ct := &c.terms[e.idx]
	return !ct.dead && ct.stamp == e.stamp
}

func (c *conflict) top() (csat, bool) {
	for len(c.heap) > 0 {
		if e := c.heap[0]; c.valid(e) {
			return e, true
		}
		c.pop()
	}
	return csat{}, false
}

func (c *conflict) push(e csat) {
	c.heap = append(c.heap, e)
	h := c.heap
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if h[parent].sat >= h[i].sat {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (c *conflict) pop() {
	h := c.heap
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].sat > h[m].sat {
			m = l
		}
		if r < len(h) && h[r].sat > h[m].sat {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	c.heap = h
}

// terms returns the terms of incompatibility id, rebuilding those of lazy
// conflict resolution steps (see conflict) from the nearest earlier step
// that has them. Along the way every checkpointEvery-th step keeps its
// terms, so that an explanation, which asks for a few hundred steps of a
// chain of thousands, rebuilds each from close by without keeping all.
func (s *solver) terms(id int32) []term {
	in := s.incs.at(id)
	if in.terms != nil || in.kind != causeConflict {
		return in.terms
	}
	chain := []int32{id}
	for {
		prior := s.incs.at(chain[len(chain)-1]).c1
		if p := s.incs.at(prior); p.terms != nil || p.kind != causeConflict {
			break
		}
		chain = append(chain, prior)
	}
	r := &s.replay
	r.replay = true
	r.load(s, s.incs.at(s.incs.at(chain[len(chain)-1]).c1))
	for k := len(chain) - 1; k >= 0; k-- {
		step := s.incs.at(chain[k])
		r.resolve(s, s.incs.at(step.c2), step.pivot)
		if k == 0 || (len(chain)-k)%checkpointEvery == 0 {
			step.terms = r.materialize(&s.a)
		}
	}
	return in.terms
}

const checkpointEvery = 64
