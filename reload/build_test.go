package reload_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skillsdev/skills/reload"
	"github.com/skillsdev/skills/reload/reloadtest"
)

// TestRebuild checks when a source folder is rebuilt, what a failed build
// leaves, and that a save made while a build ran still counts as newer than
// what the build produced.
func TestRebuild(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "tick")
	reloadtest.Write(t, root, dir, reloadtest.Tick{Name: "tick", Version: "1.0.0", Code: "1"})
	art := reloadtest.Artifact(dir)
	want, err := os.ReadFile(mods["v1"])
	if err != nil {
		t.Fatal(err)
	}
	mtime := func(p string) time.Time {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.ModTime()
	}
	for _, step := range []struct {
		name  string
		do    func()
		built bool
		err   string
	}{
		{"no module yet", func() {}, true, ""},
		{"fresh", func() {}, false, ""},
		{"a source saved during the last build", func() {
			// The module is dated like the newest source it was built from,
			// not like the end of its build, so any later save makes it
			// stale, also one made while the build ran.
			later := mtime(art).Add(time.Millisecond)
			if err := os.Chtimes(filepath.Join(dir, "main.go"), later, later); err != nil {
				t.Fatal(err)
			}
		}, true, ""},
		{"compile error", func() {
			write(t, filepath.Join(dir, "main.go"), "package main\n\nfunc main() { notDefined() }\n")
		}, false, "undefined: notDefined"},
		{"bad SKILL.md", func() {
			write(t, filepath.Join(dir, "SKILL.md"), "---\nname: tick\n---\n")
		}, false, "SKILL.md"},
	} {
		step.do()
		m, built, err := reload.Rebuild(ctx, dir)
		if built != step.built || (step.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), step.err) {
			t.Fatalf("%s: built %v, err %v; want built %v, error %q", step.name, built, err, step.built, step.err)
		}
		if step.name != "bad SKILL.md" && (m == nil || m.Name != "tick") {
			t.Fatalf("%s: manifest %+v", step.name, m)
		}
		got, err := os.ReadFile(art)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: the module is not the reproducible build of version 1 (%v)", step.name, err)
		}
		if built && !mtime(art).Equal(mtime(filepath.Join(dir, "main.go"))) {
			t.Fatalf("%s: module dated %v, newest source %v", step.name, mtime(art), mtime(filepath.Join(dir, "main.go")))
		}
	}
	// Instructions skills and prebuilt folders are never built.
	guide := filepath.Join(t.TempDir(), "guide")
	os.MkdirAll(guide, 0o755)
	write(t, filepath.Join(guide, "SKILL.md"), "---\nname: guide\ndescription: A guide.\n---\n# guide\n")
	if _, built, err := reload.Rebuild(ctx, guide); built || err != nil {
		t.Fatalf("instructions skill: built %v, %v", built, err)
	}
}
