// Package skills_test checks that every example skill, and every test skill
// of the host in host/testdata, has a SKILL.md that the platform accepts and
// that says what the skill's code does.
package skills_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/skillsdev/skills/sdk/manifest"
)

func TestManifests(t *testing.T) {
	tests := []struct {
		dir       string
		runtime   manifest.Runtime
		entry     string
		requires  []string // "name constraint"
		tools     []string
		reentrant bool
	}{
		{dir: "wordcount", runtime: manifest.RuntimeWasm, entry: "wordcount.wasm"},
		{dir: "summarize", runtime: manifest.RuntimeWasm, entry: "summarize.wasm", requires: []string{"wordcount ^1.0"}},
		{dir: "report", runtime: manifest.RuntimePlugin, entry: "report",
			requires: []string{"summarize ^1.0", "wordcount ^1.0"}, tools: []string{"read_file", "now"}},
		{dir: "sysinfo", runtime: manifest.RuntimePlugin, entry: "sysinfo"},

		{dir: "../host/testdata/cyc-a", runtime: manifest.RuntimeWasm, entry: "cyc-a.wasm", requires: []string{"cyc-b ^1.0"}},
		{dir: "../host/testdata/cyc-b", runtime: manifest.RuntimeWasm, entry: "cyc-b.wasm", requires: []string{"cyc-a ^1.0"}},
		{dir: "../host/testdata/deep", runtime: manifest.RuntimeWasm, entry: "deep.wasm", reentrant: true},
		{dir: "../host/testdata/undeclared-tool", runtime: manifest.RuntimeWasm, entry: "undeclared-tool.wasm"},
		{dir: "../host/testdata/undeclared-skill", runtime: manifest.RuntimeWasm, entry: "undeclared-skill.wasm"},
		{dir: "../host/testdata/cross-plugin", runtime: manifest.RuntimePlugin, entry: "cross-plugin", requires: []string{"wordcount ^1.0"}},
		{dir: "../host/testdata/cross-wasm", runtime: manifest.RuntimeWasm, entry: "cross-wasm.wasm", requires: []string{"sysinfo ^1.0"}},
		{dir: "../host/testdata/strict-input", runtime: manifest.RuntimeWasm, entry: "strict-input.wasm"},
		{dir: "../host/testdata/escape", runtime: manifest.RuntimeWasm, entry: "escape.wasm", tools: []string{"read_file"}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.dir), func(t *testing.T) {
			m, err := manifest.Load(tt.dir)
			if err != nil {
				t.Fatal(err)
			}
			if m.Name != filepath.Base(tt.dir) || m.Version.String() != "1.0.0" || m.Runtime != tt.runtime || m.Entry != tt.entry {
				t.Errorf("got name %q version %s runtime %s entry %q", m.Name, m.Version, m.Runtime, m.Entry)
			}
			var req []string
			for _, r := range m.Requires {
				req = append(req, r.Name+" "+r.Raw)
			}
			if !slices.Equal(req, tt.requires) {
				t.Errorf("requires %q, want %q", req, tt.requires)
			}
			if !slices.Equal(m.AllowedTools, tt.tools) {
				t.Errorf("allowed-tools %q, want %q", m.AllowedTools, tt.tools)
			}
			if m.Reentrant != tt.reentrant {
				t.Errorf("reentrant %v, want %v", m.Reentrant, tt.reentrant)
			}
			if m.InputSchema == nil {
				t.Error("no ## Input schema")
			}
			if len(m.Description) < 40 {
				t.Errorf("description too short to tell a model what the skill does: %q", m.Description)
			}
		})
	}
}

// TestExampleSkillsDocument checks what the example skills (not the test
// skills) promise people and models: examples and an ## Output schema.
func TestExampleSkillsDocument(t *testing.T) {
	for _, dir := range []string{"wordcount", "summarize", "report", "sysinfo"} {
		m, err := manifest.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if m.OutputSchema == nil {
			t.Errorf("%s: no ## Output schema", dir)
		}
		if !strings.Contains(m.Body, "## Examples") {
			t.Errorf("%s: no ## Examples section", dir)
		}
		if m.License != "Apache-2.0" {
			t.Errorf("%s: license %q", dir, m.License)
		}
	}
}

// TestInputSchemas checks each example skill's schema against inputs it
// must accept and refuse, so the schema the model sees matches the code.
func TestInputSchemas(t *testing.T) {
	tests := []struct {
		dir    string
		input  string
		accept bool
	}{
		{"wordcount", `{"text": "a b"}`, true},
		{"wordcount", `{"text": "a", "top": 0, "stopwords": true}`, true},
		{"wordcount", `{"text": "a", "top": 101}`, false},
		{"wordcount", `{"top": 3}`, false},
		{"summarize", `{"text": "A. B.", "sentences": 50}`, true},
		{"summarize", `{"text": "A.", "sentences": 0}`, false},
		{"report", `{"path": "notes.md"}`, true},
		{"report", `{"path": ""}`, false},
		{"report", `{"path": "a.md", "sentences": 51}`, false},
		{"sysinfo", `{}`, true},
		{"sysinfo", `{"fields": ["os", "memory"]}`, true},
		{"sysinfo", `{"fields": []}`, false},
		{"sysinfo", `{"fields": ["disk"]}`, false},
		{"../host/testdata/strict-input", `{"n": 1}`, true},
		{"../host/testdata/strict-input", `{}`, false},
		{"../host/testdata/strict-input", `{"n": 0}`, false},
		{"../host/testdata/strict-input", `{"n": 1.5}`, false},
		{"../host/testdata/strict-input", `{"n": "3"}`, false},
		{"../host/testdata/strict-input", `{"n": 1, "x": 2}`, false},
	}
	for _, tt := range tests {
		m, err := manifest.Load(tt.dir)
		if err != nil {
			t.Fatal(err)
		}
		err = m.ValidateInput([]byte(tt.input))
		if (err == nil) != tt.accept {
			t.Errorf("%s: ValidateInput(%s) = %v, want accept %v", filepath.Base(tt.dir), tt.input, err, tt.accept)
		}
	}
}
