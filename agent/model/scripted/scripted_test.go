package scripted

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/skillsdev/skills/agent"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    []Turn
		wantErr string
	}{
		{name: "empty script", src: `[]`, want: nil},
		{name: "full", src: `[
  {"content": "x", "tool_calls": [{"id": "c1", "name": "wc", "arguments": {"text": "a b"}}], "usage": {"input_tokens": 3, "output_tokens": 4}},
  {"tool_calls": [{"name": "wc", "arguments": "{not json"}], "stop": "max_tokens"},
  {"error": "overloaded"},
  {"content": "done"}
]`, want: []Turn{
			{Content: "x", ToolCalls: []agent.ToolCall{{ID: "c1", Name: "wc", Arguments: `{"text":"a b"}`}}, Usage: agent.Usage{InputTokens: 3, OutputTokens: 4}},
			{ToolCalls: []agent.ToolCall{{Name: "wc", Arguments: "{not json"}}, Stop: agent.StopMaxTokens},
			{Error: "overloaded"},
			{Content: "done"},
		}},
		{name: "no arguments", src: `[{"tool_calls":[{"name":"t"}]}]`, want: []Turn{{ToolCalls: []agent.ToolCall{{Name: "t"}}}}},
		{name: "not an array", src: `{"content": "x"}`, wantErr: "line 1: a script is a JSON array"},
		{name: "syntax error line", src: "[\n{\"content\": \"x\"},\n{\"content\": }\n]", wantErr: "turn 2: line 3"},
		{name: "unknown member", src: "[\n  {\"contents\": \"x\"}\n]", wantErr: `unknown field "contents"`},
		{name: "empty name", src: "[\n{},\n  {\"tool_calls\": [{\"name\": \"\"}]}\n]", wantErr: "line 3: turn 2: tool call 1: name is empty"},
		{name: "array arguments", src: `[{"tool_calls": [{"name": "a", "arguments": [1]}]}]`, wantErr: "tool call 1 (a): arguments must be a JSON object"},
		{name: "bad stop", src: `[{"stop": "halt"}]`, wantErr: `stop "halt"`},
		{name: "negative usage", src: `[{"usage": {"input_tokens": -1}}]`, wantErr: "must not be negative"},
		{name: "wrong type", src: "[\n{\"content\": 5}]", wantErr: "line 2"},
		{name: "truncated", src: `[{"content": "x"}`, wantErr: "unexpected end of script"},
		{name: "trailing data", src: `[] []`, wantErr: "data after"},
		{name: "empty file", src: ``, wantErr: "unexpected end of script"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.src))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestCompleteFollowsConversation(t *testing.T) {
	m := New("s", []Turn{
		{Content: "a", ToolCalls: []agent.ToolCall{{Name: "t"}}},
		{Error: "boom"},
	})
	ctx := context.Background()
	msgs := []agent.Message{{Role: agent.RoleUser, Content: "task"}}
	r, err := m.Complete(ctx, agent.Request{Messages: msgs})
	if err != nil || r.Content != "a" || r.Stop != agent.StopToolUse || len(r.ToolCalls) != 1 {
		t.Fatalf("turn 1 = %+v, %v", r, err)
	}
	msgs = append(msgs, agent.Message{Role: agent.RoleAssistant}, agent.Message{Role: agent.RoleTool})
	if _, err := m.Complete(ctx, agent.Request{Messages: msgs}); err == nil || !strings.Contains(err.Error(), "scripted turn 2: boom") {
		t.Fatalf("turn 2 error = %v", err)
	}
	msgs = append(msgs, agent.Message{Role: agent.RoleAssistant})
	r, err = m.Complete(ctx, agent.Request{Messages: msgs})
	if err != nil || r.Stop != agent.StopEndTurn || r.Content != "" || len(r.ToolCalls) != 0 {
		t.Fatalf("exhausted = %+v, %v", r, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Complete(cctx, agent.Request{}); err == nil {
		t.Fatal("canceled context: no error")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`[{"content":"hi"}]`), 0o644)
	m, err := Load(good)
	if err != nil || m.Name() != "scripted:"+good {
		t.Fatalf("Load = %v, %v", m, err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("[\n{\"x\":1}]"), 0o644)
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), bad+": turn 1: line 2") {
		t.Fatalf("Load bad = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil {
		t.Fatal("missing file: no error")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`[{"content":"x","tool_calls":[{"name":"a","arguments":{"k":1}}],"usage":{"input_tokens":1}}]`))
	f.Add([]byte(`[{"tool_calls":[{"name":"a","arguments":"{bad"}]},{"error":"e"}]`))
	f.Add([]byte(`[{"stop":"tool_use"}] x`))
	f.Add([]byte("[\n{\"content\": }\n]"))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		turns, err := Parse(data)
		if err != nil {
			return
		}
		m := New("f", turns)
		msgs := []agent.Message{{Role: agent.RoleUser, Content: "t"}}
		for range len(turns) + 1 {
			m.Complete(context.Background(), agent.Request{Messages: msgs})
			msgs = append(msgs, agent.Message{Role: agent.RoleAssistant})
		}
	})
}
