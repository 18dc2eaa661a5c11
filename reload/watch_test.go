package reload

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestNoise(t *testing.T) {
	for _, tc := range []struct {
		name  string
		noise bool
	}{
		{"main.go", false},
		{"SKILL.md", false},
		{"tick.wasm", false},
		{"skills.lock", false},
		{".main.go.swp", true},
		{".tick.wasm.tmp-123", true},
		{"main.go~", true},
		{"#main.go#", true},
		{"main.go.swp", true},
		{"main.go___jb_tmp___", true},
		{"main.go___jb_old___", true},
		{"4913", true},
		{"49130", false},
	} {
		if got := noise(tc.name); got != tc.noise {
			t.Errorf("noise(%q) = %v, want %v", tc.name, got, tc.noise)
		}
	}
}

// TestWatcherFolders checks what the watcher reports for changes to the
// folders it watches, including one that does not exist yet, one that is
// deleted and one that is replaced.
func TestWatcherFolders(t *testing.T) {
	parent := t.TempDir()
	a := filepath.Join(parent, "a")
	b := filepath.Join(parent, "b") // created later
	if err := os.Mkdir(a, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := NewWatcher(WatcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	added, err := w.Set([]string{a, b})
	if err != nil || !slices.Equal(added, []string{a}) {
		t.Fatalf("Set: added %v, %v", added, err)
	}
	for _, step := range []struct {
		name string
		do   func() error
		want []string
	}{
		{"file written", func() error { return os.WriteFile(filepath.Join(a, "x"), []byte("1"), 0o644) }, []string{a}},
		{"folder created", func() error { return os.Mkdir(b, 0o755) }, []string{b}},
		{"file in the new folder", func() error { return os.WriteFile(filepath.Join(b, "y"), []byte("1"), 0o644) }, []string{b}},
		{"noise only, then a real file", func() error {
			if err := os.WriteFile(filepath.Join(a, ".x.swp"), []byte("1"), 0o644); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(b, "z"), []byte("1"), 0o644)
		}, []string{b}},
		{"sibling not watched", func() error {
			if err := os.WriteFile(filepath.Join(parent, "other"), []byte("1"), 0o644); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(a, "x"), []byte("2"), 0o644)
		}, []string{a}},
		{"folder replaced", func() error {
			if err := os.Mkdir(a+".new", 0o755); err != nil {
				return err
			}
			if err := os.Rename(a, a+".old"); err != nil {
				return err
			}
			return os.Rename(a+".new", a)
		}, []string{a}},
		{"file in the replacement", func() error { return os.WriteFile(filepath.Join(a, "x"), []byte("3"), 0o644) }, []string{a}},
		{"folder deleted", func() error { return os.RemoveAll(b) }, []string{b}},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		select {
		case ch := <-w.Changes():
			if !slices.Equal(ch.Dirs, step.want) {
				t.Fatalf("%s: changed %v, want %v", step.name, ch.Dirs, step.want)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%s: no change reported", step.name)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-w.Changes(); ok {
		t.Fatal("Changes still open after Close")
	}
}

// TestWatcherEditorSaves saves a file the ways editors do; each save is
// reported as a change of its folder, and the watch survives all of them.
func TestWatcherEditorSaves(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "main.go")
	if err := os.WriteFile(p, []byte("v0"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := NewWatcher(WatcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Set([]string{dir}); err != nil {
		t.Fatal(err)
	}
	write := func(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }
	for _, tc := range []struct {
		name string
		save func() error
	}{
		{"in place", func() error { return write(p, "v1") }},
		{"temp file renamed over", func() error {
			if err := write(filepath.Join(dir, ".main.go.tmp-1"), "v2"); err != nil {
				return err
			}
			return os.Rename(filepath.Join(dir, ".main.go.tmp-1"), p)
		}},
		{"vim: probe, backup by rename, write", func() error {
			if err := write(filepath.Join(dir, "4913"), ""); err != nil {
				return err
			}
			if err := os.Remove(filepath.Join(dir, "4913")); err != nil {
				return err
			}
			if err := os.Rename(p, p+"~"); err != nil {
				return err
			}
			if err := write(p, "v3"); err != nil {
				return err
			}
			return os.Remove(p + "~")
		}},
		{"jetbrains: temp, old, rename", func() error {
			if err := write(p+"___jb_tmp___", "v4"); err != nil {
				return err
			}
			if err := os.Rename(p, p+"___jb_old___"); err != nil {
				return err
			}
			if err := os.Rename(p+"___jb_tmp___", p); err != nil {
				return err
			}
			return os.Remove(p + "___jb_old___")
		}},
		{"emacs: lock link, autosave, backup", func() error {
			if err := os.Symlink("user@host.1", filepath.Join(dir, ".#main.go")); err != nil {
				return err
			}
			if err := write(filepath.Join(dir, "#main.go#"), "v5"); err != nil {
				return err
			}
			if err := os.Rename(p, p+"~"); err != nil {
				return err
			}
			if err := write(p, "v5"); err != nil {
				return err
			}
			os.Remove(filepath.Join(dir, "#main.go#"))
			return os.Remove(filepath.Join(dir, ".#main.go"))
		}},
	} {
		if err := tc.save(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		select {
		case ch := <-w.Changes():
			if !slices.Equal(ch.Dirs, []string{dir}) || ch.Events == 0 {
				t.Fatalf("%s: change %+v", tc.name, ch)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%s: no change reported", tc.name)
		}
	}
}
