package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillsdev/skills/marketplace/lock"
	"github.com/skillsdev/skills/reload/overlay"
	"github.com/skillsdev/skills/reload/reloadtest"
)

// agentFix holds what the agent CLI tests share: the tick modules and a
// compilation cache (lasting across runs) holding them and the bundled
// wordcount, which each test home links to. Under the race detector a
// module that is not in the cache takes minutes to compile.
var agentFix struct {
	once      sync.Once
	err       error
	root      string
	cacheHome string
	mods      reloadtest.Variants

	wcOnce sync.Once
	wcErr  error
}

func agentFixtures(t *testing.T) {
	t.Helper()
	agentFix.once.Do(func() {
		f := &agentFix
		if f.root, f.err = reloadtest.Root(); f.err != nil {
			return
		}
		if f.cacheHome = reloadtest.CacheHome("cli-agent-test"); f.cacheHome == "" {
			f.err = fmt.Errorf("no user cache folder for the compilation cache")
			return
		}
		build := filepath.Join(f.cacheHome, "build")
		os.RemoveAll(build)
		f.mods, f.err = reloadtest.BuildVariants(context.Background(), f.root, build, f.cacheHome, "v1", "v2")
	})
	if agentFix.err != nil {
		t.Fatal(agentFix.err)
	}
}

// agentHome makes a skills home whose wasm cache is the shared one.
func agentHome(t *testing.T) string {
	t.Helper()
	agentFixtures(t)
	home := filepath.Join(t.TempDir(), "home")
	if err := os.MkdirAll(filepath.Join(home, "cache"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(agentFix.cacheHome, "cache", "wasm"), filepath.Join(home, "cache", "wasm")); err != nil {
		t.Fatal(err)
	}
	return home
}

// installWordcount installs wordcount from the bundled registry into home
// and makes sure its module is in the shared cache.
func installWordcount(t *testing.T, home string) {
	t.Helper()
	if code, _, errOut := skillsCLI(t, "--home", home, "install", "wordcount"); code != 0 {
		t.Fatalf("install: exit %d: %s", code, errOut)
	}
	agentFix.wcOnce.Do(func() {
		l, err := lock.Load(home)
		if err != nil {
			agentFix.wcErr = err
			return
		}
		e := l.Skills["wordcount"]
		if e == nil || e.Artifact == nil {
			agentFix.wcErr = fmt.Errorf("wordcount is not in the lock")
			return
		}
		module := filepath.Join(home, "store", e.SHA256, filepath.FromSlash(e.Artifact.Path))
		agentFix.wcErr = reloadtest.Precompile(context.Background(), agentFix.root, agentFix.cacheHome, module)
	})
	if agentFix.wcErr != nil {
		t.Fatal(agentFix.wcErr)
	}
}

// devSkill writes a tick folder with a prebuilt module and registers it in
// home's dev overlay, as `skills dev` would (without an owner process).
func devSkill(t *testing.T, home string, tk reloadtest.Tick, module string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), tk.Name)
	reloadtest.Write(t, agentFix.root, dir, tk)
	reloadtest.Install(t, module, dir)
	if _, err := overlay.Register(home, dir, 0); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeScript(t *testing.T, script string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "script.json")
	if err := os.WriteFile(p, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// jsonEvent is an event line of `agent --json`, or its result line.
type jsonEvent struct {
	Seq     uint64          `json:"seq"`
	Type    string          `json:"type"`
	Data    json.RawMessage `json:"data"`
	Content string          `json:"content"`
	Error   string          `json:"error"`
}

func parseEvents(t *testing.T, out string) []jsonEvent {
	t.Helper()
	var evs []jsonEvent
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var e jsonEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		evs = append(evs, e)
	}
	return evs
}

func find(evs []jsonEvent, typ, in string) bool {
	return slices.ContainsFunc(evs, func(e jsonEvent) bool { return e.Type == typ && strings.Contains(string(e.Data), in) })
}

// TestCLIAgentAudit runs the agent end to end on an installed skill and a
// dev skill with the scripted model and --audit, checks the log, appends a
// second run (--json), and then breaks copies of the log.
func TestCLIAgentAudit(t *testing.T) {
	home := agentHome(t)
	installWordcount(t, home)
	devSkill(t, home, reloadtest.Tick{Name: "tick", Version: "1.0.0", Code: "1"}, agentFix.mods["v1"])
	script := writeScript(t, `[
	  {"content": "counting", "tool_calls": [
	    {"id": "c1", "name": "wordcount", "arguments": {"text": "to be or not to be", "top": 1}},
	    {"id": "c2", "name": "tick", "arguments": {}}]},
	  {"content": "There are 6 words."}
	]`)
	logFile := filepath.Join(t.TempDir(), "run.jsonl")
	code, out, errOut := skillsCLI(t, "--home", home, "agent", "count the words", "--model", "scripted:"+script, "--audit", logFile)
	if code != 0 || out != "There are 6 words.\n" {
		t.Fatalf("exit %d\nstdout %q\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"run.start task=\"count the words\"", "turn.start turn=1 tools=[\"tick\",\"wordcount\"]",
		`tool.end turn=1 id=c1 name=wordcount`, `"words":6`, `tool.end turn=1 id=c2 name=tick`, `output={"version":"1"}`, "run.end status=ok"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	code, out, errOut = skillsCLI(t, "audit", "verify", logFile)
	if code != 0 || !strings.HasPrefix(out, logFile+": intact, 12 event(s)") {
		t.Fatalf("verify: exit %d: %s%s", code, out, errOut)
	}

	// A second run appends to the chain, with JSON lines on stdout.
	code, out, errOut = skillsCLI(t, "--home", home, "agent", "count again", "--model", "scripted:"+script, "--audit", logFile, "--json")
	if code != 0 {
		t.Fatalf("second run: exit %d: %s", code, errOut)
	}
	evs := parseEvents(t, out)
	if len(evs) != 13 || evs[0].Type != "run.start" || evs[0].Seq != 13 || evs[11].Type != "run.end" ||
		evs[12].Type != "result" || evs[12].Content != "There are 6 words." {
		t.Fatalf("--json output:\n%s", out)
	}
	code, out, _ = skillsCLI(t, "audit", "verify", logFile)
	if code != 0 || !strings.Contains(out, "intact, 24 event(s)") {
		t.Fatalf("verify after the second run: exit %d: %s", code, out)
	}

	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	lines = lines[:len(lines)-1] // after the last newline
	wc := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, `"words":6`) })
	for _, tc := range []struct {
		name string
		edit func([]string) []string
		want string
	}{
		{"event edited", func(l []string) []string {
			l[wc] = strings.Replace(l[wc], `"words":6`, `"words":7`, 1)
			return l
		}, fmt.Sprintf("line %d (seq %d): hash mismatch", wc+1, wc+1)},
		{"lines reordered", func(l []string) []string {
			l[2], l[3] = l[3], l[2]
			return l
		}, "line 3 (seq 3): found seq 4"},
		{"line removed", func(l []string) []string { return slices.Delete(l, 5, 6) }, "line 6 (seq 6): found seq 7: lines are missing"},
		{"truncated", func(l []string) []string {
			l[len(l)-1] = l[len(l)-1][:40]
			return l
		}, "line 24 (seq 24): truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.jsonl")
			if err := os.WriteFile(bad, []byte(strings.Join(tc.edit(slices.Clone(lines)), "")), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := skillsCLI(t, "audit", "verify", bad)
			if code != 1 || out != "" || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant %q", code, out, errOut, tc.want)
			}
		})
	}
}

// TestCLIAgentAllowTool runs a skill that reads a workspace file through
// the host's read_file tool, without and with --allow-tool read_file.
func TestCLIAgentAllowTool(t *testing.T) {
	home := agentHome(t)
	devSkill(t, home, reloadtest.Tick{Name: "tick", Version: "1.0.0", Code: "1", Tools: []string{"read_file"}}, agentFix.mods["v1"])
	ws := t.TempDir()
	if err := os.WriteFile(filepath.Join(ws, "notes.md"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := writeScript(t, `[{"tool_calls": [{"id": "r", "name": "tick", "arguments": {"read": "notes.md"}}]}, {"content": "read it"}]`)
	for _, tc := range []struct {
		name  string
		flags []string
		want  func([]jsonEvent) bool
	}{
		{"denied by default", nil, func(evs []jsonEvent) bool {
			return find(evs, "tool.denied", `"reason":"host policy"`) && find(evs, "tool.denied", `"tool":"read_file"`) &&
				find(evs, "tool.denied", `"code":"tool_denied"`) && !find(evs, "tool.end", "hello")
		}},
		{"allowed", []string{"--allow-tool", "read_file"}, func(evs []jsonEvent) bool {
			return find(evs, "tool.end", `"content":"hello"`) && !find(evs, "tool.denied", "")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--home", home, "agent", "read notes.md", "--json", "--workspace", ws, "--model", "scripted:" + script}, tc.flags...)
			code, out, errOut := skillsCLI(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			evs := parseEvents(t, out)
			if !tc.want(evs) || evs[len(evs)-1].Content != "read it" {
				t.Fatalf("events:\n%s", out)
			}
		})
	}
}

// TestCLIAgentWatch runs `agent --watch` with tasks on stdin while the dev
// skill it uses changes, then disappears: the next task uses the new
// version, then finds no such tool.
func TestCLIAgentWatch(t *testing.T) {
	home := agentHome(t)
	dir := devSkill(t, home, reloadtest.Tick{Name: "tick", Version: "1.0.0", Code: "1"}, agentFix.mods["v1"])
	script := writeScript(t, `[{"tool_calls": [{"id": "t", "name": "tick", "arguments": {}}]}, {"content": "ticked"}]`)
	logFile := filepath.Join(t.TempDir(), "watch.jsonl")
	stdin, tasks := io.Pipe()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"--home", home, "agent", "--watch", "--json", "--audit", logFile, "--model", "scripted:" + script}, stdin, stdout, stderr)
	}()
	results := func() int { return strings.Count(stdout.String(), `"type":"result"`) }
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\nstdout:\n%s\nstderr:\n%s", what, stdout.String(), stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	fmt.Fprintln(tasks, "tick once")
	waitFor("the first answer", func() bool { return results() == 1 })
	reloadtest.Write(t, agentFix.root, dir, reloadtest.Tick{Name: "tick", Version: "2.0.0", Code: "2"})
	waitFor("the reload", func() bool { return strings.Contains(stdout.String(), `"skill":"tick","from":"1.0.0","to":"2.0.0"`) })
	fmt.Fprintln(tasks, "tick again")
	waitFor("the second answer", func() bool { return results() == 2 })
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	waitFor("the removal", func() bool { return strings.Contains(stdout.String(), `"type":"skill.removed"`) })
	fmt.Fprintln(tasks, "tick a third time")
	waitFor("the third answer", func() bool { return results() == 3 })
	tasks.Close()
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("agent --watch did not end at the end of its input")
	}
	evs := parseEvents(t, stdout.String())
	var outputs []string
	for _, e := range evs {
		if e.Type == "tool.end" || e.Type == "tool.error" {
			outputs = append(outputs, e.Type+" "+string(e.Data))
		}
	}
	if len(outputs) != 3 || !strings.Contains(outputs[0], `"output":{"version":"1"}`) || !strings.Contains(outputs[1], `"output":{"version":"2"}`) ||
		!strings.Contains(outputs[2], `"code":"not_found"`) {
		t.Fatalf("tool results:\n%s", strings.Join(outputs, "\n"))
	}
	if !find(evs, "skill.reloaded", `"skill":"tick","from":"1.0.0","to":"2.0.0"`) || !find(evs, "skill.removed", `"skill":"tick","from":"2.0.0"`) {
		t.Fatalf("reload events:\n%s", stdout.String())
	}
	if code, out, errOut := skillsCLI(t, "audit", "verify", logFile); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("verify: exit %d: %s%s", code, out, errOut)
	}
}

// TestCLIDev runs `skills dev` on a folder: it registers it, rebuilds it on
// a save, reports a compile error, and unregisters it on exit.
func TestCLIDev(t *testing.T) {
	home := agentHome(t)
	dir := filepath.Join(t.TempDir(), "tick")
	reloadtest.Write(t, agentFix.root, dir, reloadtest.Tick{Name: "tick", Version: "1.0.0", Code: "1"})
	reloadtest.Install(t, agentFix.mods["v1"], dir)
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"--home", home, "dev", dir}, strings.NewReader(""), stdout, stderr) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\nstdout:\n%s\nstderr:\n%s", what, stdout.String(), stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// The module is an hour older than the sources: dev builds it first.
	waitFor("the first build", func() bool { return strings.Contains(stdout.String(), "built tick 1.0.0") })
	waitFor("watching", func() bool { return strings.Contains(stderr.String(), "watching 1 skill folder(s)") })
	entries, err := overlay.List(home)
	if err != nil || len(entries) != 1 || entries[0].Name != "tick" || entries[0].Dir != dir || entries[0].PID != os.Getpid() {
		t.Fatalf("registrations %+v, %v", entries, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { notDefined() }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("the compile error", func() bool { return strings.Contains(stderr.String(), "undefined: notDefined") })
	reloadtest.Write(t, agentFix.root, dir, reloadtest.Tick{Name: "tick", Version: "2.0.0", Code: "2"})
	waitFor("the rebuild", func() bool { return strings.Contains(stdout.String(), "built tick 2.0.0") })
	cancel()
	if code := <-exit; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(overlay.Path(home, "tick")); !os.IsNotExist(err) {
		t.Fatalf("registration left behind: %v", err)
	}
}

func TestCLIAgentUsage(t *testing.T) {
	home := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"agent"}, 2, "give a TASK, or --watch"},
		{[]string{"agent", "x", "--model", "bogus:thing"}, 2, `model "bogus:thing": unknown`},
		{[]string{"agent", "x", "--max-turns", "0"}, 2, "--max-turns and --max-depth must be at least 1"},
		{[]string{"audit", "verify"}, 2, "accepts 1 arg"},
		{[]string{"audit", "verify", filepath.Join(home, "none.jsonl")}, 1, "no such file"},
		{[]string{"dev"}, 2, "requires at least 1 arg"},
		{[]string{"dev", filepath.Join(home, "nowhere")}, 1, "SKILL.md"},
	} {
		code, _, errOut := skillsCLI(t, append([]string{"--home", home}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want %d, %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
