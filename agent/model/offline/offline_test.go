package offline

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/skillsdev/skills/agent"
)

var tools = []agent.Tool{
	{Name: "wordcount", Description: "Count the words, lines and bytes of a text.", InputSchema: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`)},
	{Name: "read-file", Description: "Read a file from the workspace and return its contents.", InputSchema: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"},"max_bytes":{"type":"integer","minimum":1,"default":4096}},"required":["path"]}`)},
	{Name: "http-get", Description: "Fetch a URL over HTTP and return the body.", InputSchema: json.RawMessage(`{"type":"object","properties":{"url":{"type":"string"},"timeout_s":{"type":"integer","minimum":1,"maximum":30}},"required":["url","timeout_s"]}`)},
	{Name: "translate", Description: "Translate text into another language.", InputSchema: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"},"lang":{"type":"string","enum":["en","fr","de"]},"formal":{"type":"boolean"}},"required":["text","lang","formal"]}`)},
	{Name: "top-words", Description: "List the most frequent words of a text.", InputSchema: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"},"n":{"type":"integer","minimum":1}},"required":["text","n"]}`)},
}

func TestRouteAndFill(t *testing.T) {
	tests := []struct {
		task     string
		wantTool string
		wantArgs string
	}{
		{"count the words in 'one two three'", "wordcount", `{"text":"one two three"}`},
		{"Count the words in this sentence.", "wordcount", `{"text":"Count the words in this sentence."}`},
		{"read the file notes/todo.md", "read-file", `{"path":"notes/todo.md"}`},
		{"read config.yaml and show 100 bytes", "read-file", `{"path":"config.yaml","max_bytes":100}`},
		{"fetch https://example.com/a?b=1 with HTTP", "http-get", `{"url":"https://example.com/a?b=1","timeout_s":1}`},
		{"fetch https://example.com with 99 or 12 seconds", "http-get", `{"url":"https://example.com","timeout_s":12}`},
		{`translate "good morning" to fr`, "translate", `{"text":"good morning","lang":"fr","formal":false}`},
		{"list the 5 most frequent words of “don't stop 3 times”", "top-words", `{"text":"don't stop 3 times","n":5}`},
		{"wordcount please", "wordcount", `{"text":"wordcount please"}`},
	}
	for _, tt := range tests {
		t.Run(tt.task, func(t *testing.T) {
			tool, ok := Route(tt.task, tools)
			if !ok || tool.Name != tt.wantTool {
				t.Fatalf("Route = %q, %v; want %q", tool.Name, ok, tt.wantTool)
			}
			if got := string(FillInput(tt.task, tool.InputSchema)); got != tt.wantArgs {
				t.Fatalf("FillInput = %s, want %s", got, tt.wantArgs)
			}
		})
	}
}

func TestRouteTiesAndMisses(t *testing.T) {
	twins := []agent.Tool{{Name: "b-echo", Description: "echo text"}, {Name: "a-echo", Description: "echo text"}}
	if tool, _ := Route("echo this", twins); tool.Name != "a-echo" {
		t.Fatalf("tie went to %q, want a-echo", tool.Name)
	}
	if _, ok := Route("the of and", tools); ok {
		t.Fatal("stop words matched a tool")
	}
	if _, ok := Route("anything", nil); ok {
		t.Fatal("matched with no tools")
	}
}

func TestFillEdgeCases(t *testing.T) {
	tests := []struct{ name, task, schema, want string }{
		{"no schema", "x", ``, `{}`},
		{"not an object", "x", `[1]`, `{}`},
		{"optional without clues", "x", `{"properties":{"n":{"type":"integer"},"flag":{"type":"boolean"},"tags":{"type":"array"}}}`, `{}`},
		{"required zero values", "x", `{"properties":{"flag":{"type":"boolean"},"tags":{"type":"array"},"opts":{"type":"object","default":{"a":1}}},"required":["flag","tags","opts"]}`, `{"flag":false,"tags":[],"opts":{"a":1}}`},
		{"number bounds", "use 0.5 and 7", `{"properties":{"k":{"type":"integer","minimum":2,"maximum":5}},"required":["k"]}`, `{"k":2}`},
		{"nullable type", "open ./a", `{"properties":{"file":{"type":["null","string"]}}}`, `{"file":"./a"}`},
		{"apostrophe not a quote", "don't count it's words", `{"properties":{"name":{"type":"string"}}}`, `{}`},
		{"two quotes in order", `join 'a b' and "c"`, `{"properties":{"left":{"type":"string"},"right":{"type":"string"}}}`, `{"left":"a b","right":"c"}`},
		{"e.g. is not a path", "e.g. something", `{"properties":{"path":{"type":"string"}},"required":["path"]}`, `{"path":"e.g. something"}`},
		{"string default", "x", `{"properties":{"mode":{"type":"string","default":"fast"}},"required":["mode"]}`, `{"mode":"fast"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(FillInput(tt.task, json.RawMessage(tt.schema))); got != tt.want {
				t.Fatalf("FillInput = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCompleteCallsOnceThenSummarizes(t *testing.T) {
	m := New()
	task := "count the words in 'a b c'"
	msgs := []agent.Message{{Role: agent.RoleUser, Content: task}}
	r1, err := m.Complete(context.Background(), agent.Request{Messages: msgs, Tools: tools})
	if err != nil || len(r1.ToolCalls) != 1 || r1.ToolCalls[0].Name != "wordcount" || r1.Stop != agent.StopToolUse || r1.Usage.InputTokens == 0 {
		t.Fatalf("first reply = %+v, %v", r1, err)
	}
	again, _ := m.Complete(context.Background(), agent.Request{Messages: msgs, Tools: tools})
	if again.ToolCalls[0] != r1.ToolCalls[0] || again.Content != r1.Content {
		t.Fatal("not deterministic")
	}
	msgs = append(msgs, agent.Message{Role: agent.RoleAssistant, ToolCalls: r1.ToolCalls},
		agent.Message{Role: agent.RoleTool, Name: "wordcount", ToolCallID: "offline_1", Content: `{"words":3}`})
	r2, err := m.Complete(context.Background(), agent.Request{Messages: msgs, Tools: tools})
	if err != nil || r2.Content != `Result of wordcount: {"words":3}` || len(r2.ToolCalls) != 0 || r2.Stop != agent.StopEndTurn {
		t.Fatalf("second reply = %+v, %v", r2, err)
	}
	msgs[2].IsError, msgs[2].Content = true, `{"error":{"code":"tool_denied"}}`
	r3, _ := m.Complete(context.Background(), agent.Request{Messages: msgs, Tools: tools})
	if r3.Content != `The tool wordcount failed: {"error":{"code":"tool_denied"}}` {
		t.Fatalf("error summary = %q", r3.Content)
	}
	r4, _ := m.Complete(context.Background(), agent.Request{Messages: msgs[:1]})
	if len(r4.ToolCalls) != 0 || r4.Content == "" {
		t.Fatalf("no tools reply = %+v", r4)
	}
}

// countTools is a minimal ToolSet that really counts words.
type countTools struct{}

func (countTools) Tools() []agent.Tool { return tools }
func (countTools) Call(_ context.Context, name string, in json.RawMessage) (json.RawMessage, error) {
	var args struct{ Text string }
	if err := json.Unmarshal(in, &args); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"tool": name, "words": len(strings.Fields(args.Text))})
}

func TestRunEndToEnd(t *testing.T) {
	res, err := agent.Run(context.Background(), New(), countTools{}, `count the words in "to be or not to be"`, agent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Turns != 2 || res.ToolCalls != 1 || res.Content != `Result of wordcount: {"tool":"wordcount","words":6}` || res.Usage.Total() == 0 {
		t.Fatalf("result = %+v", res)
	}
}
