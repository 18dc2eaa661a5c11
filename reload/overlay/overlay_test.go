package overlay

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/sdk/manifest"
)

func skillDir(t *testing.T, parent, name string) string {
	t.Helper()
	dir := filepath.Join(parent, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	md := "---\nname: " + name + "\ndescription: A guide.\nmetadata:\n  version: 1.0.0\n---\n# " + name + "\n"
	if err := os.WriteFile(filepath.Join(dir, "SKILL.md"), []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRegisterListUnregister(t *testing.T) {
	home, src := t.TempDir(), t.TempDir()
	a, b := skillDir(t, src, "alpha"), skillDir(t, src, "beta")
	if _, err := Register(home, a, os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := Register(home, b, 0); err != nil {
		t.Fatal(err)
	}
	got, err := List(home)
	if err != nil || len(got) != 2 || got[0].Name != "alpha" || got[0].Dir != a || got[1].Name != "beta" {
		t.Fatalf("List: %+v, %v", got, err)
	}
	// Unregistering a folder that is no longer the registered one leaves
	// the newer registration alone.
	if err := Unregister(home, "alpha", "/elsewhere/alpha"); err != nil {
		t.Fatal(err)
	}
	if got, _ := List(home); len(got) != 2 {
		t.Fatalf("after a foreign unregister: %+v", got)
	}
	if err := Unregister(home, "alpha", a); err != nil {
		t.Fatal(err)
	}
	if err := Unregister(home, "alpha", a); err != nil {
		t.Fatalf("second unregister: %v", err)
	}
	if got, _ := List(home); len(got) != 1 || got[0].Name != "beta" {
		t.Fatalf("after unregister: %+v", got)
	}
	if _, err := Register(home, t.TempDir(), 0); err == nil || !strings.Contains(err.Error(), "SKILL.md") {
		t.Fatalf("register a folder without SKILL.md: %v", err)
	}
}

func TestListSkipsDeadOwners(t *testing.T) {
	home := t.TempDir()
	dir := skillDir(t, t.TempDir(), "alpha")
	if _, err := Register(home, dir, 1<<30); err != nil { // no such process
		t.Fatal(err)
	}
	if got, err := List(home); err != nil || len(got) != 0 {
		t.Fatalf("List: %+v, %v", got, err)
	}
}

func TestOverlay(t *testing.T) {
	home, src := t.TempDir(), t.TempDir()
	dev := skillDir(t, src, "alpha")
	gone := skillDir(t, src, "gamma")
	for _, d := range []string{dev, gone} {
		if _, err := Register(home, d, 0); err != nil {
			t.Fatal(err)
		}
	}
	os.RemoveAll(gone)
	installed := []host.Source{
		{Dir: "/store/1", Manifest: &manifest.Manifest{Name: "alpha"}, SHA256: "1", Origin: "bundled 1.0.0"},
		{Dir: "/store/2", Manifest: &manifest.Manifest{Name: "beta"}, SHA256: "2", Origin: "bundled 1.0.0"},
		{Dir: "/store/3", Manifest: &manifest.Manifest{Name: "gamma"}, SHA256: "3", Origin: "bundled 1.0.0"},
	}
	got, err := Overlay(home, installed)
	if err != nil {
		t.Fatal(err)
	}
	var desc []string
	for _, s := range got {
		desc = append(desc, s.Dir+" "+s.Origin)
	}
	want := []string{"/store/2 bundled 1.0.0", "/store/3 bundled 1.0.0", dev + " dev"}
	if !slices.Equal(desc, want) {
		t.Fatalf("overlay %q, want %q", desc, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"alpha", `{"name":"alpha","dir":"/src/alpha","pid":1,"since":"2026-01-01T00:00:00Z"}`, ""},
		{"alpha", `{"name":"alpha","dir":"/src/alpha"`, "unexpected EOF"},
		{"alpha", `{"name":"beta","dir":"/src/alpha"}`, `name "beta" does not match`},
		{"alpha", `{"name":"alpha","dir":"src/alpha"}`, "not an absolute path"},
		{"alpha", `{"name":"alpha","dir":"/a","extra":1}`, `unknown field "extra"`},
		{"alpha", `{"name":"alpha","dir":"/a","pid":-1}`, "pid -1 is negative"},
		{"alpha", `{"name":"alpha","dir":"/a"} {}`, "data after the registration"},
		{"alpha", strings.Repeat(" ", maxSize+1), "larger than"},
	} {
		_, err := parse(filepath.Join("/home/dev", tc.name+".json"), []byte(tc.data))
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%.40s: %v, want %q", tc.data, err, tc.want)
		}
		if err != nil && !strings.Contains(err.Error(), "/home/dev/alpha.json") {
			t.Errorf("error does not name the file: %v", err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"name":"alpha","dir":"/src/alpha","pid":1,"since":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"name":"alpha","dir":"relative"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"since":"not a time"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := parse("/home/dev/alpha.json", data)
		if err == nil && (e.Name != "alpha" || !filepath.IsAbs(e.Dir) || e.PID < 0) {
			t.Fatalf("accepted %+v", e)
		}
	})
}
