package store

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skillsdev/skills/marketplace/archive"
	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/markettest"
	"github.com/skillsdev/skills/sdk/manifest"
)

var now = time.Date(2026, 9, 15, 12, 0, 0, 0, time.UTC)

func sum(b []byte) string { return markettest.SHA256(b) }

func pkg(t *testing.T, s markettest.Skill) []byte {
	t.Helper()
	r := markettest.New(t, now)
	return r.Add(t, s)
}

func want(s markettest.Skill) Want {
	rt := s.Runtime
	if rt == "" {
		rt = manifest.RuntimeWasm
	}
	return Want{Name: s.Name, Version: s.Version, Runtime: rt, Requirements: s.Requires}
}

// entries lists the store folder's names.
func entries(t *testing.T, s *Store) []string {
	t.Helper()
	des, err := os.ReadDir(s.Root())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range des {
		out = append(out, d.Name())
	}
	return out
}

func TestAdd(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	sk := markettest.Skill{Name: "summarize", Version: "1.2.0",
		Requires: []index.Requirement{{Name: "wordcount", Constraint: "^1.0"}},
		Files:    map[string][]byte{"assets/stop.txt": []byte("a\nthe\n")}}
	data := pkg(t, sk)
	e, err := s.Add(ctx, sum(data), bytes.NewReader(data), want(sk), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Dir != s.Path(sum(data)) || e.Manifest.Name != "summarize" || e.Manifest.Dir != e.Dir || e.Manifest.File != filepath.Join(e.Dir, "SKILL.md") {
		t.Fatalf("entry %+v", e)
	}
	if e.ArtifactSHA256 != sum(markettest.Artifact(sk)) || e.Files["summarize.wasm"] != e.ArtifactSHA256 || len(e.Files) != 3 {
		t.Fatalf("hashes %+v", e.Files)
	}
	if !s.Has(sum(data)) {
		t.Fatal("Has is false")
	}
	for _, p := range []string{"summarize.wasm", "assets/stop.txt", "assets", "."} {
		fi, err := os.Stat(filepath.Join(e.Dir, p))
		if err != nil || fi.Mode().Perm()&0o222 != 0 {
			t.Errorf("%s: mode %v %v, want read-only", p, fi.Mode(), err)
		}
	}
	m, err := s.Load(sum(data))
	if err != nil || m.Name != "summarize" || m.Dir != e.Dir {
		t.Fatalf("load: %v %v", m, err)
	}
	if probs, err := s.Verify(sum(data), e.Files); err != nil || len(probs) != 0 {
		t.Fatalf("verify intact: %v %v", probs, err)
	}
	// Adding again replaces the entry (a leftover) in place.
	if _, err := s.Add(ctx, sum(data), bytes.NewReader(data), want(sk), Limits{}); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, s); len(got) != 1 {
		t.Fatalf("store holds %v", got)
	}

	// Verify names every difference.
	os.Chmod(e.Dir, 0o755)
	os.Chmod(filepath.Join(e.Dir, "assets"), 0o755)
	os.Chmod(filepath.Join(e.Dir, "summarize.wasm"), 0o644)
	os.WriteFile(filepath.Join(e.Dir, "summarize.wasm"), []byte("evil"), 0o644)
	os.Remove(filepath.Join(e.Dir, "assets", "stop.txt"))
	os.WriteFile(filepath.Join(e.Dir, "extra.sh"), []byte("#!/bin/sh"), 0o755)
	probs, err := s.Verify(sum(data), e.Files)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range probs {
		got = append(got, p.String())
	}
	if strings.Join(got, ", ") != "assets/stop.txt missing, extra.sh unexpected, summarize.wasm modified" {
		t.Fatalf("problems %v", got)
	}
	if probs, _ := s.Verify(strings.Repeat("0", 64), e.Files); len(probs) != 1 || probs[0].String() != "entry missing" {
		t.Fatalf("missing entry: %v", probs)
	}

	// GC keeps what is listed and removes the rest, leftovers included.
	os.Mkdir(filepath.Join(s.Root(), ".tmp-123"), 0o755)
	other := pkg(t, markettest.Skill{Name: "wordcount", Version: "1.0.0"})
	if _, err := s.Add(ctx, sum(other), bytes.NewReader(other), Want{Name: "wordcount", Version: "1.0.0", Runtime: manifest.RuntimeWasm}, Limits{}); err != nil {
		t.Fatal(err)
	}
	removed, err := s.GC(map[string]bool{sum(other): true})
	if err != nil || len(removed) != 1 || removed[0] != sum(data) {
		t.Fatalf("gc removed %v: %v", removed, err)
	}
	if got := entries(t, s); len(got) != 1 || got[0] != sum(other) {
		t.Fatalf("after gc: %v", got)
	}
}

func TestAddRefuses(t *testing.T) {
	base := markettest.Skill{Name: "summarize", Version: "1.2.0", Requires: []index.Requirement{{Name: "wordcount", Constraint: "^1.0"}}}
	with := func(edit func(*markettest.Skill)) markettest.Skill {
		s := base
		edit(&s)
		return s
	}
	good := markettest.SkillMD(base)
	tests := []struct {
		name  string
		skill markettest.Skill // what the package holds
		data  []byte           // raw archive instead
		is    error
		want  []string
	}{
		{name: "other name", skill: with(func(s *markettest.Skill) {
			s.SkillMD = bytes.Replace(good, []byte("name: summarize"), []byte("name: summary"), 1)
		}),
			want: []string{`name is "summary" in SKILL.md, "summarize" in the index`}},
		{name: "other version", skill: with(func(s *markettest.Skill) {
			s.SkillMD = bytes.Replace(good, []byte("version: 1.2.0"), []byte("version: 1.2.1"), 1)
		}),
			want: []string{"version is 1.2.1 in SKILL.md, 1.2.0 in the index"}},
		{name: "other runtime", skill: with(func(s *markettest.Skill) {
			s.SkillMD = bytes.Replace(good, []byte("runtime: wasm"), []byte("runtime: plugin"), 1)
		}), want: []string{"runtime is plugin in SKILL.md, wasm in the index"}},
		{name: "other requirements", skill: with(func(s *markettest.Skill) {
			s.SkillMD = bytes.Replace(good, []byte("- wordcount ^1.0"), []byte("- wordcount ^2.0\n- tokenize *"), 1)
		}), want: []string{"SKILL.md requires tokenize *, the index does not list it", "SKILL.md requires wordcount ^2.0, the index says wordcount ^1.0"}},
		{name: "bad SKILL.md", skill: with(func(s *markettest.Skill) { s.SkillMD = []byte("---\nname: [\n---\n") }),
			want: []string{"SKILL.md:"}},
		{name: "no SKILL.md", data: markettest.TarGz(t, markettest.Entry{Name: "x.wasm", Body: []byte("x")}), want: []string{"no SKILL.md"}},
		{name: "entry missing", data: markettest.TarGz(t, markettest.Entry{Name: "SKILL.md", Body: good}), want: []string{`entry "summarize.wasm", which is not in the package`}},
		{name: "dot dot", data: markettest.TarGz(t, markettest.Entry{Name: "../x", Body: []byte("x")}), is: archive.ErrUnsafePath},
		{name: "absolute", data: markettest.TarGz(t, markettest.Entry{Name: "/etc/x", Body: []byte("x")}), is: archive.ErrUnsafePath},
		{name: "symlink", data: markettest.TarGz(t, markettest.Entry{Name: "SKILL.md", Type: tar.TypeSymlink, Linkname: "/etc/passwd"}), is: archive.ErrType},
		{name: "hard link", data: markettest.TarGz(t, markettest.Entry{Name: "SKILL.md", Body: good}, markettest.Entry{Name: "x", Type: tar.TypeLink, Linkname: "SKILL.md"}), is: archive.ErrType},
		{name: "huge size", data: markettest.TarGz(t, markettest.Entry{Name: "big", Size: 1 << 40}), is: archive.ErrLimit},
		{name: "not gzip", data: []byte("plain text"), is: archive.ErrNotGzip},
		{name: "SKILL.md too large", data: markettest.TarGz(t, markettest.Entry{Name: "SKILL.md", Body: bytes.Repeat([]byte("x"), manifest.MaxSize+1)}),
			want: []string{`"SKILL.md"`, "over the 262144-byte limit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			data := tc.data
			if data == nil {
				data = pkg(t, tc.skill)
			}
			_, err = s.Add(context.Background(), sum(data), bytes.NewReader(data), want(base), Limits{})
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if got := entries(t, s); len(got) != 0 {
				t.Fatalf("store holds %v after a refused package", got)
			}
		})
	}
}

// TestSync adds entries, removes one before its background syncs are over,
// replaces another, and checks that Sync succeeds and leaves exactly the
// entries that are still there, intact.
func TestSync(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "home", "store"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatalf("sync with nothing added (no store folder yet): %v", err)
	}
	var kept []*Entry
	for i, sk := range []markettest.Skill{
		{Name: "a", Version: "1.0.0", ArtifactSize: 300 << 10, Files: map[string][]byte{"assets/x/y.txt": []byte("y")}},
		{Name: "b", Version: "1.0.0"},
		{Name: "c", Version: "1.0.0", Runtime: manifest.RuntimeInstructions},
	} {
		data := pkg(t, sk)
		e, err := s.Add(ctx, sum(data), bytes.NewReader(data), want(sk), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		switch i {
		case 1:
			// Removed while its syncs may still run: they are not reported.
			if err := s.Remove(e.SHA256); err != nil {
				t.Fatal(err)
			}
		case 2:
			// Added again: the second entry replaces the first.
			if e, err = s.Add(ctx, sum(data), bytes.NewReader(data), want(sk), Limits{}); err != nil {
				t.Fatal(err)
			}
			kept = append(kept, e)
		default:
			kept = append(kept, e)
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatalf("second sync: %v", err)
	}
	if got := entries(t, s); len(got) != len(kept) {
		t.Fatalf("store holds %v, want %d entries", got, len(kept))
	}
	for _, e := range kept {
		if probs, err := s.Verify(e.SHA256, e.Files); err != nil || len(probs) != 0 {
			t.Fatalf("%s: %v %v", e.Manifest.Name, probs, err)
		}
	}
}
