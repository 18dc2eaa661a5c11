package skilltest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skillsdev/skills/host/engine"
	"github.com/skillsdev/skills/host/wasm"
)

// instructions is an instructions skill: SKILL.md only, nothing to build.
const instructions = `---
name: notes
description: How to take notes. An instructions skill with nothing to build.
metadata:
  runtime: instructions
---
# notes

Write things down.
`

// cacheFiles returns the files of the compiled-code part of a cache.
func cacheFiles(t *testing.T, cacheDir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(cacheDir, "wazero-*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestStage stages a wasm skill and an instructions skill, and checks that
// a wasm engine on the host's cache then loads the module without
// compiling it: nothing is added to the cache.
func TestStage(t *testing.T) {
	src := filepath.Join(t.TempDir(), "notes")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "SKILL.md"), []byte(instructions), 0o644); err != nil {
		t.Fatal(err)
	}
	home, dst := t.TempDir(), t.TempDir()
	dirs := Stage(t, home, dst, "../../skills/wordcount", src)

	if want := []string{filepath.Join(dst, "wordcount"), filepath.Join(dst, "notes")}; strings.Join(dirs, ",") != strings.Join(want, ",") {
		t.Fatalf("Stage = %q, want %q", dirs, want)
	}
	for _, f := range []string{"wordcount/SKILL.md", "wordcount/wordcount.wasm", "notes/SKILL.md"} {
		if _, err := os.Stat(filepath.Join(dst, f)); err != nil {
			t.Errorf("staged folder lacks %s: %v", f, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(dst, "notes")); len(entries) != 1 {
		t.Errorf("instructions skill staged with %d files, want SKILL.md only", len(entries))
	}

	cache := CacheDir(home)
	before := cacheFiles(t, cache)
	if len(before) == 0 {
		t.Fatalf("nothing compiled into %s", cache)
	}
	ctx := context.Background()
	e, err := wasm.New(ctx, wasm.Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	s, err := e.Load(ctx, engine.Spec{Name: "wordcount", Artifact: filepath.Join(dst, "wordcount", "wordcount.wasm")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Call(ctx, []byte(`{"text":"a b a"}`))
	if err != nil || !strings.Contains(string(out), `"words":3`) {
		t.Fatalf("Call = %s, %v", out, err)
	}
	if after := cacheFiles(t, cache); len(after) != len(before) {
		t.Errorf("the engine compiled the module again: cache went from %d to %d files", len(before), len(after))
	}
}

// TestStageErrors checks that a folder that is not a skill fails with an
// error naming it, before anything is built.
func TestStageErrors(t *testing.T) {
	empty := t.TempDir()
	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.MkdirAll(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "SKILL.md"), []byte("---\nname: other\n---\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, want string
	}{
		{"no SKILL.md", empty, empty},
		{"bad SKILL.md", bad, filepath.Join(bad, "SKILL.md")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := StageContext(t.Context(), "", t.TempDir(), tt.dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("StageContext = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestWithoutRace(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"-race", ""},
		{"-mod=mod -race -v", "-mod=mod -v"},
		{"-race=true -tags=x", "-tags=x"},
	}
	for _, tt := range tests {
		if got := withoutRace(tt.in); got != tt.want {
			t.Errorf("withoutRace(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
