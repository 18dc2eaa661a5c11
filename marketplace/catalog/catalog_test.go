package catalog

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/markettest"
	"github.com/skillsdev/skills/marketplace/registry"
	"github.com/skillsdev/skills/resolver"
)

var now = time.Date(2026, 9, 15, 12, 0, 0, 0, time.UTC)

func client(t *testing.T, name string, r *markettest.Registry, state string) *registry.Registry {
	t.Helper()
	c, err := registry.New(registry.Config{Name: name, URL: r.Dir, Keys: []string{r.VKey}}, registry.Options{StateDir: state, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMergeByPriority(t *testing.T) {
	ctx := context.Background()
	team := markettest.New(t, now)
	team.Add(t, markettest.Skill{Name: "summarize", Version: "1.0.0", Description: "Team summarizer."})
	team.Publish(t)
	public := markettest.New(t, now)
	public.Add(t, markettest.Skill{Name: "summarize", Version: "9.0.0", Description: "Public summarizer."})
	public.Add(t, markettest.Skill{Name: "wordcount", Version: "1.0.0", Description: "Counts words.",
		Deprecated: &index.Deprecation{Message: "slow", Replacement: "wc2", ReplacementConstraint: "^2", Sunset: "2026-10-01"}})
	public.Add(t, markettest.Skill{Name: "wordcount", Version: "1.1.0", Description: "Counts words.", Yanked: &index.Yank{Reason: "broken", Time: now}})
	public.Publish(t)
	state := t.TempDir()

	cat, err := Fetch(ctx, []*registry.Registry{client(t, "team", team, state), client(t, "public", public, state)})
	if err != nil {
		t.Fatal(err)
	}
	// The higher-priority registry owns the name: its versions only.
	r, s := cat.Find("summarize")
	if r.Name() != "team" || len(s.Versions) != 1 {
		t.Fatalf("summarize from %s: %v", r.Name(), s.Sorted())
	}
	vs, err := cat.Source().Versions(ctx, "summarize")
	if err != nil || len(vs) != 1 || vs[0].Version.String() != "1.0.0" {
		t.Fatalf("versions %v %v", vs, err)
	}
	vs, err = cat.Source().Versions(ctx, "wordcount")
	if err != nil || len(vs) != 2 || !vs[1].Yanked || vs[0].Deprecated == nil {
		t.Fatalf("wordcount candidates %+v %v", vs, err)
	}
	d := vs[0].Deprecated
	if d.Replacement != "wc2 ^2" || !d.Sunset.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) || d.Message != "slow" {
		t.Fatalf("deprecation %+v", d)
	}
	if _, err := cat.Source().Versions(ctx, "nope"); err == nil || !strings.Contains(err.Error(), resolver.ErrNotFound.Error()) {
		t.Fatalf("unknown: %v", err)
	}
	reqs, err := cat.Source().Requirements(ctx, "wordcount", semver.MustParse("1.0.0"))
	if err != nil || len(reqs) != 0 {
		t.Fatalf("requirements %v %v", reqs, err)
	}
	if _, _, err := cat.Release("summarize", "9.0.0"); err == nil || !strings.Contains(err.Error(), "no version 9.0.0 in registry team (available: 1.0.0)") {
		t.Fatalf("release: %v", err)
	}
	if err := cat.Check("nope"); err == nil || err.Error() != `unknown skill "nope": not in registry team, public` {
		t.Fatalf("check: %v", err)
	}
	// Search: every word, name or description, case-insensitive.
	var got []string
	for _, h := range cat.Search("SUMMARIZER team") {
		got = append(got, h.Name+"@"+h.Latest+"/"+h.Registry)
	}
	if strings.Join(got, " ") != "summarize@1.0.0/team" {
		t.Fatalf("search: %v", got)
	}
	if hits := cat.Search("words"); len(hits) != 1 || hits[0].Latest != "1.0.0" {
		t.Fatalf("search words: %+v", hits)
	}
	for _, tc := range []struct {
		sunset string
		at     time.Time
		passed bool
	}{
		{"", now, false},
		{"2026-10-01", now, false},
		{"2026-09-15", now, true},
		{"2026-09-16", now, false},
	} {
		if got := SunsetPassed(&index.Deprecation{Message: "x", Sunset: tc.sunset}, tc.at); got != tc.passed {
			t.Errorf("sunset %q at %s: %v", tc.sunset, tc.at, got)
		}
	}

	// One registry failing fails the fetch: a lower one must not stand in.
	os.Remove(filepath.Join(team.Dir, "index.json.sig"))
	if _, err := Fetch(ctx, []*registry.Registry{client(t, "team", team, state), client(t, "public", public, state)}); err == nil || !strings.Contains(err.Error(), "registry team") {
		t.Fatalf("fetch with a broken registry: %v", err)
	}
}
