package resolver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// byteStream feeds generator choices from fuzz input, then zeros.
type byteStream struct {
	b []byte
	i int
}

func (s *byteStream) next(n int) int {
	if s.i >= len(s.b) {
		return 0
	}
	v := int(s.b[s.i])
	s.i++
	return v % n
}

var (
	fuzzVersions    = []string{"0.9.0", "1.0.0", "1.1.0", "2.0.0-beta.1", "2.0.0"}
	fuzzConstraints = []string{
		"*", "^1.0.0", ">=1.1.0", "<1.0.0", "=1.0.0", "~0.9.0", ">=1.0.0-0", ">=2.0.0",
		"1.1.0", "=2.0.0", "^2.0.0-0", ">0.9.0 <2.0.0", "<=1.0.0 || >=2.0.0", "!=1.0.0", "1.x",
	}
)

// fuzzRegistry builds a tiny registry (up to 4 packages of up to 5
// versions, requirements on each other and on a missing "z"), root
// requirements and options, all chosen by the input bytes.
func fuzzRegistry(data []byte) (*memSource, []Requirement, Options) {
	in := &byteStream{b: data}
	names := []string{"a", "b", "c", "d"}[:1+in.next(4)]
	targets := append(slices.Clone(names), "z")
	src := newMemSource()
	for _, name := range names {
		mask := in.next(32)
		for i, v := range fuzzVersions {
			if mask&(1<<i) == 0 {
				continue
			}
			yanked := in.next(5) == 0
			var reqs []Requirement
			for d := in.next(3); d > 0; d-- {
				reqs = append(reqs, req(targets[in.next(len(targets))], fuzzConstraints[in.next(len(fuzzConstraints))]))
			}
			src.add(name, v, yanked, nil, reqs...)
		}
	}
	var root []Requirement
	for r := 1 + in.next(2); r > 0; r-- {
		root = append(root, req(targets[in.next(len(targets))], fuzzConstraints[in.next(len(fuzzConstraints))]))
	}
	var opts Options
	if in.next(4) == 0 {
		opts.Locked = map[string]*semver.Version{names[in.next(len(names))]: semver.MustParse(fuzzVersions[in.next(len(fuzzVersions))])}
	}
	if in.next(4) == 0 {
		opts.Pinned = map[string]*semver.Version{names[in.next(len(names))]: semver.MustParse(fuzzVersions[in.next(len(fuzzVersions))])}
	}
	return src, root, opts
}

// bruteForce reports whether any choice of at most one version per package
// satisfies every requirement of the root and of each chosen version.
func bruteForce(m *model, root []Requirement) bool {
	names := make([]string, 0, len(m.src.versions))
	for name := range m.src.versions {
		names = append(names, name)
	}
	slices.Sort(names)
	choice := map[string]Candidate{}
	ok := func(reqs []Requirement) bool {
		for _, r := range reqs {
			c, present := choice[r.Name]
			if !present || !m.accepts(r, c) {
				return false
			}
		}
		return true
	}
	var try func(i int) bool
	try = func(i int) bool {
		if i == len(names) {
			if !ok(root) {
				return false
			}
			for name, c := range choice {
				if !ok(m.reqs(name, c.Version)) {
					return false
				}
			}
			return true
		}
		if try(i + 1) { // package absent
			return true
		}
		for _, c := range m.versions(names[i]) {
			choice[names[i]] = c
			if try(i + 1) {
				return true
			}
			delete(choice, names[i])
		}
		return false
	}
	return try(0)
}

// checkPlan verifies a plan against the reference rules: one version per
// name, every requirement met, dependencies installed first.
func checkPlan(m *model, root []Requirement, plan *Plan) error {
	pos := map[string]int{}
	chosen := map[string]Candidate{}
	for i, d := range plan.Order {
		if _, dup := pos[d.Name]; dup {
			return fmt.Errorf("%s chosen twice", d.Name)
		}
		pos[d.Name] = i
		found := false
		for _, c := range m.versions(d.Name) {
			if c.Version.Equal(d.Version) {
				chosen[d.Name], found = c, true
			}
		}
		if !found {
			return fmt.Errorf("%s %s is not in the registry", d.Name, d.Version)
		}
	}
	check := func(who string, at int, reqs []Requirement) error {
		for _, r := range reqs {
			c, ok := chosen[r.Name]
			if !ok {
				return fmt.Errorf("%s requires %s %s, which is not in the plan", who, r.Name, r.Raw)
			}
			if !m.accepts(r, c) {
				return fmt.Errorf("%s requires %s %s, plan has %s", who, r.Name, r.Raw, c.Version)
			}
			if pos[r.Name] >= at {
				return fmt.Errorf("%s is installed before its dependency %s", who, r.Name)
			}
		}
		return nil
	}
	if err := check("root", len(plan.Order), root); err != nil {
		return err
	}
	for i, d := range plan.Order {
		if err := check(d.Name, i, d.Requirements); err != nil {
			return err
		}
	}
	return nil
}

func outcome(plan *Plan, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return planString(plan) + " | " + strings.Join(plan.Warnings, "; ")
}

func FuzzResolve(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 31, 0, 1, 0, 2, 1, 0, 0, 2, 31, 0, 0, 1, 0, 0, 1, 0, 1})
	f.Add([]byte{1, 7, 1, 1, 1, 4, 0, 0, 9, 0, 4, 2, 0, 7, 1, 3, 0, 1, 1, 2})
	f.Add([]byte{2, 27, 4, 2, 0, 5, 1, 3, 9, 0, 1, 12, 3, 0, 2, 2, 0, 1, 0, 0, 2, 1, 0, 1, 3})
	f.Add([]byte("pubgrub conflict learning and derivation prose"))
	f.Add([]byte{3, 31, 0, 2, 1, 1, 2, 4, 0, 1, 3, 5, 31, 0, 1, 0, 7, 31, 0, 1, 0, 10, 31, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 2, 0})
	for seed := uint64(1); seed <= 12; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		b := make([]byte, 40)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src, root, opts := fuzzRegistry(data)
		m := newModel(src, opts)
		plan, err := Resolve(context.Background(), src, root, opts)
		again, err2 := Resolve(context.Background(), src, root, opts)
		if a, b := outcome(plan, err), outcome(again, err2); a != b {
			t.Fatalf("not deterministic:\n%s\n%s", a, b)
		}
		var ns *NoSolutionError
		var ce *CycleError
		switch {
		case err == nil:
			if e := checkPlan(m, root, plan); e != nil {
				t.Fatalf("invalid plan %q: %v", planString(plan), e)
			}
		case errors.As(err, &ns):
			if bruteForce(m, root) {
				t.Fatalf("no solution reported, but one exists:\n%v", err)
			}
			if !strings.Contains(err.Error(), "version solving failed") {
				t.Fatalf("explanation without conclusion:\n%v", err)
			}
		case errors.As(err, &ce):
			if !bruteForce(m, root) {
				t.Fatalf("cycle reported from a registry without solution: %v", err)
			}
			for i := 0; i+1 < len(ce.Cycle); i++ {
				requires := false
				for _, r := range ce.Cycle[i].Requirements {
					requires = requires || r.Name == ce.Cycle[i+1].Name
				}
				if !requires {
					t.Fatalf("%v: %s does not require %s", err, ce.Cycle[i].Name, ce.Cycle[i+1].Name)
				}
			}
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	})
}

// randomConstraint builds constraints in the syntax Masterminds accepts.
func randomConstraint(rng *rand.Rand) string {
	ops := []string{"", "=", "!=", ">", "<", ">=", "<=", "~", "^", "~>", "=>", "=<"}
	ver := func() string {
		parts := []string{fmt.Sprint(rng.IntN(4)), fmt.Sprint(rng.IntN(4)), fmt.Sprint(rng.IntN(4))}
		n := 1 + rng.IntN(3)
		for i := 0; i < n; i++ {
			if rng.IntN(8) == 0 {
				parts[i] = []string{"x", "X", "*"}[rng.IntN(3)]
			}
		}
		v := strings.Join(parts[:n], ".")
		if rng.IntN(5) == 0 {
			v += []string{"-0", "-beta", "-beta.2", "-rc.1"}[rng.IntN(4)]
		}
		return v
	}
	var groups []string
	for g := 1 + rng.IntN(2); g > 0; g-- {
		var comps []string
		for c := 1 + rng.IntN(2); c > 0; c-- {
			comps = append(comps, ops[rng.IntN(len(ops))]+ver())
		}
		sep := []string{" ", ", "}[rng.IntN(2)]
		groups = append(groups, strings.Join(comps, sep))
	}
	if rng.IntN(10) == 0 {
		return ver() + " - " + ver()
	}
	if rng.IntN(15) == 0 {
		return "*"
	}
	return strings.Join(groups, " || ")
}

func randomVersions(rng *rand.Rand) []string {
	seen := map[string]bool{}
	var out []string
	for i := rng.IntN(25); i >= 0; i-- {
		v := fmt.Sprintf("%d.%d.%d", rng.IntN(4), rng.IntN(4), rng.IntN(4))
		if rng.IntN(4) == 0 {
			v += []string{"-0", "-alpha", "-beta", "-beta.2", "-rc.1"}[rng.IntN(5)]
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// matchBoth computes a constraint's set by the fast path and by checking
// every version, over the given versions.
func matchBoth(raw string, versions []string) (fast, slow bitset, ok bool) {
	c, err := semver.NewConstraint(raw)
	if err != nil {
		return nil, nil, false
	}
	s, _ := newSolver(context.Background(), newMemSource(), Options{})
	var cands []Candidate
	for _, v := range versions {
		cands = append(cands, Candidate{Version: semver.MustParse(v)})
	}
	slices.SortFunc(cands, func(a, b Candidate) int { return a.Version.Compare(b.Version) })
	s.newPkg("root", nil)
	p := s.newPkg("p", cands)
	fast = s.matchSet(p, s.parseConstraint(raw, c), c)
	slow = make(bitset, len(fast))
	for i, cand := range p.cands {
		if c.Check(cand.Version) {
			slow.set(i)
		}
	}
	return fast, slow, true
}

func TestMatchSetAgreesWithCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(2024, 11))
	checked := 0
	for i := 0; i < 1500; i++ {
		raw, versions := randomConstraint(rng), randomVersions(rng)
		fast, slow, ok := matchBoth(raw, versions)
		if !ok {
			continue
		}
		checked++
		if !fast.equal(slow) {
			t.Fatalf("constraint %q over %v: fast %b, Check %b", raw, versions, fast, slow)
		}
	}
	if checked < 700 {
		t.Fatalf("only %d valid constraints generated", checked)
	}
}

// Numbers past what packed release keys hold, and the bounds around them.
func TestMatchSetWideVersions(t *testing.T) {
	versions := []string{
		"0.0.1", "1.0.0", "1.2097151.0", "1.2097152.0", "1.2097152.0-rc.1", "2.0.0", "3.0.2097151",
		"3.0.2097152", "4194303.9.9", "4194304.0.0", "4194304.0.0-beta", "9999999999.1.1",
	}
	constraints := []string{
		">1.2097151.0", ">=1.2097152.0", "<1.2097152.0", "<=1.2097152.0", ">3.0.2097151 <4194304.0.0",
		"=4194304.0.0", "4194303.9.9", "^1.2097151.0", "~1.2097152.0", ">=4194304.0.0-0", "<=9999999999.1.1",
		">9999999999.1.0", "1.x || >=4194304", ">2.0.0, <=3.0.2097152", "!=4194304.0.0", "*",
	}
	// Every subset size, so packed and wide keys both get built.
	for n := 1; n <= len(versions); n++ {
		for _, raw := range constraints {
			fast, slow, ok := matchBoth(raw, versions[:n])
			if !ok {
				t.Fatalf("constraint %q does not parse", raw)
			}
			if !fast.equal(slow) {
				t.Fatalf("constraint %q over %v: fast %b, Check %b", raw, versions[:n], fast, slow)
			}
		}
	}
}

func FuzzMatchSet(f *testing.F) {
	for _, c := range []string{"^1.2.3", "~1.2", ">=1.0.0-0 <2", "1.x || >=3.1.0-beta", "!=1.1.1", "1 - 2.1", "=0.0.0", "*", "<=2.x"} {
		f.Add(c, uint64(1))
	}
	f.Fuzz(func(t *testing.T, raw string, seed uint64) {
		versions := randomVersions(rand.New(rand.NewPCG(seed, seed)))
		fast, slow, ok := matchBoth(raw, versions)
		if ok && !fast.equal(slow) {
			t.Fatalf("constraint %q over %v: fast %b, Check %b", raw, versions, fast, slow)
		}
	})
}

// shuffledSource hands out candidates in a different order on every call.
type shuffledSource struct {
	*memSource
	rng *rand.Rand
}

func (s shuffledSource) Versions(ctx context.Context, name string) ([]Candidate, error) {
	list := slices.Clone(s.versions[name])
	s.rng.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	return list, nil
}

func TestDeterministic(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		src, root := randomRegistry(150, 8, 10, seed)
		src.frozen = false
		opts := Options{
			Locked: map[string]*semver.Version{},
			Pinned: map[string]*semver.Version{},
		}
		for i := 0; i < 20; i++ {
			opts.Locked[fmt.Sprintf("s%04d", i*7)] = semver.MustParse("1.2.0")
		}
		opts.Pinned[fmt.Sprintf("s%04d", 120)] = semver.MustParse("2.1.0")
		var first string
		for run := uint64(0); run < 3; run++ {
			plan, err := Resolve(context.Background(), shuffledSource{src, rand.New(rand.NewPCG(run, seed))}, root, opts)
			got := outcome(plan, err)
			if run == 0 {
				first = got
				if err == nil {
					if e := checkPlan(newModel(src, opts), root, plan); e != nil {
						t.Fatalf("seed %d: invalid plan: %v", seed, e)
					}
				}
				continue
			}
			if got != first {
				t.Fatalf("seed %d run %d differs:\n%s\n---\n%s", seed, run, got, first)
			}
		}
	}
}

// The naive solver is complete when it does not run out of budget, so on
// small random registries the two must agree on whether a solution exists.
func TestAgreesWithNaive(t *testing.T) {
	solvable, unsolvable, skipped := 0, 0, 0
	for seed := uint64(1); seed <= 40; seed++ {
		src, root := randomRegistry(30, 12, 2, seed)
		plan, err := Resolve(context.Background(), src, root, Options{})
		_, nerr := newNaive(src, Options{}, 300_000).solve(root)
		if errors.Is(nerr, errBudget) {
			skipped++
			continue
		}
		var ns *NoSolutionError
		switch {
		case err == nil:
			solvable++
			if nerr != nil {
				t.Fatalf("seed %d: pubgrub found %s, naive found none", seed, planString(plan))
			}
			if e := checkPlan(newModel(src, Options{}), root, plan); e != nil {
				t.Fatalf("seed %d: %v", seed, e)
			}
		case errors.As(err, &ns):
			unsolvable++
			if nerr == nil {
				t.Fatalf("seed %d: naive found a solution, pubgrub said:\n%v", seed, err)
			}
		default:
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
	t.Logf("%d solvable, %d without solution, %d beyond the naive budget", solvable, unsolvable, skipped)
	if solvable == 0 || unsolvable == 0 {
		t.Fatal("the seeds no longer cover both outcomes")
	}
}
