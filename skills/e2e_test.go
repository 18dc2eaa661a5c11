package skills_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/sdk/build"
	"github.com/skillsdev/skills/sdk/manifest"
	"github.com/skillsdev/skills/sdk/wire"
)

// exampleDirs are the example skills.
var exampleDirs = []string{"wordcount", "summarize", "report", "sysinfo"}

// testdataDirs are the host's test skills (they call the example skills).
var testdataDirs = []string{
	"../host/testdata/cyc-a", "../host/testdata/cyc-b", "../host/testdata/deep",
	"../host/testdata/undeclared-tool", "../host/testdata/undeclared-skill",
	"../host/testdata/cross-plugin", "../host/testdata/cross-wasm",
	"../host/testdata/strict-input", "../host/testdata/escape",
}

// buildAll copies each skill's SKILL.md into one folder per skill under
// root and builds its artifact there, so the source tree gets no build
// output. Builds run two at a time (the machines have two cores).
func buildAll(t *testing.T, root string, skillDirs []string) []string {
	t.Helper()
	ctx := t.Context()
	dirs := make([]string, len(skillDirs))
	errs := make([]error, len(skillDirs))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, src := range skillDirs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			m, err := manifest.Load(src)
			if err != nil {
				errs[i] = err
				return
			}
			dst := filepath.Join(root, m.Name)
			if err := os.MkdirAll(dst, 0o755); err != nil {
				errs[i] = err
				return
			}
			data, err := os.ReadFile(filepath.Join(src, "SKILL.md"))
			if err == nil {
				err = os.WriteFile(filepath.Join(dst, "SKILL.md"), data, 0o644)
			}
			if err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = build.Build(ctx, build.Options{Dir: src, Runtime: m.Runtime, Output: filepath.Join(dst, filepath.FromSlash(m.Entry))})
			dirs[i] = dst
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return dirs
}

// call is one call of a skill through the host and what it must give.
type call struct {
	name     string
	skill    string
	input    string
	want     string   // exact output, when set
	contains []string // substrings of the output (or of the error's JSON and text)
	wantCode wire.Code
}

// env is a host with skills built from source, a workspace holding
// notes.md, and secret.txt just outside the workspace.
type env struct {
	h    *host.Host
	root string
}

// newEnv builds the skills in dirs and loads them into a real host: wasm
// modules in wazero, plugins as child processes, host tools on a real
// workspace.
func newEnv(t *testing.T, dirs []string) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("builds skills from source and compiles them")
	}
	if raceEnabled {
		// The skills run in wasm and in child processes, where the race
		// detector sees nothing; in this process it would only slow
		// wazero's compiler down (minutes per module) while checking host
		// code, which the host's own tests cover.
		t.Skip("the skills under test run outside this process; the race detector only slows the wasm compiler")
	}
	ctx := context.Background()
	root := t.TempDir()
	start := time.Now()
	built := buildAll(t, filepath.Join(root, "skills"), dirs)
	t.Logf("built %d skills in %v", len(built), time.Since(start))
	workspace := filepath.Join(root, "workspace")
	if err := os.MkdirAll(workspace, 0o755); err != nil {
		t.Fatal(err)
	}
	notes := "# Cat Notes\n\nCats sleep a lot. Cats chase mice at night.\n\n" +
		"The weather was fine.\n\n```\ncode cats cats cats\n```\n\n- Dogs bark.\n"
	if err := os.WriteFile(filepath.Join(workspace, "notes.md"), []byte(notes), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "secret.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := host.New(ctx, host.Options{
		Home: filepath.Join(root, "home"), Workspace: workspace,
		// Bounds a call tree that hangs (deep has no metadata.timeout).
		DefaultTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	start = time.Now()
	res, err := h.LoadDir(ctx, built...)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded in %v", time.Since(start))
	return &env{h: h, root: root}
}

func (e *env) run(t *testing.T, calls []call) {
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.h.Call(context.Background(), tt.skill, json.RawMessage(tt.input))
			got := string(out)
			if tt.wantCode != "" {
				var we *wire.Error
				if !errors.As(err, &we) || we.Code != tt.wantCode {
					t.Fatalf("Call = %s, %v; want error code %s", out, err, tt.wantCode)
				}
				got = we.Error()
				if b, jerr := json.Marshal(we); jerr == nil {
					got = string(b) + " " + got
				}
			} else if err != nil {
				t.Fatalf("Call: %v", err)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("Call =\n %s\nwant\n %s", got, tt.want)
			}
			for _, s := range tt.contains {
				if !strings.Contains(got, s) {
					t.Errorf("Call = %s\nlacks %q", got, s)
				}
			}
		})
	}
}

// TestExampleSkills builds the example skills from source and calls them
// through a real host, including their calls to each other (report, a
// plugin, calls summarize and wordcount, wasm modules) and to host tools.
func TestExampleSkills(t *testing.T) {
	e := newEnv(t, exampleDirs)
	e.run(t, []call{
		{name: "wordcount example", skill: "wordcount",
			input: `{"text": "The cat sat. The cat slept!\nA dog barked.", "top": 3}`,
			want:  `{"words":9,"lines":2,"characters":41,"top":[{"word":"cat","count":2},{"word":"the","count":2},{"word":"a","count":1}]}`},
		{name: "wordcount refuses top 101", skill: "wordcount", input: `{"text": "a", "top": 101}`, wantCode: wire.CodeInvalidInput},
		{name: "summarize example calls wordcount", skill: "summarize",
			input: `{"text": "Cats are small. The weather was fine. Cats chase mice and cats sleep. Dogs bark.", "sentences": 2}`,
			want: `{"summary":"Cats are small. Cats chase mice and cats sleep.","sentences":[` +
				`{"index":0,"text":"Cats are small.","score":1.3333},{"index":2,"text":"Cats chase mice and cats sleep.","score":1.5}]}`},
		{name: "report calls summarize and wordcount", skill: "report", input: `{"path": "notes.md", "sentences": 1}`,
			contains: []string{`"path":"notes.md"`, `"words":21`, `# Cat Notes`, "Report on `notes.md`, generated at ",
				`| Lines | 11 |`, `## Summary\n\nCats sleep a lot.\n`, "| cats | 5 |"}},
		{name: "report on a missing file", skill: "report", input: `{"path": "nope.md"}`, wantCode: wire.CodeToolFailed,
			contains: []string{`cannot report on \"nope.md\"`}},
		{name: "report outside the workspace", skill: "report", input: `{"path": "../secret.txt"}`, wantCode: wire.CodeToolDenied,
			contains: []string{`cannot report on \"../secret.txt\"`}},
		{name: "sysinfo is native", skill: "sysinfo", input: `{"fields": ["os", "arch"]}`,
			want: `{"os":"` + runtime.GOOS + `","arch":"` + runtime.GOARCH + `"}`},
		{name: "sysinfo refuses an unknown field", skill: "sysinfo", input: `{"fields": ["disk"]}`, wantCode: wire.CodeInvalidInput},
	})
}

// TestTestdataSkills checks that the host's test skills in host/testdata
// do what their SKILL.md says against a real host. It builds and compiles
// 13 skills (minutes on a busy machine), so it runs only when
// SKILLS_TESTDATA_E2E=1; the host's own tests exercise these skills too.
func TestTestdataSkills(t *testing.T) {
	if os.Getenv("SKILLS_TESTDATA_E2E") != "1" {
		t.Skip("set SKILLS_TESTDATA_E2E=1 to build and run the host's test skills")
	}
	e := newEnv(t, append(slices.Clone(exampleDirs), testdataDirs...))
	e.run(t, []call{
		{name: "cycle", skill: "cyc-a", input: `{}`, wantCode: wire.CodeCycle, contains: []string{"cyc-a -> cyc-b -> cyc-a"}},
		{name: "depth", skill: "deep", input: `{"n": 0}`, wantCode: wire.CodeDepthExceeded},
		{name: "undeclared tool", skill: "undeclared-tool", input: `{}`, contains: []string{`"code":"tool_denied"`}},
		{name: "undeclared skill", skill: "undeclared-skill", input: `{}`, contains: []string{`"code":"skill_denied"`}},
		{name: "plugin calls wasm", skill: "cross-plugin", input: `{"text": "b a b"}`,
			want: `{"words":3,"lines":1,"characters":5,"top":[{"word":"b","count":2},{"word":"a","count":1}]}`},
		{name: "wasm calls plugin", skill: "cross-wasm", input: `{}`,
			contains: []string{`"os":"` + runtime.GOOS + `"`, `"arch":"` + runtime.GOARCH + `"`}},
		{name: "strict input accepted", skill: "strict-input", input: `{"n": 21}`, want: `{"double":42,"n":21}`},
		{name: "strict input refused by the host", skill: "strict-input", input: `{"n": 0}`, wantCode: wire.CodeInvalidInput},
		{name: "escape inside", skill: "escape", input: `{"path": "notes.md"}`, contains: []string{`"content":"# Cat Notes`}},
		{name: "escape with dot-dot", skill: "escape", input: `{"path": "../secret.txt"}`, wantCode: wire.CodeToolDenied},
		{name: "escape absolute", skill: "escape", input: `{"path": "` + filepath.ToSlash(filepath.Join(e.root, "secret.txt")) + `"}`, wantCode: wire.CodeToolDenied},
	})
}
