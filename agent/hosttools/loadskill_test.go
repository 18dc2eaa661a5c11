package hosttools_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/skillsdev/skills/agent/hosttools"
	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/sdk/manifest"
	"github.com/skillsdev/skills/sdk/wire"
)

// loadInfo writes a skill folder under root and returns it as the host
// would list it. Code skills need no artifact here: load_skill never runs
// them.
func loadInfo(t *testing.T, root, name, runtime string, dep *host.Deprecation, files ...string) host.Info {
	t.Helper()
	dir := filepath.Join(root, name)
	md := "---\nname: " + name + "\ndescription: |\n  The " + name + " skill.\n  Second line.\nmetadata:\n  version: 1.0.0\n  runtime: " + runtime + "\n"
	if runtime != "instructions" {
		md += "  entry: " + name + ".wasm\n---\n## Input\n```json\n{\"type\":\"object\"}\n```\n"
	} else {
		md += "---\n# " + name + "\n\nStep one: read references/a.md.\n"
	}
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
	return host.Info{Manifest: m, Source: host.Source{Dir: dir, Manifest: m, Deprecated: dep}}
}

func TestLoadSkillTool(t *testing.T) {
	root := t.TempDir()
	code := loadInfo(t, root, "count", "wasm", nil)
	pdf := loadInfo(t, root, "pdf-forms", "instructions", nil, "references/a.md", "scripts/fill.py")
	old := loadInfo(t, root, "old-forms", "instructions", &host.Deprecation{Replacement: "pdf-forms"})
	notes := loadInfo(t, root, "notes", "instructions", &host.Deprecation{Message: "unmaintained"})

	if _, ok := hosttools.LoadSkillTool([]host.Info{code}); ok {
		t.Fatal("load_skill is offered without any instructions skill")
	}
	if _, ok := hosttools.LoadSkillTool([]host.Info{code, old, loadInfo(t, t.TempDir(), "pdf-forms", "wasm", nil)}); ok {
		t.Fatal("load_skill is offered for a skill hidden by its replacement")
	}
	tool, ok := hosttools.LoadSkillTool([]host.Info{code, pdf, old, notes})
	if !ok || tool.Name != hosttools.LoadSkill {
		t.Fatalf("load_skill not offered: %+v", tool)
	}
	for _, want := range []string{
		"Skills:\n- notes: The notes skill. Second line. (deprecated: unmaintained)\n- pdf-forms: The pdf-forms skill. Second line.",
	} {
		if !strings.HasSuffix(tool.Description, want) {
			t.Errorf("description %q lacks %q", tool.Description, want)
		}
	}
	if strings.Contains(tool.Description, "old-forms") || strings.Contains(tool.Description, "count") {
		t.Errorf("description lists a hidden or code skill: %q", tool.Description)
	}
	var schema struct {
		Properties struct {
			Name struct {
				Enum []string `json:"enum"`
			} `json:"name"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(tool.InputSchema, &schema); err != nil || !slices.Equal(schema.Properties.Name.Enum, []string{"notes", "pdf-forms"}) || !slices.Equal(schema.Required, []string{"name"}) {
		t.Fatalf("schema %s (%v)", tool.InputSchema, err)
	}

	all := []host.Info{code, pdf, old, notes}
	out, err := hosttools.RunLoadSkill(all, json.RawMessage(`{"name":"pdf-forms"}`))
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Name, Version, Instructions string }
	if err := json.Unmarshal(out, &got); err != nil || got.Name != "pdf-forms" || got.Version != "1.0.0" {
		t.Fatalf("load_skill output %s (%v)", out, err)
	}
	for _, want := range []string{"Step one: read references/a.md.", "Skill folder: " + pdf.Manifest.Dir, "- references/a.md\n- scripts/fill.py\n"} {
		if !strings.Contains(got.Instructions, want) {
			t.Errorf("instructions lack %q:\n%s", want, got.Instructions)
		}
	}

	for _, tc := range []struct {
		input string
		code  wire.Code
		msg   string
	}{
		{`{"name":"count"}`, wire.CodeNotFound, "count is a wasm skill: call it as a tool"},
		{`{"name":"old-forms"}`, wire.CodeNotFound, "available: notes, pdf-forms"},
		{`{"name":"nope"}`, wire.CodeNotFound, `no instructions skill named "nope"`},
		{`{}`, wire.CodeInvalidInput, "name is missing"},
		{`{"name":"notes","x":1}`, wire.CodeInvalidInput, `unknown field "x"`},
		{`[1]`, wire.CodeInvalidInput, `input must be {"name": "<skill>"}`},
	} {
		_, err := hosttools.RunLoadSkill(all, json.RawMessage(tc.input))
		we := wire.AsError(err)
		if err == nil || we.Code != tc.code || !strings.Contains(we.Message, tc.msg) || we.Skill != hosttools.LoadSkill {
			t.Errorf("load_skill %s: %v; want %s with %q", tc.input, err, tc.code, tc.msg)
		}
	}
}
