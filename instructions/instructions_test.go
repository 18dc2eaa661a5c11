package instructions

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skillsdev/skills/sdk/manifest"
)

// write creates a skill folder named name under root holding SKILL.md with
// body and the given files, and returns its parsed manifest.
func write(t *testing.T, root, name, body string, files ...string) *manifest.Manifest {
	t.Helper()
	dir := filepath.Join(root, name)
	md := "---\nname: " + name + "\ndescription: The " + name + " skill.\n---\n" + body
	for _, f := range append([]string{manifest.FileName}, files...) {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data := []byte("x")
		if f == manifest.FileName {
			data = []byte(md)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := manifest.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRender(t *testing.T) {
	root := t.TempDir()
	for _, tc := range []struct {
		name, body string
		files      []string
		want       []string // in this order
		not        []string
	}{
		{
			name:  "pdf-forms",
			body:  "# PDF forms\n\nRun `scripts/fill.py`.\n",
			files: []string{"scripts/fill.py", "references/FORMS.md", "assets/blank.pdf", ".git/HEAD", ".env", "scripts/.cache"},
			want: []string{"# Skill: pdf-forms\n\n# PDF forms\n\nRun `scripts/fill.py`.\n\n---\nSkill folder: ",
				"Files:\n- assets/blank.pdf\n- references/FORMS.md\n- scripts/fill.py\n"},
			not: []string{".git", ".env", ".cache", "SKILL.md"},
		},
		{
			name: "bare",
			body: "",
			want: []string{"# Skill: bare\n\nThe bare skill.\n", "The folder holds no files besides SKILL.md."},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := write(t, root, tc.name, tc.body, tc.files...)
			got := Render(m)
			at := 0
			for _, w := range tc.want {
				i := strings.Index(got[at:], w)
				if i < 0 {
					t.Fatalf("Render lacks %q after byte %d:\n%s", w, at, got)
				}
				at += i + len(w)
			}
			for _, n := range tc.not {
				if strings.Contains(got[strings.Index(got, "---\n"):], n) {
					t.Errorf("Render lists %q:\n%s", n, got)
				}
			}
			if !strings.Contains(got, "Skill folder: "+m.Dir+"\n") {
				t.Errorf("Render does not name the folder %s:\n%s", m.Dir, got)
			}
		})
	}
}

func TestRenderWithoutFolder(t *testing.T) {
	m, err := manifest.Parse("SKILL.md", []byte("---\nname: loose\ndescription: Loose.\n---\nDo this.\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := Render(m); got != "# Skill: loose\n\nDo this.\n" {
		t.Fatalf("Render = %q", got)
	}
}

func TestFilesCap(t *testing.T) {
	var files []string
	for i := range MaxFiles + 5 {
		files = append(files, fmt.Sprintf("references/%03d.md", i))
	}
	m := write(t, t.TempDir(), "many", "Body.\n", files...)
	got, more, err := Files(m.Dir)
	if err != nil || len(got) != MaxFiles || more != 5 || got[0] != "references/000.md" {
		t.Fatalf("Files: %d files, %d more, %v", len(got), more, err)
	}
	if !strings.Contains(Render(m), "- ... and 5 more\n") {
		t.Fatal("Render does not say how many files were left out")
	}
	if _, _, err := Files(filepath.Join(m.Dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Files of a missing folder: %v", err)
	}
}
