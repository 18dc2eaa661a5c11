package resolver

import (
	"context"
	"math/rand/v2"
	"testing"
)

// priorCause is conflict.resolve written out over whole incompatibilities,
// as the solver once did at every step: from {t1, q...} (in) and
// {t2, r...} (cause), both mentioning p, derive {t1 ∪ t2, q..., r...},
// where terms on the same other package are intersected, a tautological
// term is dropped, and the positive root term is dropped unless it is alone.
func priorCause(ar *arena, in, cause *incompat, p pkgID) []term {
	var terms []term
	t2, _ := cause.termFor(p)
	for _, t := range in.terms {
		if t.pkg == p {
			if u := ar.union(t, t2); !u.tautology() {
				terms = append(terms, u)
			}
			continue
		}
		if !t.tautology() {
			terms = append(terms, t)
		}
	}
next:
	for _, t := range cause.terms {
		if t.pkg == p || t.tautology() {
			continue
		}
		for i := range terms {
			if terms[i].pkg == t.pkg {
				terms[i] = ar.intersect(terms[i], t)
				continue next
			}
		}
		terms = append(terms, t)
	}
	if len(terms) > 1 {
		kept := terms[:0]
		for _, t := range terms {
			if !(t.pkg == rootID && t.pos) {
				kept = append(kept, t)
			}
		}
		terms = kept
	}
	return terms
}

// Conflict resolution updates its incompatibility in place and leaves the
// steps' terms to be rebuilt on demand; every derived incompatibility, the
// learned ones and the rebuilt ones alike, must say what priorCause says.
func TestConflictStepsMatchPriorCause(t *testing.T) {
	type registry struct {
		name string
		src  *memSource
		root []Requirement
		opts Options
	}
	var regs []registry
	for _, c := range solverMDCases {
		regs = append(regs, registry{"solver.md " + c.name, parseSource(t, c.registry), mustReqs(t, c.root), c.opts})
	}
	// A yanked version only an exact requirement takes: the learned
	// incompatibility loses its root term.
	yanked := parseSource(t, "a 1.0.0\na 1.1.0\na 1.2.0 yanked\nc 1.0.0: a =1.2.0")
	regs = append(regs, registry{"yanked", yanked, mustReqs(t, "c *, a ^1.0.0"), Options{}})
	for seed := uint64(0); seed < 500; seed++ {
		rng := rand.New(rand.NewPCG(seed, 5))
		data := make([]byte, 10+rng.IntN(50))
		for i := range data {
			data[i] = byte(rng.IntN(256))
		}
		src, root, opts := fuzzRegistry(data)
		regs = append(regs, registry{"fuzz", src, root, opts})
	}
	for seed := uint64(1); seed <= 8; seed++ {
		src, root := randomRegistry(40, 10, 3, seed)
		regs = append(regs, registry{"random", src, root, Options{}})
	}
	for _, gen := range []func(int, int) (*memSource, []Requirement){disjointVersionsN, backtrackingSingletonsN} {
		src, root := gen(8, 12)
		regs = append(regs, registry{"lockstep", src, root, Options{}})
	}
	// chainMissingDistinct in small: long resolutions of many terms.
	src := newMemSource()
	for i := 0; i < 30; i++ {
		for k := 1; k <= 20; k++ {
			src.add(pname(i), ver(k), false, nil, req(pname(i+1), ">="+ver(k)))
		}
	}
	regs = append(regs, registry{"chain", src, []Requirement{req(pname(0), "*")}, Options{}})

	steps, maxChain := 0, 0
	for _, r := range regs {
		s, err := newSolver(context.Background(), r.src, r.opts)
		if err != nil {
			t.Fatal(err)
		}
		_ = s.solve(r.root) // any outcome: the derivations are what is checked
		// Latest first, as an explanation asks: long chains are rebuilt
		// from the start, then from the checkpoints on the way.
		longest := 0
		for id := s.incs.len() - 1; id >= 0; id-- {
			n := 0
			for c := id; s.incs.at(c).kind == causeConflict && s.incs.at(c).terms == nil; c = s.incs.at(c).c1 {
				n++
			}
			longest = max(longest, n)
			s.terms(id)
		}
		maxChain = max(maxChain, longest)
		for id := int32(0); id < s.incs.len(); id++ {
			in := s.incs.at(id)
			if in.kind != causeConflict {
				continue
			}
			steps++
			got := s.terms(id)
			s.terms(in.c1)
			want := priorCause(&s.a, s.incs.at(in.c1), s.incs.at(in.c2), in.pivot)
			if len(got) != len(want) {
				t.Fatalf("%s: incompatibility %d has %d terms, want %d", r.name, id, len(got), len(want))
			}
			for k := range got {
				g, w := got[k], want[k]
				if g.pkg != w.pkg || g.pos != w.pos || g.label != w.label || !s.a.of(g).equal(s.a.of(w)) {
					t.Fatalf("%s: incompatibility %d term %d: %+v, want %+v", r.name, id, k, g, w)
				}
			}
		}
	}
	t.Logf("%d resolution steps, longest rebuilt chain %d", steps, maxChain)
	if steps < 200 || maxChain < 3*checkpointEvery {
		t.Fatalf("only %d resolution steps checked, longest rebuilt chain %d", steps, maxChain)
	}
}
