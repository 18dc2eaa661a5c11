package resolver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// Benchmark registries. Each generator returns a frozen source, the root
// requirements, and whether a solution exists.

func ver(major int) string { return fmt.Sprintf("%d.0.0", major) }

func req(name, raw string) Requirement {
	c, err := semver.NewConstraint(raw)
	if err != nil {
		panic(err) // generators only use constant, valid constraints
	}
	return Requirement{Name: name, Constraint: c, Raw: raw}
}

func pname(i int) string { return fmt.Sprintf("p%03d", i) }

// chainMissing: p000 .. p199, versions 1.0.0 .. 99.0.0; every version of
// level i requires level i+1 ">=1.0.0", and level 199 requires p200, which
// does not exist. Chronological backtracking faces 99^200 paths; PubGrub
// learns that every version of p199, then p198, ... is forbidden.
func chainMissing() (*memSource, []Requirement) { return chain(false) }

// chainMissingDistinct is chainMissing where version k of each level
// requires the next level ">=k.0.0": no two versions share a requirement,
// so nothing can be learned for a range of versions at once, and the
// explanation names every version (about 20,000 derivations).
func chainMissingDistinct() (*memSource, []Requirement) { return chain(true) }

func chain(distinct bool) (*memSource, []Requirement) {
	src := newMemSource()
	const levels, versions = 200, 99
	for i := 0; i < levels; i++ {
		for k := 1; k <= versions; k++ {
			c := ">=1.0.0"
			if distinct {
				c = ">=" + ver(k)
			}
			src.add(pname(i), ver(k), false, nil, req(pname(i+1), c))
		}
	}
	src.freeze()
	return src, []Requirement{req(pname(0), "*")}
}

// singletonsFlat: 100 packages with 500 versions each, no dependencies,
// root requires all of them.
func singletonsFlat() (*memSource, []Requirement) {
	src := newMemSource()
	var root []Requirement
	for i := 0; i < 100; i++ {
		for k := 0; k < 500; k++ {
			src.add(pname(i), ver(k), false, nil)
		}
		root = append(root, req(pname(i), "*"))
	}
	src.freeze()
	return src, root
}

// backtrackingSingletons is pubgrub-rs's benches/backtracking.rs
// "backtracking_singletons" (100 x 500), after a pattern of the solana-*
// crates: p001 0.0.0 has no dependencies; version v (1..499) of p00n
// requires p00(n+1) "=v"; p100 does not exist. Every version but p001
// 0.0.0 fails, 99 levels down.
func backtrackingSingletons() (*memSource, []Requirement) { return backtrackingSingletonsN(100, 500) }

func backtrackingSingletonsN(packages, versions int) (*memSource, []Requirement) {
	src := newMemSource()
	src.add(pname(1), ver(0), false, nil)
	for n := 1; n < packages; n++ {
		for v := 1; v < versions; v++ {
			src.add(pname(n), ver(v), false, nil, req(pname(n+1), "="+ver(v)))
		}
	}
	src.freeze()
	return src, []Requirement{req(pname(1), "*")}
}

// disjointVersions is pubgrub-rs's "backtracking_disjoint_versions"
// (300 x 200): root requires p001 (any) and max "=0.0.0". Version v
// (1..199) of p00n requires p00(n+1) "=v" for n < 300, and p300 v requires
// max "=v". The newest of every chain is tried first and conflicts with max
// 0.0.0 only 300 levels down; the solution is p001 0.0.0 and max 0.0.0.
func disjointVersions() (*memSource, []Requirement) { return disjointVersionsN(300, 200) }

func disjointVersionsN(packages, versions int) (*memSource, []Requirement) {
	src := newMemSource()
	src.add(pname(1), ver(0), false, nil)
	for n := 1; n < packages; n++ {
		for v := 1; v < versions; v++ {
			src.add(pname(n), ver(v), false, nil, req(pname(n+1), "="+ver(v)))
		}
	}
	for v := 1; v < versions; v++ {
		src.add(pname(packages), ver(v), false, nil, req("max", "="+ver(v)))
	}
	for v := 0; v < versions; v++ {
		src.add("max", ver(v), false, nil)
	}
	src.freeze()
	return src, []Requirement{req(pname(1), "*"), req("max", "="+ver(0))}
}

// randomRegistry: 2,000 skills x 20 versions (majors 1-4, minors 0-4),
// each version requiring 0-3 skills further down the list (so no cycles)
// with random caret, tilde, range, exact and open constraints; root
// requires 40 random skills. Seeded, so every run is the same registry.
func randomRegistry(skills, versions, rootReqs int, seed uint64) (*memSource, []Requirement) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	src := newMemSource()
	name := func(i int) string { return fmt.Sprintf("s%04d", i) }
	constraint := func() string {
		m := 1 + rng.IntN(4)
		switch rng.IntN(6) {
		case 0:
			return fmt.Sprintf("^%d.0.0", m)
		case 1:
			return fmt.Sprintf("~%d.%d.0", m, rng.IntN(5))
		case 2:
			return fmt.Sprintf(">=%d.%d.0", m, rng.IntN(5))
		case 3:
			return fmt.Sprintf(">=%d.0.0, <%d.0.0", m, m+1+rng.IntN(2))
		case 4:
			return fmt.Sprintf("=%d.%d.0", m, rng.IntN(5))
		default:
			return "*"
		}
	}
	for i := 0; i < skills; i++ {
		for k := 0; k < versions; k++ {
			v := fmt.Sprintf("%d.%d.0", 1+k/5, k%5)
			var reqs []Requirement
			if i+1 < skills {
				seen := map[int]bool{}
				for d := rng.IntN(4); d > 0; d-- {
					j := i + 1 + rng.IntN(min(200, skills-i-1))
					if !seen[j] {
						seen[j] = true
						reqs = append(reqs, req(name(j), constraint()))
					}
				}
			}
			src.add(name(i), v, false, nil, reqs...)
		}
	}
	var root []Requirement
	seen := map[int]bool{}
	for len(root) < rootReqs {
		j := rng.IntN(skills)
		if !seen[j] {
			seen[j] = true
			root = append(root, req(name(j), constraint()))
		}
	}
	src.freeze()
	return src, root
}

type benchCase struct {
	name     string
	gen      func() (*memSource, []Requirement)
	solvable bool
}

var benchCases = []benchCase{
	{"ChainMissing200x99", chainMissing, false},
	{"ChainMissingDistinct200x99", chainMissingDistinct, false},
	{"SingletonsFlat100x500", singletonsFlat, true},
	{"BacktrackingSingletons100x500", backtrackingSingletons, true},
	{"DisjointVersions300x200", disjointVersions, true},
	{"Random2000x20", func() (*memSource, []Requirement) { return randomRegistry(2000, 20, 40, 42) }, true},
}

// naiveBudget bounds the baseline: past this many search nodes it gives up,
// so its time is a lower bound.
const naiveBudget = 300_000

func BenchmarkResolve(b *testing.B) {
	ctx := context.Background()
	for _, bc := range benchCases {
		src, root := bc.gen()
		var pubgrubNs float64
		b.Run(bc.name+"/pubgrub", func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				_, err := Resolve(ctx, src, root, Options{})
				var ns *NoSolutionError
				if bc.solvable && err != nil || !bc.solvable && !errors.As(err, &ns) {
					b.Fatalf("solvable=%v, got %v", bc.solvable, err)
				}
			}
			pubgrubNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
		b.Run(bc.name+"/naive", func(b *testing.B) {
			gaveUp := false
			cpu0 := cpuTime()
			for b.Loop() {
				n := newNaive(src, Options{}, naiveBudget)
				_, err := n.solve(root)
				gaveUp = errors.Is(err, errBudget)
			}
			naiveNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			if pubgrubNs > 0 {
				b.ReportMetric(naiveNs/pubgrubNs, "naive/pubgrub")
			}
			g := 0.0
			if gaveUp {
				g = 1
			}
			b.ReportMetric(g, "gave-up")
		})
	}
}

// BenchmarkExplain measures writing the explanation of the chain failure,
// which Resolve defers until Error is called.
func BenchmarkExplain(b *testing.B) {
	src, root := chainMissing()
	for b.Loop() {
		_, err := Resolve(context.Background(), src, root, Options{})
		if len(err.Error()) == 0 {
			b.Fatal("empty explanation")
		}
	}
}
