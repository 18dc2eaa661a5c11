package install

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/markettest"
	"github.com/skillsdev/skills/sdk/manifest"
)

func TestInstallOrder(t *testing.T) {
	e := newEnv(t)
	res := e.mustInstall("report")
	if got := order(res.Order); got != "wordcount@1.1.0 summarize@1.0.0 report@1.0.0" {
		t.Fatalf("order %s", got)
	}
	for _, s := range res.Order {
		if s.Action != ActionInstall || s.Runtime != manifest.RuntimeWasm || len(s.SHA256) != 64 {
			t.Errorf("step %+v", s)
		}
	}
	l := e.lock()
	r := l.Skills["report"]
	if r.Requested != "^1.0.0" || r.Registry != "test" || r.IndexVersion != 1 || r.Requires["summarize"] != "^1.0" || !r.Installed.Equal(now) {
		t.Fatalf("report entry %+v", r)
	}
	if w := l.Skills["wordcount"]; w.Requested != "" || w.Artifact == nil || w.Artifact.Path != "wordcount.wasm" ||
		w.Artifact.SHA256 != markettest.SHA256(markettest.Artifact(markettest.Skill{Name: "wordcount", Version: "1.1.0"})) {
		t.Fatalf("wordcount entry %+v", w)
	}
	if got := e.storeNames(); len(got) != 3 {
		t.Fatalf("store %v", got)
	}
	// The host's view: manifests from the store, dependencies first.
	skills, err := Installed(e.home, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range skills {
		names = append(names, s.Name)
		if s.Manifest.Dir != s.Dir || s.Manifest.Name != s.Name || filepath.Dir(s.Dir) != filepath.Join(e.home, StoreDir) {
			t.Errorf("installed %+v", s)
		}
		if _, err := os.Stat(filepath.Join(s.Dir, s.Manifest.Entry)); err != nil {
			t.Error(err)
		}
	}
	if strings.Join(names, " ") != "wordcount summarize report" {
		t.Fatalf("installed %v", names)
	}
	if probs, n, err := Verify(e.home); err != nil || len(probs) != 0 || n != 3 {
		t.Fatalf("verify: %v %d %v", probs, n, err)
	}

	// Installing again changes nothing; adding a skill keeps the others.
	before := e.snapshot()
	res = e.mustInstall("report")
	if res.Changed || len(res.Installs()) != 0 {
		t.Fatalf("second install: %+v", res)
	}
	e.unchanged(before)
	res = e.mustInstall("notes")
	if got := order(res.Installs()); got != "notes@0.1.0" {
		t.Fatalf("installs %s", got)
	}
	if e.versions() != "notes@0.1.0 report@1.0.0 summarize@1.0.0 wordcount@1.1.0" {
		t.Fatal(e.versions())
	}
	if n := e.lock().Skills["notes"]; n.Artifact != nil || n.Runtime != manifest.RuntimeInstructions {
		t.Fatalf("notes %+v", n)
	}
	// An explicit constraint on a dependency makes it requested.
	res = e.mustInstall("wordcount@~1.0")
	if e.versions() != "notes@0.1.0 report@1.0.0 summarize@1.0.0 wordcount@1.0.0" || res.Order[1].Action != ActionDowngrade || res.Order[1].From != "1.1.0" {
		t.Fatalf("%s %+v", e.versions(), res.Order)
	}
	if got := e.storeNames(); len(got) != 4 {
		t.Fatalf("store not collected: %v", got)
	}
}

func TestDryRun(t *testing.T) {
	e := newEnv(t)
	e.mustInstall("wordcount@1.0.0")
	before := e.snapshot()
	res, err := e.install(Flags{DryRun: true}, "report")
	if err != nil {
		t.Fatal(err)
	}
	if got := order(res.Installs()); got != "summarize@1.0.0 report@1.0.0" {
		t.Fatalf("dry run installs %s", got)
	}
	e.unchanged(before)
	if n := e.srv.Hits("/artifacts/report-1.0.0.tar.gz"); n != 0 {
		t.Fatalf("dry run downloaded (%d requests)", n)
	}
}

func TestFrozen(t *testing.T) {
	e := newEnv(t)
	e.mustInstall("report")
	l := e.lock()
	before := e.snapshot()
	// Newer versions appear; frozen ignores them.
	e.reg.Add(t, markettest.Skill{Name: "wordcount", Version: "1.2.0"})
	e.reg.Publish(t)
	// One store entry deleted, one tampered with.
	st := filepath.Join(e.home, StoreDir)
	os.Chmod(filepath.Join(st, l.Skills["summarize"].SHA256), 0o755)
	if err := os.RemoveAll(filepath.Join(st, l.Skills["summarize"].SHA256)); err != nil {
		t.Fatal(err)
	}
	wc := filepath.Join(st, l.Skills["wordcount"].SHA256)
	os.Chmod(wc, 0o755)
	os.Chmod(filepath.Join(wc, "wordcount.wasm"), 0o644)
	os.WriteFile(filepath.Join(wc, "wordcount.wasm"), []byte("tampered"), 0o644)

	res, err := e.install(Flags{Frozen: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := order(res.Installs()); got != "wordcount@1.1.0 summarize@1.0.0" {
		t.Fatalf("frozen fetched %s", got)
	}
	e.unchanged(before)
	if probs, _, err := Verify(e.home); err != nil || len(probs) != 0 {
		t.Fatalf("verify after frozen: %v %v", probs, err)
	}
	// Asking for something the lock does not have fails without writing.
	_, err = e.install(Flags{Frozen: true}, "notes")
	mustContain(t, err, "--frozen: notes is not in the lock")
	_, err = e.install(Flags{Frozen: true}, "wordcount@^2")
	mustContain(t, err, "the lock has wordcount 1.1.0, which does not satisfy ^2")
	e.unchanged(before)
	// A registry that changed a locked package is refused.
	l = e.lock()
	os.Chmod(filepath.Join(st, l.Skills["report"].SHA256), 0o755)
	os.RemoveAll(filepath.Join(st, l.Skills["report"].SHA256))
	e.reg.Add(t, markettest.Skill{Name: "report", Version: "1.0.0", Description: "Changed after publishing.", Requires: []index.Requirement{req("summarize", "^1.0"), req("wordcount", "^1.0")}})
	e.reg.Publish(t)
	_, err = e.install(Flags{Frozen: true})
	mustContain(t, err, "registry test no longer lists the locked package")
}

func TestBadInput(t *testing.T) {
	flip := func(t *testing.T, e *env, file string) {
		p := filepath.Join(e.reg.Dir, "artifacts", file)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)/2] ^= 0x01
		os.WriteFile(p, data, 0o644)
	}
	addBad := func(t *testing.T, e *env, s markettest.Skill) {
		e.reg.Add(t, s)
		e.reg.Publish(t)
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, e *env)
		keys  func(e *env) []string
		want  []string // install "report" unless wants is set
		wants []string
		is    error
	}{
		{name: "artifact with one byte flipped", setup: func(t *testing.T, e *env) { flip(t, e, "summarize-1.0.0.tar.gz") },
			want: []string{"install summarize 1.0.0", "artifact sha256 mismatch"}},
		{name: "wrong size", setup: func(t *testing.T, e *env) {
			p := filepath.Join(e.reg.Dir, "artifacts", "summarize-1.0.0.tar.gz")
			data, _ := os.ReadFile(p)
			os.WriteFile(p, data[:len(data)-1], 0o644)
		}, want: []string{"artifact size mismatch"}},
		{name: "untrusted key", keys: func(e *env) []string {
			_, other := genKey(t)
			return []string{other}
		}, want: []string{"signed by an untrusted key", "signed by test+"}},
		{name: "index edited after signing", setup: func(t *testing.T, e *env) {
			p := filepath.Join(e.reg.Dir, "index.json")
			data, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(data), `"2.0.0"`, `"2.0.1"`, 1)), 0o644)
		}, want: []string{"does not match its signature"}},
		{name: "older index replayed", setup: func(t *testing.T, e *env) {
			e.reg.PublishAs(t, 1, now.Add(24*60*60*1e9))
		}, want: []string{"index rollback", "got index version 1", "version 2 was already seen"}},
		{name: "expired index", setup: func(t *testing.T, e *env) {
			e.reg.Version++
			e.reg.PublishAs(t, e.reg.Version, now.Add(-1e9*3600))
		}, want: []string{"index expired"}},
		{name: "archive with ../x", setup: func(t *testing.T, e *env) {
			addBad(t, e, markettest.Skill{Name: "bad", Version: "1.0.0", Package: markettest.TarGz(t, markettest.Entry{Name: "../x", Body: []byte("x")})})
		}, wants: []string{"bad"}, want: []string{`archive entry "../x"`, "unsafe path"}},
		{name: "archive with /etc/x", setup: func(t *testing.T, e *env) {
			addBad(t, e, markettest.Skill{Name: "bad", Version: "1.0.0", Package: markettest.TarGz(t, markettest.Entry{Name: "/etc/x", Body: []byte("x")})})
		}, wants: []string{"bad"}, want: []string{`"/etc/x"`, "absolute path"}},
		{name: "archive with a symlink", setup: func(t *testing.T, e *env) {
			addBad(t, e, markettest.Skill{Name: "bad", Version: "1.0.0", Package: markettest.TarGz(t, markettest.Entry{Name: "SKILL.md", Type: '2', Linkname: "/etc/passwd"})})
		}, wants: []string{"bad"}, want: []string{"symlink to \"/etc/passwd\""}},
		{name: "archive with a hard link", setup: func(t *testing.T, e *env) {
			md := markettest.SkillMD(markettest.Skill{Name: "bad", Version: "1.0.0"})
			addBad(t, e, markettest.Skill{Name: "bad", Version: "1.0.0", Package: markettest.TarGz(t,
				markettest.Entry{Name: "SKILL.md", Body: md}, markettest.Entry{Name: "bad.wasm", Type: '1', Linkname: "SKILL.md"})})
		}, wants: []string{"bad"}, want: []string{"hard link"}},
		{name: "archive with a huge size", setup: func(t *testing.T, e *env) {
			addBad(t, e, markettest.Skill{Name: "bad", Version: "1.0.0", Package: markettest.TarGz(t, markettest.Entry{Name: "bad.wasm", Size: 1 << 40})})
		}, wants: []string{"bad"}, want: []string{"over the limit"}},
		{name: "SKILL.md disagrees with the index", setup: func(t *testing.T, e *env) {
			md := markettest.SkillMD(markettest.Skill{Name: "bad", Version: "1.0.1"})
			addBad(t, e, markettest.Skill{Name: "bad", Version: "1.0.0", SkillMD: md})
		}, wants: []string{"bad"}, want: []string{"package bad 1.0.0", "version is 1.0.1 in SKILL.md, 1.0.0 in the index"}},
		{name: "unknown skill", wants: []string{"nope"}, want: []string{`unknown skill "nope": not in registry test`}},
		{name: "unsatisfiable constraints", setup: func(t *testing.T, e *env) {
			addBad(t, e, markettest.Skill{Name: "needs-two", Version: "1.0.0", Requires: []index.Requirement{req("wordcount", "^2.0")}})
		}, wants: []string{"report", "needs-two"}, want: []string{"no set of versions satisfies", "version solving failed", "needs-two", "wordcount ^2.0"}},
		{name: "dependency cycle", setup: func(t *testing.T, e *env) {
			e.reg.Add(t, markettest.Skill{Name: "cyc-a", Version: "1.0.0", Requires: []index.Requirement{req("cyc-b", "^1")}})
			addBad(t, e, markettest.Skill{Name: "cyc-b", Version: "1.0.0", Requires: []index.Requirement{req("cyc-a", "^1")}})
		}, wants: []string{"cyc-a"}, want: []string{"dependency cycle: cyc-a 1.0.0 -> cyc-b 1.0.0 -> cyc-a 1.0.0"}},
		{name: "registry going away mid-download", setup: func(t *testing.T, e *env) {
			data, _ := os.ReadFile(filepath.Join(e.reg.Dir, "artifacts", "summarize-1.0.0.tar.gz"))
			e.srv.Handle("/artifacts/summarize-1.0.0.tar.gz", closeMidway(data))
		}, want: []string{"install summarize 1.0.0", "of"}},
		{name: "a failing disk write", setup: func(t *testing.T, e *env) {
			unwritable(t, filepath.Join(e.home, StoreDir))
		}, want: []string{"unpack ", "/store/.tmp-"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			// A home with something installed, so "unchanged" means something.
			e.reg.Add(t, markettest.Skill{Name: "other", Version: "1.0.0"})
			e.reg.Publish(t)
			e.mustInstall("other")
			if tc.setup != nil {
				tc.setup(t, e)
			}
			before := e.snapshot()
			var keys []string
			if tc.keys != nil {
				keys = tc.keys(e)
			}
			specs := tc.wants
			if specs == nil {
				specs = []string{"report"}
			}
			_, err := e.manager(keys...).Install(context.Background(), wants(t, specs...), Flags{})
			mustContain(t, err, tc.want...)
			t.Logf("error: %v", err)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			e.unchanged(before)
			if probs, _, err := Verify(e.home); err != nil || len(probs) != 0 {
				t.Fatalf("verify after a failed install: %v %v", probs, err)
			}
		})
	}
}
