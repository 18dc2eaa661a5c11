package skills_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/internal/skilltest"
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

// call is one call of a skill through the host and what it must give.
type call struct {
	name     string
	skill    string
	input    string
	want     string   // exact output, when set
	contains []string // substrings of the output (or of the error's JSON and text)
	wantCode wire.Code
	chain    []string // the error's chain, when set
}

// env is a host with skills built from source, a workspace holding
// notes.md and symlinks that lead out of it, and secret.txt just outside.
type env struct {
	h    *host.Host
	root string
}

// secret is the content of the file outside the workspace: no output or
// error may ever show it.
const secret = "TOP-SECRET: outside the workspace"

// shared is the package's one env, made by the first test that needs it
// and closed by TestMain: both end-to-end tests use the same 13 skills, so
// they are built and compiled once.
var shared struct {
	once sync.Once
	env  *env
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if e := shared.env; e != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := e.h.Close(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "close host:", err)
		}
		cancel()
		os.RemoveAll(e.root)
	}
	os.Exit(code)
}

// sharedEnv returns the shared env, making it on first use.
func sharedEnv(t *testing.T) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("builds skills from source and compiles them")
	}
	shared.once.Do(func() {
		start := time.Now()
		shared.env, shared.err = newEnv(context.Background(), append(slices.Clone(exampleDirs), testdataDirs...))
		t.Logf("built, compiled and loaded the skills in %v", time.Since(start).Round(time.Millisecond))
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.env
}

// newEnv builds the skills in dirs, compiles the wasm ones ahead of time
// (outside this process, which may run under the race detector) and loads
// them into a real host: wasm modules in wazero, plugins as child
// processes, host tools on a real workspace.
func newEnv(ctx context.Context, dirs []string) (_ *env, err error) {
	root, err := os.MkdirTemp("", "skills-e2e-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(root)
		}
	}()
	home := filepath.Join(root, "home")
	built, err := skilltest.StageContext(ctx, home, filepath.Join(root, "skills"), dirs...)
	if err != nil {
		return nil, err
	}
	workspace := filepath.Join(root, "workspace")
	notes := "# Cat Notes\n\nCats sleep a lot. Cats chase mice at night.\n\n" +
		"The weather was fine.\n\n```\ncode cats cats cats\n```\n\n- Dogs bark.\n"
	secretPath := filepath.Join(root, "secret.txt")
	for _, step := range []func() error{
		func() error { return os.MkdirAll(workspace, 0o755) },
		func() error { return os.WriteFile(filepath.Join(workspace, "notes.md"), []byte(notes), 0o644) },
		func() error { return os.WriteFile(secretPath, []byte(secret), 0o644) },
		func() error { return os.Symlink("../secret.txt", filepath.Join(workspace, "link-out")) },
		func() error { return os.Symlink(secretPath, filepath.Join(workspace, "link-abs")) },
		func() error { return os.Symlink("..", filepath.Join(workspace, "link-dir-out")) },
		func() error { return os.Symlink("notes.md", filepath.Join(workspace, "link-in")) },
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	h, err := host.New(ctx, host.Options{
		Home: home, Workspace: workspace,
		// Bounds a call tree that hangs (deep has no metadata.timeout).
		DefaultTimeout: 30 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	res, err := h.LoadDir(ctx, built...)
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		h.Close(ctx)
		return nil, err
	}
	return &env{h: h, root: root}, nil
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
				if tt.chain != nil && !slices.Equal(we.Chain, tt.chain) {
					t.Errorf("chain = %q, want %q", we.Chain, tt.chain)
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
			if strings.Contains(got, secret) {
				t.Errorf("Call = %s\nshows the secret outside the workspace", got)
			}
		})
	}
}

// TestExampleSkills calls the example skills through a real host,
// including their calls to each other (report, a plugin, calls summarize
// and wordcount, wasm modules) and to host tools.
func TestExampleSkills(t *testing.T) {
	e := sharedEnv(t)
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
		{name: "report through a symlink out", skill: "report", input: `{"path": "link-out"}`, wantCode: wire.CodeToolDenied},
		{name: "sysinfo is native", skill: "sysinfo", input: `{"fields": ["os", "arch"]}`,
			want: `{"os":"` + runtime.GOOS + `","arch":"` + runtime.GOARCH + `"}`},
		{name: "sysinfo refuses an unknown field", skill: "sysinfo", input: `{"fields": ["disk"]}`, wantCode: wire.CodeInvalidInput},
	})
}

// TestTestdataSkills checks the bad input a host must refuse, with the
// host's test skills in host/testdata, against a real host: each skill
// does what its SKILL.md says.
func TestTestdataSkills(t *testing.T) {
	e := sharedEnv(t)
	depth := make([]string, host.DefaultMaxDepth+1) // the full chain, and the refused hop
	for i := range depth {
		depth[i] = "deep"
	}
	e.run(t, []call{
		{name: "depth exceeded", skill: "deep", input: `{"n": 0}`, wantCode: wire.CodeDepthExceeded, chain: depth,
			contains: []string{fmt.Sprintf("limit of %d", host.DefaultMaxDepth)}},
		{name: "cycle a b a", skill: "cyc-a", input: `{}`, wantCode: wire.CodeCycle,
			chain: []string{"cyc-a", "cyc-b", "cyc-a"}, contains: []string{"cyc-a -> cyc-b -> cyc-a"}},
		{name: "cycle b a b", skill: "cyc-b", input: `{}`, wantCode: wire.CodeCycle, chain: []string{"cyc-b", "cyc-a", "cyc-b"}},
		{name: "undeclared tool", skill: "undeclared-tool", input: `{}`,
			contains: []string{`"code":"tool_denied"`, "undeclared-tool does not list read_file in allowed-tools"}},
		{name: "undeclared skill", skill: "undeclared-skill", input: `{}`,
			contains: []string{`"code":"skill_denied"`, "undeclared-skill does not list wordcount under ## Requires"}},
		{name: "plugin calls wasm", skill: "cross-plugin", input: `{"text": "b a b"}`,
			want: `{"words":3,"lines":1,"characters":5,"top":[{"word":"b","count":2},{"word":"a","count":1}]}`},
		{name: "wasm calls plugin", skill: "cross-wasm", input: `{}`,
			contains: []string{`"os":"` + runtime.GOOS + `"`, `"arch":"` + runtime.GOARCH + `"`}},
		{name: "schema accepts", skill: "strict-input", input: `{"n": 21}`, want: `{"double":42,"n":21}`},
		{name: "schema refuses n 0", skill: "strict-input", input: `{"n": 0}`, wantCode: wire.CodeInvalidInput},
		{name: "schema refuses no n", skill: "strict-input", input: `{}`, wantCode: wire.CodeInvalidInput},
		{name: "schema refuses a fraction", skill: "strict-input", input: `{"n": 1.5}`, wantCode: wire.CodeInvalidInput},
		{name: "schema refuses a string", skill: "strict-input", input: `{"n": "3"}`, wantCode: wire.CodeInvalidInput},
		{name: "schema refuses an extra key", skill: "strict-input", input: `{"n": 1, "x": 2}`, wantCode: wire.CodeInvalidInput},
		{name: "schema refuses bad JSON", skill: "strict-input", input: `{"n": `, wantCode: wire.CodeInvalidInput},
		{name: "read inside", skill: "escape", input: `{"path": "notes.md"}`, contains: []string{`"content":"# Cat Notes`}},
		{name: "read through a symlink inside", skill: "escape", input: `{"path": "link-in"}`, contains: []string{`"content":"# Cat Notes`}},
		{name: "read missing", skill: "escape", input: `{"path": "nope.md"}`, wantCode: wire.CodeToolFailed},
		{name: "read dot-dot", skill: "escape", input: `{"path": "../secret.txt"}`, wantCode: wire.CodeToolDenied},
		{name: "read etc passwd", skill: "escape", input: `{"path": "../../etc/passwd"}`, wantCode: wire.CodeToolDenied,
			contains: []string{`\"../../etc/passwd\" escapes the workspace`}},
		{name: "read absolute", skill: "escape", input: `{"path": "/etc/passwd"}`, wantCode: wire.CodeToolDenied},
		{name: "read absolute secret", skill: "escape", input: `{"path": "` + filepath.ToSlash(filepath.Join(e.root, "secret.txt")) + `"}`, wantCode: wire.CodeToolDenied},
		{name: "read symlink out", skill: "escape", input: `{"path": "link-out"}`, wantCode: wire.CodeToolDenied,
			contains: []string{"escapes the workspace"}},
		{name: "read absolute symlink out", skill: "escape", input: `{"path": "link-abs"}`, wantCode: wire.CodeToolDenied},
		{name: "read through a symlinked dir out", skill: "escape", input: `{"path": "link-dir-out/secret.txt"}`, wantCode: wire.CodeToolDenied},
	})
}
