package hosttools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skillsdev/skills/agent"
	"github.com/skillsdev/skills/agent/hosttools"
	"github.com/skillsdev/skills/agent/model/scripted"
	"github.com/skillsdev/skills/audit"
	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/reload"
	"github.com/skillsdev/skills/reload/reloadtest"
)

var (
	root     string
	tick     string // the prebuilt tick module (version 1)
	hostHome string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "hosttools-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	var mods reloadtest.Variants
	if root, err = reloadtest.Root(); err == nil {
		if hostHome = reloadtest.CacheHome("hosttools-test"); hostHome == "" {
			hostHome = filepath.Join(tmp, "host")
		}
		mods, err = reloadtest.BuildVariants(context.Background(), root, filepath.Join(tmp, "build"), hostHome, "v1")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tick = mods["v1"]
	code := m.Run()
	if sharedHost != nil {
		sharedHost.Close(context.Background())
	}
	return code
}

// recorded is a host whose events go to the recorder of the run in
// progress, as the agent CLI wires them.
type recorded struct {
	*host.Host
	rec atomic.Pointer[agent.Recorder]
}

func newHost(t *testing.T, opts host.Options) *recorded {
	t.Helper()
	r := &recorded{}
	opts.Home = hostHome
	opts.Observer = r.observe
	h, err := host.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	r.Host = h
	return r
}

// shared is the host of the tests that need no options of their own, so a
// skill that one test loaded is still loaded, unchanged, for the next (a
// load takes seconds under the race detector).
var (
	sharedOnce sync.Once
	sharedHost *recorded
)

func shared(t *testing.T) *recorded {
	t.Helper()
	sharedOnce.Do(func() {
		r := &recorded{}
		h, err := host.New(context.Background(), host.Options{Home: hostHome, Observer: r.observe})
		if err != nil {
			t.Fatal(err)
		}
		r.Host = h
		sharedHost = r
	})
	if sharedHost == nil {
		t.Fatal("no shared host")
	}
	return sharedHost
}

func (r *recorded) observe(e host.Event) {
	if rec := r.rec.Load(); rec != nil {
		data := map[string]any{"skill": e.Skill}
		for k, v := range e.Data {
			data[k] = v
		}
		rec.Emit(e.Type, data)
	}
}

// skill writes a tick folder named after t.Name with the prebuilt module.
func skill(t *testing.T, parent string, tk reloadtest.Tick) host.Source {
	t.Helper()
	dir := filepath.Join(parent, tk.Name)
	reloadtest.Write(t, root, dir, tk)
	reloadtest.Install(t, tick, dir)
	return host.Source{Dir: dir, Origin: "test"}
}

func guide(t *testing.T, parent string) host.Source {
	t.Helper()
	dir := filepath.Join(parent, "guide")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	md := "---\nname: guide\ndescription: How to write a report.\nmetadata:\n  version: 1.0.0\n---\n# guide\n\nSteps.\n"
	if err := os.WriteFile(filepath.Join(dir, "SKILL.md"), []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	return host.Source{Dir: dir, Origin: "test"}
}

// TestToolsDeprecation loads a deprecated skill "old" next to "new" 2.0.0,
// "app" (which requires old) and an instructions skill, and checks what the
// model is offered under each deprecation: hidden when the replacement is
// loaded in a version the deprecation allows, marked otherwise. The
// instructions skill is offered through load_skill, never as a tool.
func TestToolsDeprecation(t *testing.T) {
	h := shared(t)
	dir := t.TempDir()
	old := skill(t, dir, reloadtest.Tick{Name: "old", Version: "1.0.0", Describe: "Reports a version, the old way."})
	base := []host.Source{
		skill(t, dir, reloadtest.Tick{Name: "new", Version: "2.0.0"}),
		skill(t, dir, reloadtest.Tick{Name: "app", Version: "1.0.0", Requires: []string{"old ^1.0"}}),
		guide(t, dir),
	}
	tools := hosttools.New(h.Host)
	for _, tc := range []struct {
		name  string
		dep   *host.Deprecation
		names []string // tools offered
		desc  string   // old's description, when offered
	}{
		{"not deprecated", nil, []string{"app", "new", "old", "load_skill"}, "Reports a version, the old way."},
		{"replacement loaded", &host.Deprecation{Message: "use new", Replacement: "new"}, []string{"app", "new", "load_skill"}, ""},
		{"replacement loaded in an allowed version", &host.Deprecation{Message: "m", Replacement: "new ^2.0"}, []string{"app", "new", "load_skill"}, ""},
		{"replacement as name@range", &host.Deprecation{Message: "m", Replacement: "new@>=2"}, []string{"app", "new", "load_skill"}, ""},
		{"replacement loaded in another version", &host.Deprecation{Message: "m", Replacement: "new ^3.0"}, []string{"app", "new", "old", "load_skill"},
			"Reports a version, the old way. (deprecated: use new ^3.0)"},
		{"replacement not installed", &host.Deprecation{Message: "m", Replacement: "newer"}, []string{"app", "new", "old", "load_skill"},
			"Reports a version, the old way. (deprecated: use newer)"},
		{"a newer version of itself", &host.Deprecation{Message: "m", Replacement: "old ^2.0"}, []string{"app", "new", "old", "load_skill"},
			"Reports a version, the old way. (deprecated: use old ^2.0)"},
		{"no replacement", &host.Deprecation{Message: "unmaintained; copy what you need", Sunset: "2027-01-01"}, []string{"app", "new", "old", "load_skill"},
			"Reports a version, the old way. (deprecated: unmaintained; copy what you need)"},
	} {
		// The first case loads the skills (the shared host may hold other
		// tests' skills); every later one only changes old's deprecation.
		first := tc.name == "not deprecated"
		t.Run(tc.name, func(t *testing.T) {
			src := old
			src.Deprecated = tc.dep
			res, err := h.Apply(context.Background(), append([]host.Source{src}, base...))
			if err != nil || res.Err() != nil {
				t.Fatalf("apply: %v %v", err, res.Err())
			}
			if len(res.Loaded) > 0 && !first {
				t.Fatalf("a change of deprecation reloaded code: %v", res.Loaded)
			}
			list := tools.Tools()
			var names []string
			for _, tl := range list {
				names = append(names, tl.Name)
				if tl.Deprecated != "" {
					t.Errorf("%s: Tool.Deprecated is set; the loop would report deprecated calls a second time", tl.Name)
				}
				if tl.Name == "old" && tl.Description != tc.desc {
					t.Errorf("description %q, want %q", tl.Description, tc.desc)
				}
				if tl.Name == "new" && !strings.Contains(string(tl.InputSchema), `"read"`) {
					t.Errorf("new's schema: %s", tl.InputSchema)
				}
			}
			if !slices.Equal(names, tc.names) {
				t.Fatalf("tools %v, want %v", names, tc.names)
			}
			// The instructions skill is not a tool; load_skill reads it.
			out, err := tools.Call(context.Background(), hosttools.LoadSkill, json.RawMessage(`{"name":"guide"}`))
			if err != nil || !strings.Contains(string(out), `"name":"guide"`) {
				t.Fatalf("load_skill guide: %s, %v", out, err)
			}
			// Hidden or not, old stays callable by the skill that requires it.
			out, err = h.Call(context.Background(), "app", json.RawMessage(`{"call":"old"}`))
			if err != nil || !strings.Contains(string(out), `"called":{"version":"1"}`) {
				t.Fatalf("app calling old: %s, %v", out, err)
			}
		})
	}
}

// TestDeprecatedCallReportedOnce runs the agent loop with a script that
// calls a deprecated skill directly and through a skill that requires it:
// each call is one skill.deprecated_call event, from the host.
func TestDeprecatedCallReportedOnce(t *testing.T) {
	h := shared(t)
	dir := t.TempDir()
	old := skill(t, dir, reloadtest.Tick{Name: "old", Version: "1.0.0"})
	old.Deprecated = &host.Deprecation{Message: "retired", Replacement: "newer"}
	app := skill(t, dir, reloadtest.Tick{Name: "app", Version: "1.0.0", Requires: []string{"old ^1.0"}})
	if res, err := h.Apply(context.Background(), []host.Source{old, app}); err != nil || res.Err() != nil {
		t.Fatalf("apply: %v %v", err, res.Err())
	}
	rec, err := agent.NewRecorder(agent.RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h.rec.Store(rec)
	defer h.rec.Store(nil)
	model := scripted.New("scripted:test", []scripted.Turn{
		{ToolCalls: []agent.ToolCall{{ID: "a", Name: "old", Arguments: `{}`}, {ID: "b", Name: "app", Arguments: `{"call":"old"}`}}},
		{Content: "done"},
	})
	res, err := agent.Run(context.Background(), model, hosttools.New(h.Host), "use the tools", agent.Options{Recorder: rec})
	if err != nil || res.Content != "done" {
		t.Fatalf("run: %+v, %v", res, err)
	}
	var callers []string
	for _, e := range res.Events {
		if e.Type == agent.EventSkillDeprecated {
			var d struct{ Skill, Caller, Replacement string }
			if err := json.Unmarshal(e.Data, &d); err != nil || d.Skill != "old" || d.Replacement != "newer" {
				t.Fatalf("event %s: %v", e.Data, err)
			}
			callers = append(callers, d.Caller)
		}
	}
	if !slices.Equal(callers, []string{"", "app"}) {
		t.Fatalf("deprecated calls reported for callers %q, want one for the model's call and one for app's", callers)
	}
}

// TestDeniedToolReachesModel runs a skill that reads a file on a host that
// allows no host tool (as `skills agent` without --allow-tool) and on one
// that allows read_file: the denial reaches the model as an error result
// and is recorded as tool.denied.
func TestDeniedToolReachesModel(t *testing.T) {
	ws := t.TempDir()
	if err := os.WriteFile(filepath.Join(ws, "notes.md"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	reader := skill(t, dir, reloadtest.Tick{Name: "reader", Version: "1.0.0", Tools: []string{"read_file"}})
	for _, tc := range []struct {
		name  string
		allow []string
		want  string // in the tool message the model gets next
		event string
	}{
		{"denied by host policy", []string{}, "host policy does not allow the tool read_file", agent.EventToolDenied},
		{"allowed", []string{"read_file"}, `"content":"hello"`, agent.EventToolEnd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, host.Options{Workspace: ws, AllowTools: tc.allow})
			if res, err := h.Apply(context.Background(), []host.Source{reader}); err != nil || res.Err() != nil {
				t.Fatalf("apply: %v %v", err, res.Err())
			}
			var seen []agent.Message
			model := &spy{Model: scripted.New("scripted:test", []scripted.Turn{
				{ToolCalls: []agent.ToolCall{{ID: "r", Name: "reader", Arguments: `{"read":"notes.md"}`}}},
				{Content: "done"},
			}), seen: &seen}
			rec, _ := agent.NewRecorder(agent.RecorderOptions{})
			h.rec.Store(rec)
			res, err := agent.Run(context.Background(), model, hosttools.New(h.Host), "read notes.md", agent.Options{Recorder: rec})
			if err != nil {
				t.Fatal(err)
			}
			last := seen[len(seen)-1]
			if last.Role != agent.RoleTool || !strings.Contains(last.Content, tc.want) || last.IsError != (tc.event == agent.EventToolDenied) {
				t.Fatalf("the model got %+v, want %q", last, tc.want)
			}
			if !slices.ContainsFunc(res.Events, func(e audit.Event) bool { return e.Type == tc.event }) {
				t.Fatalf("no %s event: %v", tc.event, types(res.Events))
			}
		})
	}
}

// spy records the last conversation the model was given.
type spy struct {
	agent.Model
	mu   sync.Mutex
	seen *[]agent.Message
}

func (s *spy) Complete(ctx context.Context, req agent.Request) (agent.Response, error) {
	s.mu.Lock()
	*s.seen = slices.Clone(req.Messages)
	s.mu.Unlock()
	return s.Model.Complete(ctx, req)
}

// TestSkillDeletedUnderRunningAgent deletes a skill's source folder while
// the agent runs: the reload removes it, the next turn's tools no longer
// list it, and the model's call of it is an error result, not a crash.
func TestSkillDeletedUnderRunningAgent(t *testing.T) {
	h := shared(t)
	parent := t.TempDir()
	src := skill(t, parent, reloadtest.Tick{Name: "tick", Version: "1.0.0", Code: "1"})
	var removed atomic.Int32
	r, err := reload.New(reload.Options{Host: h.Host, Sources: func(context.Context) ([]host.Source, error) {
		return []host.Source{{Dir: src.Dir, Origin: "dev"}}, nil
	}, OnEvent: func(e reload.Event) {
		if e.Type == reload.EventRemoved {
			removed.Add(1)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := r.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	go r.Run(ctx)
	defer r.Close()
	tools := &afterCall{ToolSet: hosttools.New(h.Host), hook: func() {
		if err := os.RemoveAll(src.Dir); err != nil {
			t.Error(err)
		}
		deadline := time.Now().Add(time.Minute)
		for removed.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}}
	model := scripted.New("scripted:test", []scripted.Turn{
		{ToolCalls: []agent.ToolCall{{ID: "1", Name: "tick", Arguments: `{}`}}},
		{ToolCalls: []agent.ToolCall{{ID: "2", Name: "tick", Arguments: `{}`}}},
		{Content: "done"},
	})
	res, err := agent.Run(ctx, model, tools, "tick twice", agent.Options{})
	if err != nil || res.Content != "done" {
		t.Fatalf("run: %+v, %v", res, err)
	}
	var offered [][]string
	var codes []string
	for _, e := range res.Events {
		var d struct {
			Tools []string
			Code  string
		}
		json.Unmarshal(e.Data, &d)
		switch e.Type {
		case agent.EventTurnStart:
			offered = append(offered, d.Tools)
		case agent.EventToolError:
			codes = append(codes, d.Code)
		}
	}
	if len(offered) != 3 || !slices.Equal(offered[0], []string{"tick"}) || len(offered[1]) != 0 {
		t.Fatalf("tools offered per turn: %v", offered)
	}
	if !slices.Equal(codes, []string{"not_found"}) {
		t.Fatalf("tool errors %v, want one not_found: %v", codes, types(res.Events))
	}
}

// afterCall runs hook after the first call through it.
type afterCall struct {
	agent.ToolSet
	once sync.Once
	hook func()
}

func (a *afterCall) Call(ctx context.Context, name string, input json.RawMessage) (json.RawMessage, error) {
	out, err := a.ToolSet.Call(ctx, name, input)
	a.once.Do(a.hook)
	return out, err
}

func types(evs []audit.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}
