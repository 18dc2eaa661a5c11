package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/skillsdev/skills/agent"
	"github.com/skillsdev/skills/agent/model/scripted"
	"github.com/skillsdev/skills/audit"
	"github.com/skillsdev/skills/sdk/wire"
)

// memTools is a small real ToolSet: tools are Go functions, inputs are
// validated against each tool's JSON Schema, and tools can be added while a
// run is going (as a hot reload would).
type memTools struct {
	mu    sync.Mutex
	tools []memTool
	calls []string
}

type memTool struct {
	agent.Tool
	schema *jsonschema.Resolved
	fn     func(ctx context.Context, in map[string]any) (any, error)
}

func (m *memTools) add(t testing.TB, tool agent.Tool, fn func(ctx context.Context, in map[string]any) (any, error)) {
	t.Helper()
	mt := memTool{Tool: tool, fn: fn}
	if len(tool.InputSchema) > 0 {
		var s jsonschema.Schema
		if err := json.Unmarshal(tool.InputSchema, &s); err != nil {
			t.Fatal(err)
		}
		r, err := s.Resolve(nil)
		if err != nil {
			t.Fatal(err)
		}
		mt.schema = r
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tools = append(m.tools, mt)
}

func (m *memTools) Tools() []agent.Tool {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]agent.Tool, len(m.tools))
	for i, t := range m.tools {
		out[i] = t.Tool
	}
	return out
}

func (m *memTools) Call(ctx context.Context, name string, input json.RawMessage) (json.RawMessage, error) {
	m.mu.Lock()
	m.calls = append(m.calls, name)
	var tool *memTool
	for i := range m.tools {
		if m.tools[i].Name == name {
			tool = &m.tools[i]
		}
	}
	m.mu.Unlock()
	if tool == nil {
		return nil, wire.Errorf(wire.CodeNotFound, name, "no such tool")
	}
	var in map[string]any
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, wire.Errorf(wire.CodeInvalidInput, name, err.Error())
	}
	if tool.schema != nil {
		if err := tool.schema.Validate(in); err != nil {
			return nil, wire.Errorf(wire.CodeInvalidInput, name, err.Error())
		}
	}
	out, err := tool.fn(ctx, in)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

var textSchema = json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"],"additionalProperties":false}`)

func wordcount(_ context.Context, in map[string]any) (any, error) {
	return map[string]int{"words": len(strings.Fields(in["text"].(string)))}, nil
}

func newTools(t testing.TB) *memTools {
	ts := &memTools{}
	ts.add(t, agent.Tool{Name: "wordcount", Description: "Count the words in a text", InputSchema: textSchema}, wordcount)
	ts.add(t, agent.Tool{Name: "secret", Description: "Denied by policy"}, func(context.Context, map[string]any) (any, error) {
		return nil, wire.Errorf(wire.CodeToolDenied, "secret", `"secret" is not in allowed-tools`)
	})
	ts.add(t, agent.Tool{Name: "other-skill", Description: "Not required"}, func(context.Context, map[string]any) (any, error) {
		return nil, wire.Errorf(wire.CodeSkillDenied, "other-skill", "not in ## Requires")
	})
	ts.add(t, agent.Tool{Name: "broken", Description: "Always fails"}, func(context.Context, map[string]any) (any, error) {
		return nil, fmt.Errorf("read config: %w", os.ErrNotExist)
	})
	return ts
}

// captureModel records every request a model gets: the loop's view of the
// conversation and tools is what these tests check.
type captureModel struct {
	agent.Model
	mu   sync.Mutex
	reqs []agent.Request
}

func (c *captureModel) Complete(ctx context.Context, req agent.Request) (agent.Response, error) {
	c.mu.Lock()
	req.Messages = append([]agent.Message(nil), req.Messages...)
	c.reqs = append(c.reqs, req)
	c.mu.Unlock()
	return c.Model.Complete(ctx, req)
}

func script(turns ...scripted.Turn) *captureModel {
	return &captureModel{Model: scripted.New("scripted:test", turns)}
}

func call(name, args string) scripted.Turn {
	return scripted.Turn{ToolCalls: []agent.ToolCall{{Name: name, Arguments: args}}}
}

// fakeClock is a settable clock; tools advance it to simulate slow work.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func types(evs []audit.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

func find(evs []audit.Event, typ string) (audit.Event, bool) {
	for _, e := range evs {
		if e.Type == typ {
			return e, true
		}
	}
	return audit.Event{}, false
}

func data(t *testing.T, e audit.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRunHappyPathAndAuditLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stream bytes.Buffer
	clock := &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	rec, err := agent.NewRecorder(agent.RecorderOptions{Log: log, RunID: "run-1", OnEvent: audit.StreamTo(&stream), Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	m := script(
		scripted.Turn{Content: "counting", ToolCalls: []agent.ToolCall{{ID: "c1", Name: "wordcount", Arguments: `{"text":"one two three"}`}}, Usage: agent.Usage{InputTokens: 10, OutputTokens: 5}},
		scripted.Turn{Content: "3 words", Usage: agent.Usage{InputTokens: 20, OutputTokens: 2}},
	)
	res, err := agent.Run(context.Background(), m, newTools(t), "count the words in 'one two three'", agent.Options{Recorder: rec, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if res.Content != "3 words" || res.Turns != 2 || res.ToolCalls != 1 || res.Usage != (agent.Usage{InputTokens: 30, OutputTokens: 7}) || res.Stop != agent.StopEndTurn || res.RunID != "run-1" {
		t.Fatalf("result = %+v", res)
	}
	want := "run.start turn.start model.call tool.start tool.end turn.end turn.start model.call turn.end run.end"
	if got := strings.Join(types(res.Events), " "); got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
	// The second request threads the call and its result.
	msgs := m.reqs[1].Messages
	if len(msgs) != 3 || msgs[1].ToolCalls[0].ID != "c1" || msgs[2].Role != agent.RoleTool || msgs[2].ToolCallID != "c1" || msgs[2].Content != `{"words":3}` || msgs[2].IsError {
		t.Fatalf("second request messages = %+v", msgs)
	}
	if m.reqs[0].System != agent.DefaultSystem || m.reqs[0].MaxTokens != agent.DefaultMaxOutputTokens {
		t.Fatalf("request = %+v", m.reqs[0])
	}
	if end, _ := find(res.Events, "tool.end"); string(end.Data) != `{"turn":1,"id":"c1","name":"wordcount","ms":0,"output":{"words":3}}` {
		t.Fatalf("tool.end data = %s", end.Data)
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := audit.Check(f)
	if err != nil || sum.Events != len(res.Events) || sum.Last.Hash != res.Events[len(res.Events)-1].Hash {
		t.Fatalf("log check = %+v, %v", sum, err)
	}
	if n := strings.Count(stream.String(), "\n"); n != len(res.Events) || !strings.Contains(stream.String(), "run run-1 #5 tool.end turn=1 id=c1 name=wordcount ms=0 output={\"words\":3}") {
		t.Fatalf("stream:\n%s", stream.String())
	}
}

func TestToolCallFailuresGoBackToModel(t *testing.T) {
	tests := []struct {
		name      string
		tool      string
		args      string
		wantEvent string
		wantCode  wire.Code
		wantMsg   string
	}{
		{"unknown tool", "nope", `{}`, "tool.error", wire.CodeNotFound, `unknown tool "nope"; available tools: broken, other-skill, secret, wordcount`},
		{"malformed json", "wordcount", `{"text": "a`, "tool.error", wire.CodeInvalidInput, "arguments are not valid JSON: unexpected end of JSON input"},
		{"syntax error offset", "wordcount", `{"text" "a"}`, "tool.error", wire.CodeInvalidInput, "(at byte 9)"},
		{"array arguments", "wordcount", `["a"]`, "tool.error", wire.CodeInvalidInput, "arguments must be a JSON object, got an array"},
		{"schema invalid", "wordcount", `{"text": 5}`, "tool.error", wire.CodeInvalidInput, "text"},
		{"schema missing property", "wordcount", `{}`, "tool.error", wire.CodeInvalidInput, "text"},
		{"tool denied", "secret", `{}`, "tool.denied", wire.CodeToolDenied, "not in allowed-tools"},
		{"skill denied", "other-skill", ``, "tool.denied", wire.CodeSkillDenied, "not in ## Requires"},
		{"tool error", "broken", `{}`, "tool.error", wire.CodeInternal, "read config: file does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTools(t)
			m := script(call(tt.tool, tt.args), scripted.Turn{Content: "recovered"})
			res, err := agent.Run(context.Background(), m, ts, "task", agent.Options{})
			if err != nil {
				t.Fatalf("Run = %v: a failed tool call must not end the run", err)
			}
			if res.Content != "recovered" || res.Turns != 2 || res.ToolCalls != 1 {
				t.Fatalf("result = %+v", res)
			}
			ev, ok := find(res.Events, tt.wantEvent)
			if !ok {
				t.Fatalf("no %s event in %v", tt.wantEvent, types(res.Events))
			}
			d := data(t, ev)
			if d["code"] != string(tt.wantCode) || !strings.Contains(d["message"].(string), tt.wantMsg) || d["name"] != tt.tool {
				t.Fatalf("%s data = %v, want code %s and %q", tt.wantEvent, d, tt.wantCode, tt.wantMsg)
			}
			if _, ok := find(res.Events, "tool.end"); ok {
				t.Fatal("a failed call also has tool.end")
			}
			result := m.reqs[1].Messages[2]
			var body struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal([]byte(result.Content), &body); err != nil {
				t.Fatalf("error result %q: %v", result.Content, err)
			}
			if !result.IsError || body.Error.Code != string(tt.wantCode) || !strings.Contains(body.Error.Message, tt.wantMsg) {
				t.Fatalf("result message = %+v", result)
			}
		})
	}
}

// forever calls wordcount in every turn, with the given usage.
type forever struct{ usage agent.Usage }

func (forever) Name() string { return "forever" }
func (f forever) Complete(ctx context.Context, req agent.Request) (agent.Response, error) {
	n := len(req.Messages)
	return agent.Response{Content: fmt.Sprint("turn ", n), Usage: f.usage, Stop: agent.StopToolUse, ToolCalls: []agent.ToolCall{
		{ID: fmt.Sprint("a", n), Name: "wordcount", Arguments: `{"text":"x"}`},
		{ID: fmt.Sprint("b", n), Name: "wordcount", Arguments: `{"text":"y"}`},
	}}, nil
}

func TestBudgets(t *testing.T) {
	tests := []struct {
		name      string
		opts      agent.Options
		usage     agent.Usage
		slowTool  time.Duration // fake time each tool call takes
		want      agent.BudgetError
		wantTurns int
		wantCalls int
	}{
		{"turns", agent.Options{MaxTurns: 3}, agent.Usage{}, 0, agent.BudgetError{Budget: agent.BudgetTurns, Limit: 3, Used: 3}, 3, 6},
		{"tool calls", agent.Options{MaxToolCalls: 3}, agent.Usage{}, 0, agent.BudgetError{Budget: agent.BudgetToolCalls, Limit: 3, Used: 3}, 2, 3},
		{"tokens", agent.Options{MaxTokens: 250}, agent.Usage{InputTokens: 80, OutputTokens: 20}, 0, agent.BudgetError{Budget: agent.BudgetTokens, Limit: 250, Used: 300}, 3, 4},
		{"wall clock timeout", agent.Options{Timeout: 90 * time.Second}, agent.Usage{}, 20 * time.Second, agent.BudgetError{Budget: agent.BudgetWallClock, Limit: 90000, Used: 100000}, 3, 5},
		{"wall clock deadline", agent.Options{Deadline: time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC), Timeout: time.Hour}, agent.Usage{}, 30 * time.Second, agent.BudgetError{Budget: agent.BudgetWallClock, Limit: 60000, Used: 60000}, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			ts := &memTools{}
			ts.add(t, agent.Tool{Name: "wordcount", InputSchema: textSchema}, func(ctx context.Context, in map[string]any) (any, error) {
				clock.Advance(tt.slowTool)
				return wordcount(ctx, in)
			})
			opts := tt.opts
			opts.Clock = clock.Now
			res, err := agent.Run(context.Background(), forever{tt.usage}, ts, "loop", opts)
			var be *agent.BudgetError
			if !errors.Is(err, agent.ErrBudget) || !errors.As(err, &be) {
				t.Fatalf("Run = %v, want a budget error", err)
			}
			if *be != tt.want {
				t.Fatalf("budget = %+v, want %+v", *be, tt.want)
			}
			if res.Turns != tt.wantTurns || res.ToolCalls != tt.wantCalls || len(ts.calls) != tt.wantCalls {
				t.Fatalf("turns %d calls %d (tool saw %d), want %d and %d", res.Turns, res.ToolCalls, len(ts.calls), tt.wantTurns, tt.wantCalls)
			}
			ev, ok := find(res.Events, "budget.exceeded")
			if d := data(t, ev); !ok || d["budget"] != string(tt.want.Budget) {
				t.Fatalf("budget.exceeded = %v", d)
			}
			end := res.Events[len(res.Events)-1]
			if d := data(t, end); end.Type != "run.end" || d["status"] != "budget" || !strings.Contains(d["error"].(string), string(tt.want.Budget)) {
				t.Fatalf("last event = %s %s", end.Type, end.Data)
			}
			// Every turn.start has its turn.end.
			if s, e := strings.Count(strings.Join(types(res.Events), " "), "turn.start"), strings.Count(strings.Join(types(res.Events), " "), "turn.end"); s != e {
				t.Fatalf("%d turn.start, %d turn.end", s, e)
			}
		})
	}
}

func TestOptionsSinkAndLog(t *testing.T) {
	var log, stream bytes.Buffer
	res, err := agent.Run(context.Background(), script(call("wordcount", `{"text":"a"}`)), newTools(t), "t",
		agent.Options{Log: audit.NewWriter(&log), OnEvent: audit.StreamTo(&stream), RunID: "r9"})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := audit.Check(&log)
	if err != nil || sum.Events != len(res.Events) || sum.Last.RunID != "r9" || strings.Count(stream.String(), "\n") != len(res.Events) {
		t.Fatalf("log %+v, %v; stream:\n%s", sum, err, stream.String())
	}
}

func TestOutputTokenCapFollowsTokenBudget(t *testing.T) {
	m := script(scripted.Turn{Content: "ok"})
	if _, err := agent.Run(context.Background(), m, nil, "t", agent.Options{MaxTokens: 100, MaxOutputTokens: 500}); err != nil {
		t.Fatal(err)
	}
	if m.reqs[0].MaxTokens != 100 {
		t.Fatalf("MaxTokens = %d, want the remaining budget 100", m.reqs[0].MaxTokens)
	}
}

// waitModel blocks until its context ends, as a hung provider does.
type waitModel struct{}

func (waitModel) Name() string { return "wait" }
func (waitModel) Complete(ctx context.Context, _ agent.Request) (agent.Response, error) {
	<-ctx.Done()
	return agent.Response{}, ctx.Err()
}

func TestRealDeadlineInterruptsModel(t *testing.T) {
	res, err := agent.Run(context.Background(), waitModel{}, nil, "t", agent.Options{Timeout: 30 * time.Millisecond})
	var be *agent.BudgetError
	if !errors.As(err, &be) || be.Budget != agent.BudgetWallClock {
		t.Fatalf("Run = %v, want wall_clock budget", err)
	}
	if mc, _ := find(res.Events, "model.call"); !strings.Contains(data(t, mc)["error"].(string), "deadline") {
		t.Fatalf("model.call = %s", mc.Data)
	}
}

func TestCallerCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ts := &memTools{}
	ts.add(t, agent.Tool{Name: "stop"}, func(ctx context.Context, _ map[string]any) (any, error) {
		cancel()
		return "stopped", nil
	})
	res, err := agent.Run(ctx, script(call("stop", "{}"), scripted.Turn{Content: "never"}), ts, "t", agent.Options{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, agent.ErrBudget) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if d := data(t, res.Events[len(res.Events)-1]); d["status"] != "canceled" || res.Turns != 1 {
		t.Fatalf("run.end = %v, turns %d", d, res.Turns)
	}
}

func TestProviderError(t *testing.T) {
	m := script(scripted.Turn{Error: "HTTP 500: overloaded"})
	res, err := agent.Run(context.Background(), m, newTools(t), "t", agent.Options{})
	if err == nil || errors.Is(err, agent.ErrBudget) || !strings.Contains(err.Error(), "agent: turn 1: model scripted:test: scripted turn 1: HTTP 500: overloaded") {
		t.Fatalf("Run = %v", err)
	}
	mc, _ := find(res.Events, "model.call")
	end := res.Events[len(res.Events)-1]
	if !strings.Contains(data(t, mc)["error"].(string), "overloaded") || data(t, end)["status"] != "error" {
		t.Fatalf("events: %s / %s", mc.Data, end.Data)
	}
}

func TestToolSetChangesBetweenTurns(t *testing.T) {
	ts := &memTools{}
	ts.add(t, agent.Tool{Name: "install", Description: "installs greet"}, func(context.Context, map[string]any) (any, error) {
		ts.add(t, agent.Tool{Name: "greet", Description: "says hello"}, func(context.Context, map[string]any) (any, error) { return "hello", nil })
		return "installed", nil
	})
	m := script(call("install", "{}"), call("greet", "{}"), scripted.Turn{Content: "done"})
	res, err := agent.Run(context.Background(), m, ts, "install and greet", agent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	names := func(r agent.Request) (s []string) {
		for _, t := range r.Tools {
			s = append(s, t.Name)
		}
		return s
	}
	if got := fmt.Sprint(names(m.reqs[0]), names(m.reqs[1])); got != "[install] [install greet]" {
		t.Fatalf("tools per turn = %s", got)
	}
	if fmt.Sprint(ts.calls) != "[install greet]" || res.Content != "done" {
		t.Fatalf("calls %v, result %+v", ts.calls, res)
	}
	ev, _ := find(res.Events[5:], "turn.start")
	if d := data(t, ev); fmt.Sprint(d["tools"]) != "[install greet]" {
		t.Fatalf("turn 2 start = %s", ev.Data)
	}
}

func TestDeprecatedTool(t *testing.T) {
	ts := &memTools{}
	ts.add(t, agent.Tool{Name: "old", Description: "Does it.", Deprecated: "use new"}, func(context.Context, map[string]any) (any, error) { return 1, nil })
	m := script(call("old", "{}"))
	res, err := agent.Run(context.Background(), m, ts, "t", agent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := m.reqs[0].Tools[0].Description; d != "Does it. (Deprecated: use new)" {
		t.Fatalf("description = %q", d)
	}
	ev, ok := find(res.Events, agent.EventSkillDeprecated)
	if !ok || data(t, ev)["hint"] != "use new" {
		t.Fatalf("deprecated event = %v %s", ok, ev.Data)
	}
}

func TestLargeOutputs(t *testing.T) {
	big := strings.Repeat("é", 10000) // 20000 bytes
	ts := &memTools{}
	ts.add(t, agent.Tool{Name: "big"}, func(context.Context, map[string]any) (any, error) { return big, nil })
	m := script(call("big", "{}"), scripted.Turn{Content: "ok"})
	res, err := agent.Run(context.Background(), m, ts, "t", agent.Options{MaxResultBytes: 1001})
	if err != nil {
		t.Fatal(err)
	}
	content := m.reqs[1].Messages[2].Content
	if !strings.HasPrefix(content, `"éé`) || !strings.HasSuffix(content, "[output truncated: 1001 of 20002 bytes shown]") || !strings.Contains(content, "é\n[") {
		t.Fatalf("content tail = %q", content[len(content)-60:])
	}
	ev, _ := find(res.Events, "tool.end")
	out := data(t, ev)["output"].(map[string]any)
	if out["truncated"] != true || out["bytes"] != float64(20002) || len(out["sha256"].(string)) != 64 {
		t.Fatalf("output = %v", out)
	}
}

func TestRecorderEmitDuringRun(t *testing.T) {
	var log bytes.Buffer
	rec, err := agent.NewRecorder(agent.RecorderOptions{Log: audit.NewWriter(&log)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.RunID()) != 16 {
		t.Fatalf("run id %q", rec.RunID())
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := rec.Emit(agent.EventSkillReloaded, map[string]any{"skill": "wordcount", "generation": i}); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	turns := make([]scripted.Turn, 20)
	for i := range turns {
		turns[i] = call("wordcount", `{"text":"a b"}`)
	}
	_, err = agent.Run(context.Background(), script(turns...), newTools(t), "t", agent.Options{Recorder: rec})
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Emit("bad", json.RawMessage(`[1]`)); err == nil {
		t.Fatal("non-object data accepted")
	}
	sum, err := audit.Check(&log)
	if err != nil || sum.Events != len(rec.Events()) {
		t.Fatalf("log = %+v, %v (recorder has %d)", sum, err, len(rec.Events()))
	}
}

func TestAuditFailureStopsRun(t *testing.T) {
	rec, err := agent.NewRecorder(agent.RecorderOptions{Log: audit.NewWriter(&failAfter{n: 3})})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTools(t)
	_, err = agent.Run(context.Background(), script(call("wordcount", `{"text":"a"}`)), ts, "t", agent.Options{Recorder: rec})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Run = %v", err)
	}
	if len(ts.calls) != 0 {
		t.Fatalf("tool ran without its tool.start in the log: %v", ts.calls)
	}
}

type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestRunRejectsBadOptions(t *testing.T) {
	m := script()
	tests := []struct {
		name  string
		model agent.Model
		task  string
		opts  agent.Options
		want  string
	}{
		{"no model", nil, "t", agent.Options{}, "no model"},
		{"empty task", m, "  ", agent.Options{}, "empty task"},
		{"negative", m, "t", agent.Options{MaxTurns: -1}, "negative"},
		{"recorder and sink", m, "t", agent.Options{Recorder: &agent.Recorder{}, OnEvent: func(audit.Event) {}}, "either Recorder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := agent.Run(context.Background(), tt.model, nil, tt.task, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestMissingIDsAreFilled(t *testing.T) {
	m := script(scripted.Turn{ToolCalls: []agent.ToolCall{{Name: "wordcount", Arguments: `{"text":"a"}`}, {Name: "wordcount", Arguments: `{"text":"b"}`}}})
	if _, err := agent.Run(context.Background(), m, newTools(t), "t", agent.Options{}); err != nil {
		t.Fatal(err)
	}
	msgs := m.reqs[1].Messages
	if msgs[1].ToolCalls[0].ID != "call_1_0" || msgs[1].ToolCalls[1].ID != "call_1_1" || msgs[2].ToolCallID != "call_1_0" || msgs[3].ToolCallID != "call_1_1" {
		t.Fatalf("messages = %+v", msgs)
	}
}

// BenchmarkTurn measures the loop's own cost per turn (model and tool are
// trivial): snapshot, request, dispatch, argument check, and five hashed
// events.
func BenchmarkTurn(b *testing.B) {
	const turns = 10
	ts := &noopTools{}
	sc := make([]scripted.Turn, turns)
	for i := range sc {
		sc[i] = scripted.Turn{Content: "x", ToolCalls: []agent.ToolCall{{ID: "c", Name: "noop", Arguments: `{"text":"hello world"}`}}}
	}
	m := scripted.New("bench", sc)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res, err := agent.Run(ctx, m, ts, "bench", agent.Options{MaxTurns: turns + 1})
		if err != nil || res.Turns != turns+1 {
			b.Fatal(res.Turns, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(turns+1)), "ns/turn")
}

type noopTools struct{}

func (noopTools) Tools() []agent.Tool {
	return []agent.Tool{{Name: "noop", Description: "does nothing", InputSchema: textSchema}}
}
func (noopTools) Call(context.Context, string, json.RawMessage) (json.RawMessage, error) {
	return json.RawMessage(`{"ok":true}`), nil
}
