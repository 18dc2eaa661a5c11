package resolver

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
)

// resolveCase is one registry, root requirements and options, with either
// the expected install order or the expected error text.
type resolveCase struct {
	name     string
	registry string
	root     string
	opts     Options
	want     string // install order, "name version, ..."
	wantErr  string // exact Error() text when set
	errPart  string // substring of Error() when set
	warnings []string
}

func runCases(t *testing.T, cases []resolveCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := parseSource(t, c.registry)
			plan, err := Resolve(context.Background(), src, mustReqs(t, c.root), c.opts)
			if c.wantErr != "" || c.errPart != "" {
				if err == nil {
					t.Fatalf("got plan %q, want error", planString(plan))
				}
				if c.wantErr != "" && err.Error() != c.wantErr {
					t.Fatalf("error mismatch\n got: %s\nwant: %s", err, c.wantErr)
				}
				if !strings.Contains(err.Error(), c.errPart) {
					t.Fatalf("error %q does not contain %q", err, c.errPart)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got := planString(plan); got != c.want {
				t.Fatalf("plan mismatch\n got: %s\nwant: %s", got, c.want)
			}
			if strings.Join(plan.Warnings, "\n") != strings.Join(c.warnings, "\n") {
				t.Fatalf("warnings mismatch\n got: %q\nwant: %q", plan.Warnings, c.warnings)
			}
		})
	}
}

// The examples of Dart pub's doc/solver.md, with its expected outcomes.
func TestSolverMDExamples(t *testing.T) { runCases(t, solverMDCases) }

var solverMDCases = []resolveCase{
	{
		name: "no conflicts",
		registry: `
				foo 1.0.0: bar ^1.0.0
				bar 1.0.0
				bar 2.0.0`,
		root: "foo ^1.0.0",
		want: "bar 1.0.0, foo 1.0.0",
	},
	{
		name: "avoiding a conflict during decision making",
		registry: `
				foo 1.1.0: bar ^2.0.0
				foo 1.0.0
				bar 1.0.0
				bar 1.1.0
				bar 2.0.0`,
		root: "foo ^1.0.0, bar ^1.0.0",
		want: "bar 1.1.0, foo 1.0.0",
	},
	{
		name: "performing conflict resolution",
		registry: `
				foo 2.0.0: bar ^1.0.0
				foo 1.0.0
				bar 1.0.0: foo ^1.0.0`,
		root: "foo >=1.0.0",
		want: "foo 1.0.0",
	},
	{
		name: "conflict resolution with a partial satisfier",
		registry: `
				foo 1.1.0: left ^1.0.0, right ^1.0.0
				foo 1.0.0
				left 1.0.0: shared >=1.0.0
				right 1.0.0: shared <2.0.0
				shared 2.0.0
				shared 1.0.0: target ^1.0.0
				target 2.0.0
				target 1.0.0`,
		root: "foo ^1.0.0, target ^2.0.0",
		want: "foo 1.0.0, target 2.0.0",
	},
	{
		name: "linear error reporting",
		registry: `
				foo 1.0.0: bar ^2.0.0
				bar 2.0.0: baz ^3.0.0
				baz 1.0.0
				baz 3.0.0`,
		root: "foo ^1.0.0, baz ^1.0.0",
		wantErr: "Because every version of foo depends on bar ^2.0.0 which depends on baz ^3.0.0, " +
			"every version of foo requires baz ^3.0.0.\n" +
			"So, because root depends on both foo ^1.0.0 and baz ^1.0.0, version solving failed.",
	},
	{
		name: "branching error reporting",
		registry: `
				foo 1.0.0: a ^1.0.0, b ^1.0.0
				foo 1.1.0: x ^1.0.0, y ^1.0.0
				a 1.0.0: b ^2.0.0
				b 1.0.0
				b 2.0.0
				x 1.0.0: y ^2.0.0
				y 1.0.0
				y 2.0.0`,
		root: "foo ^1.0.0",
		wantErr: "" +
			"    Because foo <1.1.0 depends on a ^1.0.0 which depends on b ^2.0.0, foo <1.1.0 requires b ^2.0.0.\n" +
			"(1) So, because foo <1.1.0 depends on b ^1.0.0, foo <1.1.0 is forbidden.\n" +
			"\n" +
			"    Because foo >=1.1.0 depends on x ^1.0.0 which depends on y ^2.0.0, foo >=1.1.0 requires y ^2.0.0.\n" +
			"    And because foo >=1.1.0 depends on y ^1.0.0, foo >=1.1.0 is forbidden.\n" +
			"    And because foo <1.1.0 is forbidden (1), foo is forbidden.\n" +
			"    So, because root depends on foo ^1.0.0, version solving failed.",
	},
}

func TestResolve(t *testing.T) {
	runCases(t, []resolveCase{
		{
			name: "simple chain",
			registry: `
				a 1.0.0: b ^1.0.0
				b 1.0.0: c ^1.0.0
				c 1.0.0
				c 1.2.0
				c 2.0.0`,
			root: "a *",
			want: "c 1.2.0, b 1.0.0, a 1.0.0",
		},
		{
			name: "newest allowed version wins",
			registry: `
				a 1.0.0
				a 1.5.0
				a 1.10.0
				a 2.0.0`,
			root: "a ^1.0.0",
			want: "a 1.10.0",
		},
		{
			name: "shared dependency satisfies both",
			registry: `
				a 1.0.0: shared >=1.2.0
				b 1.0.0: shared <2.0.0
				shared 1.0.0
				shared 1.2.0
				shared 1.9.0
				shared 2.0.0`,
			root: "a *, b *",
			want: "shared 1.9.0, a 1.0.0, b 1.0.0",
		},
		{
			name: "shared dependency forces an older depender",
			registry: `
				a 2.0.0: shared ^2.0.0
				a 1.0.0: shared ^1.0.0
				b 1.0.0: shared ^1.0.0
				shared 1.0.0
				shared 2.0.0`,
			root: "a *, b *",
			want: "shared 1.0.0, a 1.0.0, b 1.0.0",
		},
		{
			name: "diamond installs dependencies first, ties by name",
			registry: `
				app 1.0.0: left *, right *
				left 1.0.0: base *
				right 1.0.0: base *
				base 1.0.0
				zeta 1.0.0`,
			root: "zeta *, app *",
			want: "base 1.0.0, left 1.0.0, right 1.0.0, app 1.0.0, zeta 1.0.0",
		},
		{
			name: "two versions of one name are never chosen",
			registry: `
				a 1.0.0: c ^1
				b 1.0.0: c ^2
				c 1.0.0
				c 2.0.0`,
			root: "a *, b *",
			wantErr: "Because every version of a depends on c ^1 and every version of b depends on c ^2, a is incompatible with b.\n" +
				"So, because root depends on both a * and b *, version solving failed.",
		},
		{
			name:     "unknown root requirement",
			registry: `a 1.0.0`,
			root:     "nosuch *",
			wantErr:  "Because root depends on nosuch *, and no versions of nosuch exist, version solving failed.",
		},
		{
			name:     "unknown transitive requirement",
			registry: `a 1.0.0: ghost ^1.0.0`,
			root:     "a *",
			wantErr:  "Because root depends on a * and every version of a depends on ghost ^1.0.0, which doesn't exist, version solving failed.",
		},
		{
			name: "constraint that matches no version",
			registry: `
				a 1.0.0
				a 1.1.0`,
			root:    "a ^2.0.0",
			wantErr: "Because root depends on a ^2.0.0, which matches no versions of a, version solving failed.",
		},
		{
			name:     "root name in explanations is configurable",
			registry: `a 1.0.0`,
			root:     "a ^3",
			opts:     Options{RootName: "my-agent"},
			wantErr:  "Because my-agent depends on a ^3, which matches no versions of a, version solving failed.",
		},
		{
			name: "a registry package may be called root",
			registry: `
				root 1.0.0: a *
				a 1.0.0`,
			root: "root *",
			want: "a 1.0.0, root 1.0.0",
		},
	})
}

func TestPrereleases(t *testing.T) {
	reg := `
		a 1.0.0
		a 1.1.0-beta.1
		a 2.0.0-alpha.1
		pre 1.0.0-rc.1`
	runCases(t, []resolveCase{
		{name: "caret skips prereleases", registry: reg, root: "a ^1.0.0", want: "a 1.0.0"},
		{name: "star skips prereleases", registry: reg, root: "a *", want: "a 1.0.0"},
		{name: "range skips prereleases", registry: reg, root: "a >=1.0.0", want: "a 1.0.0"},
		{name: "a constraint naming a prerelease allows them", registry: reg, root: "a >=1.1.0-beta.1 <2.0.0-0", want: "a 1.1.0-beta.1"},
		{name: "caret with prerelease floor", registry: reg, root: "a ^1.1.0-0", want: "a 1.1.0-beta.1"},
		// Masterminds' rule is per AND group, not per x.y.z as in npm: once
		// a group names a prerelease, any prerelease in range qualifies.
		{name: "prerelease of another minor qualifies too", registry: reg, root: "a >=1.0.0-0", want: "a 2.0.0-alpha.1"},
		{name: "exact prerelease", registry: reg, root: "a =1.1.0-beta.1", want: "a 1.1.0-beta.1"},
		{
			name: "only prereleases and no opt-in", registry: reg, root: "pre *",
			wantErr: "Because root depends on pre *, which matches no versions of pre, version solving failed.",
		},
		{name: "only prereleases with opt-in", registry: reg, root: "pre >=1.0.0-0", want: "pre 1.0.0-rc.1"},
	})
}

// Version numbers too large for the solver's packed release keys take
// another path through loading, matching and exact lookups.
func TestWideVersionNumbers(t *testing.T) {
	reg := `
		a 1.0.0
		a 1.2097151.0
		a 1.2097152.0
		a 2.0.0
		a 3.0.2097152
		a 4194303.0.0
		a 4194304.0.0
		a 4194304.0.1-rc.1
		b 1.0.0: a =4194304.0.0
		c 1.0.0: a >1.2097151.0 <4194303.0.0
		d 1.0.0: a =3.0.2097152
		d 2.0.0: a =3.0.2097153`
	runCases(t, []resolveCase{
		{name: "newest", registry: reg, root: "a *", want: "a 4194304.0.0"},
		{name: "exact wide major", registry: reg, root: "b *", want: "a 4194304.0.0, b 1.0.0"},
		{name: "range between wide minors", registry: reg, root: "c *", want: "a 3.0.2097152, c 1.0.0"},
		{name: "below a wide bound", registry: reg, root: "a <4194304.0.0", want: "a 4194303.0.0"},
		{name: "strictly above a wide minor", registry: reg, root: "a >1.2097152.0 <2.0.1", want: "a 2.0.0"},
		{name: "caret on a wide minor", registry: reg, root: "a ^1.2097151.0", want: "a 1.2097152.0"},
		{name: "prerelease of a wide major", registry: reg, root: "a >=4194304.0.1-0", want: "a 4194304.0.1-rc.1"},
		{name: "exact wide patch, missing one skipped", registry: reg, root: "d *", want: "a 3.0.2097152, d 1.0.0"},
	})
}

func TestYanked(t *testing.T) {
	reg := `
		a 1.0.0
		a 1.1.0
		a 1.2.0 yanked
		b 1.0.0 yanked
		c 1.0.0: a =1.2.0`
	v := semver.MustParse
	runCases(t, []resolveCase{
		{name: "newest yanked version is skipped", registry: reg, root: "a ^1.0.0", want: "a 1.1.0"},
		{
			name: "only yanked versions match", registry: reg, root: "b ^1.0.0",
			wantErr: "Because root depends on b ^1.0.0, which matches no versions of b (1.0.0 is yanked), version solving failed.",
		},
		{
			name: "exact requirement takes a yanked version", registry: reg, root: "a =1.2.0", want: "a 1.2.0",
			warnings: []string{"a 1.2.0 is yanked; it is used because an exact requirement names it"},
		},
		{
			name: "exact transitive requirement takes a yanked version", registry: reg, root: "c *", want: "a 1.2.0, c 1.0.0",
			warnings: []string{"a 1.2.0 is yanked; it is used because an exact requirement names it"},
		},
		{
			name: "a range does not accept a yanked version another requirement names", registry: reg, root: "c *, a ^1.0.0",
			wantErr: "Because root depends on c * which depends on a =1.2.0, a =1.2.0 is required.\n" +
				"So, because root depends on a ^1.0.0, version solving failed.\n\n" +
				"Note: a 1.2.0 is yanked; only an exact requirement, a pin or a lock selects it.",
		},
		{
			name: "locked yanked version is kept", registry: reg, root: "a ^1.0.0",
			opts: Options{Locked: map[string]*semver.Version{"a": v("1.2.0")}}, want: "a 1.2.0",
			warnings: []string{"a 1.2.0 is yanked; it is used because it is locked"},
		},
		{
			name: "pinned yanked version is used", registry: reg, root: "b *",
			opts: Options{Pinned: map[string]*semver.Version{"b": v("1.0.0")}}, want: "b 1.0.0",
			warnings: []string{"b 1.0.0 is yanked; it is used because it is pinned"},
		},
	})
}

func TestLockedAndPinned(t *testing.T) {
	reg := `
		a 1.0.0
		a 1.1.0
		a 2.0.0
		b 1.0.0: a ^1.0.0
		c 1.0.0: a ^2.0.0`
	v := semver.MustParse
	runCases(t, []resolveCase{
		{
			name: "locked version preferred over newer", registry: reg, root: "a ^1.0.0",
			opts: Options{Locked: map[string]*semver.Version{"a": v("1.0.0")}}, want: "a 1.0.0",
		},
		{
			name: "locked version outside the constraint is ignored", registry: reg, root: "a ^1.0.0",
			opts: Options{Locked: map[string]*semver.Version{"a": v("2.0.0")}}, want: "a 1.1.0",
		},
		{
			name: "locked version of an unknown version is ignored", registry: reg, root: "a *",
			opts: Options{Locked: map[string]*semver.Version{"a": v("9.0.0")}}, want: "a 2.0.0",
		},
		{
			name: "pin is honored", registry: reg, root: "a *",
			opts: Options{Pinned: map[string]*semver.Version{"a": v("1.1.0")}}, want: "a 1.1.0",
		},
		{
			name: "pin reaches transitive requirements", registry: reg, root: "b *",
			opts: Options{Pinned: map[string]*semver.Version{"a": v("1.0.0")}}, want: "a 1.0.0, b 1.0.0",
		},
		{
			name: "pin does not add a package", registry: reg, root: "b *",
			opts: Options{Pinned: map[string]*semver.Version{"c": v("1.0.0")}}, want: "a 1.1.0, b 1.0.0",
		},
		{
			name: "pin conflicting with the root", registry: reg, root: "a ^2.0.0",
			opts:    Options{Pinned: map[string]*semver.Version{"a": v("1.0.0")}},
			wantErr: "Because root depends on a ^2.0.0 but a is pinned to 1.0.0, version solving failed.",
		},
		{
			name: "pin conflicting with a dependency", registry: reg, root: "c *",
			opts: Options{Pinned: map[string]*semver.Version{"a": v("1.1.0")}},
			wantErr: "Because every version of c depends on a ^2.0.0 but a is pinned to 1.1.0, c is forbidden.\n" +
				"So, because root depends on c *, version solving failed.",
		},
		{
			name: "pin to a version that does not exist", registry: reg, root: "a *",
			opts:    Options{Pinned: map[string]*semver.Version{"a": v("3.0.0")}},
			wantErr: "Because root depends on a * but a is pinned to 3.0.0, version solving failed.",
		},
	})
}

func TestDeprecated(t *testing.T) {
	sunset := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	build := func() *memSource {
		src := newMemSource()
		src.add("old", "1.0.0", false, &Deprecation{Message: "superseded", Replacement: "new ^2", Sunset: sunset})
		src.add("plain", "1.0.0", false, &Deprecation{})
		src.add("new", "2.0.0", false, nil)
		return src
	}
	cases := []struct {
		name string
		now  time.Time
		root string
		want []string
	}{
		{"undated", time.Time{}, "old *", []string{"old 1.0.0 is deprecated: superseded; use new ^2 instead; sunset 2026-03-01"}},
		{"before sunset", sunset.Add(-time.Hour), "old *", []string{"old 1.0.0 is deprecated: superseded; use new ^2 instead; sunset 2026-03-01 (upcoming)"}},
		{"after sunset", sunset.Add(time.Hour), "old *", []string{"old 1.0.0 is deprecated: superseded; use new ^2 instead; sunset 2026-03-01 (passed)"}},
		{"no details", time.Time{}, "plain *", []string{"plain 1.0.0 is deprecated"}},
		{"not deprecated", time.Time{}, "new *", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan, err := Resolve(context.Background(), build(), mustReqs(t, c.root), Options{Now: c.now})
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.Order) != 1 {
				t.Fatalf("deprecated version not resolved: %s", planString(plan))
			}
			if strings.Join(plan.Warnings, "\n") != strings.Join(c.want, "\n") {
				t.Fatalf("warnings\n got: %q\nwant: %q", plan.Warnings, c.want)
			}
		})
	}
}

func TestCycles(t *testing.T) {
	cases := []struct {
		name, registry, root, want string
	}{
		{
			name: "two skills",
			registry: `
				b 2.1.0: a ^1
				a 1.0.0: b ^2`,
			root: "b *",
			want: "dependency cycle: a 1.0.0 -> b 2.1.0 -> a 1.0.0",
		},
		{
			name: "three skills, printed from the smallest name",
			registry: `
				x 1.0.0: y *
				y 1.0.0: m *
				m 1.0.0: x *`,
			root: "y *",
			want: "dependency cycle: m 1.0.0 -> x 1.0.0 -> y 1.0.0 -> m 1.0.0",
		},
		{
			name:     "a skill that requires itself",
			registry: `self 1.0.0: self *`,
			root:     "self *",
			want:     "dependency cycle: self 1.0.0 -> self 1.0.0",
		},
		{
			name: "shortest cycle through the smallest member",
			registry: `
				a 1.0.0: c *, b *
				b 1.0.0: a *
				c 1.0.0: d *
				d 1.0.0: a *`,
			root: "a *",
			want: "dependency cycle: a 1.0.0 -> b 1.0.0 -> a 1.0.0",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Resolve(context.Background(), parseSource(t, c.registry), mustReqs(t, c.root), Options{})
			var ce *CycleError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a cycle error", err)
			}
			if err.Error() != c.want {
				t.Fatalf("got %q, want %q", err, c.want)
			}
			if first, last := ce.Cycle[0], ce.Cycle[len(ce.Cycle)-1]; first.Name != last.Name {
				t.Fatalf("cycle does not close: %v", ce.Cycle)
			}
		})
	}
}

// failingSource fails on one package, to check errors are wrapped.
type failingSource struct {
	*memSource
	fail string
}

var errBackend = errors.New("backend unavailable")

func (f failingSource) Requirements(ctx context.Context, name string, v *semver.Version) ([]Requirement, error) {
	if name == f.fail {
		return nil, errBackend
	}
	return f.memSource.Requirements(ctx, name, v)
}

type notFoundSource struct{ *memSource }

func (n notFoundSource) Versions(ctx context.Context, name string) ([]Candidate, error) {
	if _, ok := n.versions[name]; !ok {
		return nil, errors.Join(errors.New("index lookup"), ErrNotFound)
	}
	return n.memSource.Versions(ctx, name)
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	reg := "a 1.0.0: b *\nb 1.0.0"

	t.Run("unparsable raw constraint", func(t *testing.T) {
		_, err := Resolve(ctx, parseSource(t, reg), []Requirement{{Name: "a", Raw: "^^1"}}, Options{})
		if err == nil || !strings.Contains(err.Error(), `requirement a "^^1"`) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("requirement without a name", func(t *testing.T) {
		_, err := Resolve(ctx, parseSource(t, reg), []Requirement{{Raw: "*"}}, Options{})
		if err == nil || !strings.Contains(err.Error(), "no package name") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("bad requirement from the source names the version", func(t *testing.T) {
		src := parseSource(t, reg)
		src.reqs[keyOf("a", semver.MustParse("1.0.0"))] = []Requirement{{Name: "b", Raw: "not a version"}}
		_, err := Resolve(ctx, src, mustReqs(t, "a *"), Options{})
		if err == nil || !strings.Contains(err.Error(), "requirements of a 1.0.0") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("duplicate versions", func(t *testing.T) {
		src := parseSource(t, reg)
		src.versions["b"] = append(src.versions["b"], Candidate{Version: semver.MustParse("v1.0.0")})
		_, err := Resolve(ctx, src, mustReqs(t, "a *"), Options{})
		if err == nil || !strings.Contains(err.Error(), "version 1.0.0 is listed twice") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("duplicate versions in an ascending list", func(t *testing.T) {
		src := parseSource(t, reg)
		src.versions["b"] = []Candidate{{Version: semver.MustParse("1.0.0")}, {Version: semver.MustParse("1.0.0+build.2")}}
		src.frozen = true // served as listed: ascending but for the repeat
		_, err := Resolve(ctx, src, mustReqs(t, "a *"), Options{})
		if err == nil || !strings.Contains(err.Error(), `version 1.0.0+build.2 is listed twice ("1.0.0" and "1.0.0+build.2")`) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("candidate without a version", func(t *testing.T) {
		src := parseSource(t, reg)
		src.versions["b"] = append(src.versions["b"], Candidate{})
		src.frozen = true // serve the list as is, nil version included
		_, err := Resolve(ctx, src, mustReqs(t, "a *"), Options{})
		if err == nil || !strings.Contains(err.Error(), "list versions of b: a candidate has no version") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("source error is wrapped", func(t *testing.T) {
		_, err := Resolve(ctx, failingSource{parseSource(t, reg), "a"}, mustReqs(t, "a *"), Options{})
		if !errors.Is(err, errBackend) || !strings.Contains(err.Error(), "requirements of a 1.0.0") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrNotFound means no versions", func(t *testing.T) {
		_, err := Resolve(ctx, notFoundSource{parseSource(t, reg)}, mustReqs(t, "zzz ^1"), Options{})
		var ns *NoSolutionError
		if !errors.As(err, &ns) || !strings.Contains(err.Error(), "no versions of zzz exist") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("nil source", func(t *testing.T) {
		if _, err := Resolve(ctx, nil, nil, Options{}); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := Resolve(cctx, parseSource(t, reg), mustReqs(t, "a *"), Options{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("raw is parsed when constraint is nil and whitespace trimmed", func(t *testing.T) {
		plan, err := Resolve(ctx, parseSource(t, reg), []Requirement{{Name: " a ", Raw: " ^1.0 "}}, Options{})
		if err != nil || planString(plan) != "b 1.0.0, a 1.0.0" {
			t.Fatalf("got %v, %v", plan, err)
		}
	})
	t.Run("empty constraint means any", func(t *testing.T) {
		plan, err := Resolve(ctx, parseSource(t, reg), []Requirement{{Name: "b"}}, Options{})
		if err != nil || planString(plan) != "b 1.0.0" {
			t.Fatalf("got %v, %v", plan, err)
		}
	})
	t.Run("no requirements, empty plan", func(t *testing.T) {
		plan, err := Resolve(ctx, parseSource(t, reg), nil, Options{})
		if err != nil || len(plan.Order) != 0 {
			t.Fatalf("got %v, %v", plan, err)
		}
	})
}

func TestPlanCarriesRequirements(t *testing.T) {
	plan, err := Resolve(context.Background(), parseSource(t, "a 1.0.0: b ^1.0\nb 1.0.0"), mustReqs(t, "a *"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := plan.Order[1]
	if a.Name != "a" || len(a.Requirements) != 1 || a.Requirements[0].Name != "b" || a.Requirements[0].Raw != "^1.0" {
		t.Fatalf("decision %+v", a)
	}
}

// Packages that keep falling back to older versions get all their
// versions' dependencies loaded (loadAll); the answers must not change.
func TestFallbackLoading(t *testing.T) {
	small := func(gen func(int, int) (*memSource, []Requirement), n, v int) func(testing.TB) (*memSource, []Requirement) {
		return func(testing.TB) (*memSource, []Requirement) { return gen(n, v) }
	}
	cases := []struct {
		name string
		gen  func(testing.TB) (*memSource, []Requirement)
		want string
	}{
		{"disjoint versions", small(disjointVersionsN, 6, 12), "max 0.0.0, p001 0.0.0"},
		{"lockstep singletons", small(backtrackingSingletonsN, 6, 12), "p001 0.0.0"},
		{
			name: "a malformed requirement of a version never chosen is not an error",
			gen: func(tb testing.TB) (*memSource, []Requirement) {
				src := parseSource(tb, `
					b 1.0.0
					b 2.0.0: c =1.0.0
					b 3.0.0: c =1.0.0
					b 4.0.0: c =1.0.0
					b 5.0.0: c =1.0.0
					b 6.0.0: c =1.0.0`)
				for k := 1; k <= 6; k++ {
					src.add("a", ver(k), false, nil, req("b", "="+ver(k)))
				}
				src.add("a", "0.1.0", false, nil, Requirement{Name: "b", Raw: "not a constraint"})
				return src, mustReqs(tb, "a *")
			},
			want: "b 1.0.0, a 1.0.0",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, root := c.gen(t)
			plan, err := Resolve(context.Background(), src, root, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := planString(plan); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
			if err := checkPlan(newModel(src, Options{}), root, plan); err != nil {
				t.Fatal(err)
			}
		})
	}
}
