package mcpserver

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/sdk/manifest"
)

// info parses a SKILL.md made of the given fields (no folder check).
func info(t *testing.T, name, version, runtime string, dep *host.Deprecation) host.Info {
	t.Helper()
	md := "---\nname: " + name + "\ndescription: The " + name + " skill.\nmetadata:\n"
	if version != "" {
		md += "  version: " + version + "\n"
	}
	md += "  runtime: " + runtime + "\n"
	if runtime != "instructions" {
		md += "  entry: " + name + ".wasm\n"
	}
	md += "---\n# " + name + "\n"
	if runtime != "instructions" {
		md += "## Input\n```json\n{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}}}\n```\n"
	}
	m, err := manifest.Parse("SKILL.md", []byte(md))
	if err != nil {
		t.Fatal(err)
	}
	return host.Info{Manifest: m, Source: host.Source{Deprecated: dep}}
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		name    string
		skills  []host.Info
		tools   map[string]string // name -> description
		prompts map[string]string
	}{
		{
			name:    "code skills are tools, instructions skills prompts",
			skills:  []host.Info{info(t, "count", "1.2.0", "wasm", nil), info(t, "guide", "", "instructions", nil)},
			tools:   map[string]string{"count": "The count skill."},
			prompts: map[string]string{"guide": "The guide skill."},
		},
		{
			name:   "deprecated with a replacement that is not loaded: marked",
			skills: []host.Info{info(t, "count", "1.2.0", "wasm", &host.Deprecation{Replacement: "count2 ^2"})},
			tools:  map[string]string{"count": "The count skill. (deprecated: use count2 ^2)"},
		},
		{
			name:   "deprecated without a replacement: the message",
			skills: []host.Info{info(t, "count", "1.2.0", "wasm", &host.Deprecation{Message: "broken on long texts"})},
			tools:  map[string]string{"count": "The count skill. (deprecated: broken on long texts)"},
		},
		{
			name: "deprecated with its replacement loaded: hidden",
			skills: []host.Info{
				info(t, "count", "1.2.0", "wasm", &host.Deprecation{Replacement: "count2"}),
				info(t, "count2", "2.0.0", "plugin", nil),
			},
			tools: map[string]string{"count2": "The count2 skill."},
		},
		{
			name: "the replacement loaded in a version the constraint refuses: marked",
			skills: []host.Info{
				info(t, "count", "1.2.0", "wasm", &host.Deprecation{Replacement: "count2 ^3"}),
				info(t, "count2", "2.0.0", "wasm", nil),
			},
			tools: map[string]string{"count": "The count skill. (deprecated: use count2 ^3)", "count2": "The count2 skill."},
		},
		{
			name: "instructions skills follow the same rule",
			skills: []host.Info{
				info(t, "guide", "1.0.0", "instructions", &host.Deprecation{Replacement: "guide2"}),
				info(t, "guide2", "", "instructions", nil),
				info(t, "howto", "", "instructions", &host.Deprecation{Replacement: "howto2"}),
			},
			prompts: map[string]string{"guide2": "The guide2 skill.", "howto": "The howto skill. (deprecated: use howto2)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := plan(tc.skills)
			tools := map[string]string{}
			for n, pt := range w.tools {
				tools[n] = pt.tool.Description
				if pt.tool.Name != n {
					t.Errorf("tool %s is named %q", n, pt.tool.Name)
				}
				if !strings.Contains(string(pt.tool.InputSchema.(json.RawMessage)), `"text"`) {
					t.Errorf("tool %s schema %s", n, pt.tool.InputSchema)
				}
			}
			prompts := map[string]string{}
			for n, pp := range w.prompts {
				prompts[n] = pp.prompt.Description
			}
			if tc.tools == nil {
				tc.tools = map[string]string{}
			}
			if tc.prompts == nil {
				tc.prompts = map[string]string{}
			}
			if !reflect.DeepEqual(tools, tc.tools) || !reflect.DeepEqual(prompts, tc.prompts) {
				t.Fatalf("tools %v prompts %v\nwant tools %v prompts %v", tools, prompts, tc.tools, tc.prompts)
			}
		})
	}
}

// TestPlanFingerprint: what a client sees changes the fingerprint, and
// nothing else does.
func TestPlanFingerprint(t *testing.T) {
	fp := func(in host.Info) string { return plan([]host.Info{in}).tools["count"].fingerprint }
	base := fp(info(t, "count", "1.2.0", "wasm", nil))
	if fp(info(t, "count", "1.2.0", "wasm", nil)) != base {
		t.Error("the same skill parsed twice has two fingerprints")
	}
	if fp(info(t, "count", "1.2.1", "wasm", nil)) == base {
		t.Error("a new version keeps the fingerprint")
	}
	if fp(info(t, "count", "1.2.0", "wasm", &host.Deprecation{Message: "old"})) == base {
		t.Error("a deprecation keeps the fingerprint")
	}
	in := info(t, "count", "1.2.0", "wasm", nil)
	in.Source.Dir = "/elsewhere"
	if fp(in) != base {
		t.Error("the folder, which clients do not see, changes the fingerprint")
	}
}

func TestArguments(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"", "{}", ""},
		{"null", "{}", ""},
		{"  null ", "{}", ""},
		{`{"a":1}`, `{"a":1}`, ""},
		{` {"a":1} `, `{"a":1}`, ""},
		{`[1]`, "", "got an array"},
		{`"x"`, "", "got a string"},
		{`true`, "", "got a boolean"},
		{`12`, "", "got a number"},
	} {
		got, err := arguments("count", json.RawMessage(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "invalid_input") {
				t.Errorf("arguments(%q) = %s, %v; want an invalid_input error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("arguments(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

// FuzzArguments: whatever a client sends as arguments, the normalizer
// either passes on an object or says what it got; it never panics.
func FuzzArguments(f *testing.F) {
	for _, s := range []string{"", "null", "{}", `{"text":"x"}`, "[]", `"s"`, "1", "true", " \n{}", "\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := arguments("x", b)
		if err == nil && !bytes.HasPrefix(got, []byte("{")) {
			t.Fatalf("arguments(%q) = %q without an error", b, got)
		}
	})
}

func TestOutputResult(t *testing.T) {
	for _, tc := range []struct {
		out        string
		structured bool
	}{
		{`{"words":1}`, true},
		{` {"words":1}` + "\n", true},
		{`[1,2]`, false},
		{`"text"`, false},
		{`{broken`, false},
	} {
		r := outputResult(json.RawMessage(tc.out))
		if r.IsError || len(r.Content) != 1 || (r.StructuredContent != nil) != tc.structured {
			t.Errorf("outputResult(%q) = %+v", tc.out, r)
		}
	}
}
