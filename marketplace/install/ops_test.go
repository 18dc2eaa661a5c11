package install

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/markettest"
)

func TestUninstall(t *testing.T) {
	e := newEnv(t)
	e.mustInstall("report", "notes")
	ctx := context.Background()
	before := e.snapshot()
	_, err := e.manager().Uninstall(ctx, "wordcount", false)
	mustContain(t, err, "uninstall wordcount: required by report, summarize", "--with-dependents")
	_, err = e.manager().Uninstall(ctx, "nope", false)
	mustContain(t, err, "uninstall nope: not installed (installed: notes, report, summarize, wordcount)")
	e.unchanged(before)

	// Removing report removes the dependencies only it needed.
	res, err := e.manager().Uninstall(ctx, "report", false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Removed, ",") != "report 1.0.0,summarize 1.0.0,wordcount 1.1.0" || e.versions() != "notes@0.1.0" {
		t.Fatalf("removed %v, left %s", res.Removed, e.versions())
	}
	if got := e.storeNames(); len(got) != 1 {
		t.Fatalf("store %v", got)
	}
	// --with-dependents removes everything above.
	e.mustInstall("report", "wordcount")
	res, err = e.manager().Uninstall(ctx, "wordcount", true)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Removed, ",") != "report 1.0.0,summarize 1.0.0,wordcount 1.1.0" || e.versions() != "notes@0.1.0" {
		t.Fatalf("removed %v, left %s", res.Removed, e.versions())
	}
}

func TestVerifyNamesTampered(t *testing.T) {
	e := newEnv(t)
	e.mustInstall("summarize")
	l := e.lock()
	dir := filepath.Join(e.home, StoreDir, l.Skills["summarize"].SHA256)
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Join(dir, "summarize.wasm"), 0o644)
	os.WriteFile(filepath.Join(dir, "summarize.wasm"), []byte("evil"), 0o644)
	os.Remove(filepath.Join(dir, "SKILL.md"))
	wdir := filepath.Join(e.home, StoreDir, l.Skills["wordcount"].SHA256)
	os.Chmod(wdir, 0o755)
	os.RemoveAll(wdir)
	probs, n, err := Verify(e.home)
	if err != nil || n != 2 {
		t.Fatal(n, err)
	}
	var got []string
	for _, p := range probs {
		got = append(got, strings.ReplaceAll(p.String(), filepath.Join(e.home, StoreDir)+"/", ""))
	}
	want := []string{
		"summarize 1.0.0: " + l.Skills["summarize"].SHA256 + "/SKILL.md missing",
		"summarize 1.0.0: " + l.Skills["summarize"].SHA256 + "/summarize.wasm modified",
		"wordcount 1.1.0: store entry " + l.Skills["wordcount"].SHA256 + " missing",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPins(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.mustInstall("summarize")
	m := e.manager()

	// Pin a dependency to an older version: installs it, records it.
	res, err := m.Pin(ctx, "wordcount", "1.0.0", "1.1 breaks the fleet", Flags{})
	if err != nil {
		t.Fatal(err)
	}
	if got := order(res.Installs()); got != "wordcount@1.0.0" {
		t.Fatalf("pin installed %s", got)
	}
	p := e.lock().Skills["wordcount"].Pinned
	if p == nil || p.Version != "1.0.0" || p.Reason != "1.1 breaks the fleet" || !p.Time.Equal(now) {
		t.Fatalf("pin %+v", p)
	}
	// install and upgrade keep it.
	e.reg.Add(t, markettest.Skill{Name: "wordcount", Version: "1.3.0"})
	e.reg.Publish(t)
	e.mustInstall("report")
	if _, err := e.manager().Upgrade(ctx, nil, Flags{}); err != nil {
		t.Fatal(err)
	}
	if v := e.lock().Skills["wordcount"]; v.Version != "1.0.0" || v.Pinned == nil {
		t.Fatalf("wordcount after upgrade: %+v", v)
	}

	before := e.snapshot()
	// A version that does not exist.
	_, err = e.manager().Pin(ctx, "wordcount", "9.9.9", "", Flags{})
	mustContain(t, err, "pin wordcount@9.9.9", "no version 9.9.9", "available: 1.0.0, 1.1.0, 1.3.0, 2.0.0")
	// A pin that conflicts with another skill's constraint.
	_, err = e.manager().Pin(ctx, "wordcount", "2.0.0", "", Flags{})
	mustContain(t, err, "wordcount is pinned to 2.0.0", "version solving failed")
	t.Log(err)
	// Unpinning what is not pinned.
	_, err = e.manager().Unpin(ctx, "summarize")
	mustContain(t, err, "unpin summarize: not pinned")
	_, err = e.manager().Unpin(ctx, "nope")
	mustContain(t, err, "unpin nope: not installed")
	e.unchanged(before)

	// Unpin, and the next upgrade moves it.
	if _, err := e.manager().Unpin(ctx, "wordcount"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.manager().Upgrade(ctx, []string{"wordcount"}, Flags{}); err != nil {
		t.Fatal(err)
	}
	if v := e.lock().Skills["wordcount"]; v.Version != "1.3.0" || v.Pinned != nil {
		t.Fatalf("wordcount after unpin and upgrade: %+v", v)
	}

	// Pinning something not installed installs it as requested.
	if _, err := e.manager().Pin(ctx, "notes", "0.1.0", "", Flags{}); err != nil {
		t.Fatal(err)
	}
	if n := e.lock().Skills["notes"]; n.Requested != "^0.1.0" || n.Pinned == nil {
		t.Fatalf("notes %+v", n)
	}
}

func TestYanked(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.mustInstall("wordcount@^1")
	if v := e.lock().Skills["wordcount"].Version; v != "1.1.0" {
		t.Fatal(v)
	}
	e.reg.Edit(t, "wordcount", "1.1.0", func(r *index.Release) {
		r.Yanked = &index.Yank{Reason: "counts hyphens twice", Time: now}
	})
	e.reg.Publish(t)

	// Locked: it stays, and --frozen works with it.
	res := e.mustInstall("summarize")
	if v := e.lock().Skills["wordcount"].Version; v != "1.1.0" {
		t.Fatalf("locked yanked version replaced by %s", v)
	}
	if !hasWarning(res, "wordcount 1.1.0 is yanked; it is used because it is locked") {
		t.Fatalf("warnings %v", res.Warnings)
	}
	os.Chmod(filepath.Join(e.home, StoreDir, e.lock().Skills["wordcount"].SHA256), 0o755)
	os.RemoveAll(filepath.Join(e.home, StoreDir, e.lock().Skills["wordcount"].SHA256))
	if _, err := e.install(Flags{Frozen: true}); err != nil {
		t.Fatalf("frozen with a yanked locked version: %v", err)
	}
	// A new resolution skips it.
	if _, err := e.manager().Upgrade(ctx, []string{"wordcount"}, Flags{}); err != nil {
		t.Fatal(err)
	}
	if v := e.lock().Skills["wordcount"].Version; v != "1.0.0" {
		t.Fatalf("upgrade chose %s, want the newest unyanked 1.0.0", v)
	}
	// Pinned: installed.
	if _, err := e.manager().Pin(ctx, "wordcount", "1.1.0", "known good", Flags{}); err != nil {
		t.Fatal(err)
	}
	if v := e.lock().Skills["wordcount"].Version; v != "1.1.0" {
		t.Fatal(v)
	}
	// Exactly named: installed, with a warning. (Where another installed
	// skill's range would need it, the resolver explains that only an exact
	// requirement, a pin or a lock selects a yanked version.)
	e2 := newEnv(t)
	e2.reg.Edit(t, "wordcount", "1.1.0", func(r *index.Release) {
		r.Yanked = &index.Yank{Reason: "counts hyphens twice", Time: now}
	})
	e2.reg.Publish(t)
	res = e2.mustInstall("wordcount@1.1.0")
	if v := e2.lock().Skills["wordcount"].Version; v != "1.1.0" || !hasWarning(res, "wordcount 1.1.0 is yanked; it is used because an exact requirement names it") {
		t.Fatalf("exact yanked: %s %v", v, res.Warnings)
	}
}

func TestDeprecated(t *testing.T) {
	e := newEnv(t)
	e.reg.Add(t, markettest.Skill{Name: "wordcount2", Version: "1.0.0"})
	e.reg.Add(t, markettest.Skill{Name: "old", Version: "1.0.0", Deprecated: &index.Deprecation{Message: "unmaintained", Replacement: "wordcount2", ReplacementConstraint: "^1", Sunset: "2026-12-31"}})
	e.reg.Add(t, markettest.Skill{Name: "gone", Version: "1.0.0", Deprecated: &index.Deprecation{Message: "retired", Replacement: "wordcount2", Sunset: "2026-09-01"}})
	e.reg.Publish(t)

	res := e.mustInstall("old")
	if !hasWarning(res, "old 1.0.0 is deprecated: unmaintained; use wordcount2 ^1 instead; sunset 2026-12-31 (upcoming)") {
		t.Fatalf("warnings %v", res.Warnings)
	}
	before := e.snapshot()
	_, err := e.install(Flags{}, "gone")
	mustContain(t, err, "gone 1.0.0 is deprecated (retired) and its sunset 2026-09-01 has passed; use wordcount2 instead", "--allow-deprecated")
	e.unchanged(before)
	res, err = e.install(Flags{AllowDeprecated: true}, "gone")
	if err != nil {
		t.Fatal(err)
	}
	if !hasWarning(res, "gone 1.0.0 is deprecated: retired; use wordcount2 instead; sunset 2026-09-01 (passed)") {
		t.Fatalf("warnings %v", res.Warnings)
	}
	// Installed deprecated skills keep working: later installs do not refuse them.
	if _, err := e.install(Flags{}, "notes"); err != nil {
		t.Fatal(err)
	}
	// The host learns of the deprecation through the catalog.
	cat, err := e.manager().Catalog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	skills, err := Installed(e.home, cat)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range skills {
		if (s.Deprecated != nil) != (s.Name == "old" || s.Name == "gone") {
			t.Errorf("%s deprecated = %+v", s.Name, s.Deprecated)
		}
	}
}

func TestOutdated(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.mustInstall("report", "wordcount@~1.0.0")
	if _, err := e.manager().Pin(ctx, "summarize", "1.0.0", "hold", Flags{}); err != nil {
		t.Fatal(err)
	}
	e.reg.Add(t, markettest.Skill{Name: "wordcount", Version: "1.0.5"})
	e.reg.Add(t, markettest.Skill{Name: "summarize", Version: "1.1.0", Requires: []index.Requirement{req("wordcount", "^1.0")}})
	e.reg.Edit(t, "report", "1.0.0", func(r *index.Release) {
		r.Deprecated = &index.Deprecation{Message: "use report2", Replacement: "report2"}
		r.Yanked = &index.Yank{Reason: "broken", Time: now}
	})
	e.reg.Publish(t)
	cat, err := e.manager().Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range Outdated(e.lock(), cat) {
		line := s.Name + " " + s.Current + " " + s.Wanted + " " + s.Latest
		if s.Pinned != nil {
			line += " pinned"
		}
		if s.Deprecated != nil {
			line += " deprecated"
		}
		if s.Yanked != nil {
			line += " yanked"
		}
		got = append(got, line)
	}
	want := "report 1.0.0 1.0.0  deprecated yanked\nsummarize 1.0.0 1.0.0 1.1.0 pinned\nwordcount 1.0.0 1.0.5 2.0.0"
	if strings.Join(got, "\n") != want {
		t.Fatalf("outdated:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

func TestUpgrade(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.mustInstall("report")
	e.reg.Add(t, markettest.Skill{Name: "wordcount", Version: "1.5.0"})
	e.reg.Publish(t)
	// install keeps the locked version; upgrade moves it within ^1.
	e.mustInstall("report")
	if v := e.lock().Skills["wordcount"].Version; v != "1.1.0" {
		t.Fatal(v)
	}
	_, err := e.manager().Upgrade(ctx, []string{"nope"}, Flags{})
	mustContain(t, err, "upgrade nope: not installed")
	res, err := e.manager().Upgrade(ctx, []string{"wordcount"}, Flags{})
	if err != nil {
		t.Fatal(err)
	}
	if got := order(res.Installs()); got != "wordcount@1.5.0" || res.Installs()[0].Action != ActionUpgrade {
		t.Fatalf("upgrade %s", got)
	}
	if l := e.lock(); !l.Skills["report"].Installed.Equal(now) || l.Skills["wordcount"].Requested != "" {
		t.Fatalf("lock %+v", l.Skills["wordcount"])
	}
	_ = time.Second
}

func hasWarning(res *Result, w string) bool {
	for _, x := range res.Warnings {
		if x == w {
			return true
		}
	}
	return false
}
