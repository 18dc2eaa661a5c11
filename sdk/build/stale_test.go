package build

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStale(t *testing.T) {
	old := time.Now().Add(-time.Hour)
	tests := []struct {
		name  string
		files map[string]time.Time // relative path -> mtime; "out.wasm" is the artifact
		want  bool
	}{
		{"missing artifact", map[string]time.Time{"main.go": old}, true},
		{"artifact newer", map[string]time.Time{"main.go": old, "go.mod": old, "out.wasm": time.Now()}, false},
		{"source newer", map[string]time.Time{"out.wasm": old, "main.go": time.Now()}, true},
		{"go.sum newer", map[string]time.Time{"out.wasm": old, "main.go": old.Add(-time.Hour), "go.sum": time.Now()}, true},
		{"docs newer do not count", map[string]time.Time{"out.wasm": old, "main.go": old.Add(-time.Hour), "README.md": time.Now()}, false},
		{"testdata newer does not count", map[string]time.Time{"out.wasm": old, "main.go": old.Add(-time.Hour), "testdata/x.go": time.Now()}, false},
		{"nested skill does not count", map[string]time.Time{"out.wasm": old, "main.go": old.Add(-time.Hour), "sub/SKILL.md": old, "sub/main.go": time.Now()}, false},
		{"sub-package counts", map[string]time.Time{"out.wasm": old, "main.go": old.Add(-time.Hour), "internal/x.go": time.Now()}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, mt := range tt.files {
				p := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(p, mt, mt); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Stale(dir, "out.wasm")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Stale = %v, want %v", got, tt.want)
			}
		})
	}
}
