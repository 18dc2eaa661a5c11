package publish

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/registry"
	"github.com/skillsdev/skills/marketplace/sign"
	"github.com/skillsdev/skills/sdk/manifest"
)

// now is the clock of these tests; registries they publish expire long
// after it, and clients read them with the same clock.
var now = time.Date(2026, 9, 15, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

func newTestKey(t testing.TB, name string) Key {
	t.Helper()
	skey, _, err := sign.GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func opts(k Key) Options { return Options{Key: k, Now: clock} }

// skillSpec describes a skill folder for writeSkill.
type skillSpec struct {
	name, version string
	runtime       manifest.Runtime
	requires      []string          // "name constraint" bullets of ## Requires
	files         map[string]string // extra files: assets and noise
	mainGo        string            // main.go; "" means an empty program
}

// writeSkill writes a real skill folder under root: SKILL.md, and for code
// skills a Go module (go.mod, main.go) that builds with no dependencies.
func writeSkill(t testing.TB, root string, s skillSpec) string {
	t.Helper()
	dir := filepath.Join(root, s.name)
	var md strings.Builder
	fmt.Fprintf(&md, "---\nname: %s\ndescription: Test skill %s, version %s.\nmetadata:\n  version: %s\n", s.name, s.name, s.version, s.version)
	if s.runtime != manifest.RuntimeInstructions {
		entry := s.name
		if s.runtime == manifest.RuntimeWasm {
			entry += ".wasm"
		}
		fmt.Fprintf(&md, "  runtime: %s\n  entry: %s\n", s.runtime, entry)
	}
	fmt.Fprintf(&md, "---\n# %s\n\nA skill for tests.\n", s.name)
	if len(s.requires) > 0 {
		md.WriteString("\n## Requires\n\n")
		for _, r := range s.requires {
			md.WriteString("- " + r + "\n")
		}
	}
	if s.runtime != manifest.RuntimeInstructions {
		md.WriteString("\n## Input\n\n```json\n{\"type\": \"object\"}\n```\n")
	}
	files := map[string]string{"SKILL.md": md.String()}
	if s.runtime != manifest.RuntimeInstructions {
		files["go.mod"] = "module example.com/" + s.name + "\n\ngo 1.26\n"
		files["main.go"] = s.mainGo
		if files["main.go"] == "" {
			files["main.go"] = "package main\n\nfunc main() {}\n"
		}
	}
	for k, v := range s.files {
		files[k] = v
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fetch reads the registry in dir as a client does, verifying the signature
// with vkey; state is the client's freshness folder (rollback protection).
func fetch(t testing.TB, dir, vkey, state string) (*registry.Registry, *registry.Fetched, error) {
	t.Helper()
	r, err := registry.New(registry.Config{Name: "test", URL: dir, Keys: []string{vkey}}, registry.Options{StateDir: state, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	f, err := r.Fetch(context.Background())
	return r, f, err
}

// snapshot is the content of every file under dir, to check that a refused
// change wrote nothing.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := make(map[string]string)
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !d.IsDir() {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(dir, p)
			out[rel] = string(data)
		}
		return nil
	})
	return out
}

func sameSnapshot(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal([]byte(v), []byte(w)) {
			return false
		}
	}
	return true
}

func readIndex(t testing.TB, dir string) *index.Index {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	x, err := index.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return x
}
