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
