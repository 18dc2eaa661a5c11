package mcpserver_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/mcpserver"
)

// client is an MCP client session built with the Go SDK, counting the
// list_changed notifications it receives.
type client struct {
	cs             *mcp.ClientSession
	toolsChanged   chan struct{}
	promptsChanged chan struct{}
}

func connect(t *testing.T, tr mcp.Transport) *client {
	t.Helper()
	c := &client{toolsChanged: make(chan struct{}, 16), promptsChanged: make(chan struct{}, 16)}
	sdk := mcp.NewClient(&mcp.Implementation{Name: "mcpserver-test", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler:   func(context.Context, *mcp.ToolListChangedRequest) { signal(c.toolsChanged) },
		PromptListChangedHandler: func(context.Context, *mcp.PromptListChangedRequest) { signal(c.promptsChanged) },
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, err := sdk.Connect(ctx, tr, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	c.cs = cs
	return c
}

// signal notes a notification without ever blocking the client.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// await waits for a notification; the bound only keeps a broken test from
// hanging, it measures nothing.
func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("no %s notification", what)
	}
}

func (c *client) tools(t *testing.T) map[string]*mcp.Tool {
	t.Helper()
	res, err := c.cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	out := map[string]*mcp.Tool{}
	for _, tl := range res.Tools {
		out[tl.Name] = tl
	}
	return out
}

func (c *client) prompts(t *testing.T) map[string]*mcp.Prompt {
	t.Helper()
	res, err := c.cs.ListPrompts(context.Background(), nil)
	if err != nil {
		t.Fatalf("prompts/list: %v", err)
	}
	out := map[string]*mcp.Prompt{}
	for _, p := range res.Prompts {
		out[p.Name] = p
	}
	return out
}

func (c *client) call(t *testing.T, name string, args any) *mcp.CallToolResult {
	t.Helper()
	res, err := c.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("tools/call %s: %v", name, err)
	}
	return res
}

// text is the text of a result's only content.
func text(t *testing.T, r *mcp.CallToolResult) string {
	t.Helper()
	if len(r.Content) != 1 {
		t.Fatalf("result has %d contents, want 1", len(r.Content))
	}
	tc, ok := r.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("content is %T, want text", r.Content[0])
	}
	return tc.Text
}

// wireError decodes the typed error of a failed call.
func wireError(t *testing.T, r *mcp.CallToolResult) map[string]any {
	t.Helper()
	if !r.IsError {
		t.Fatalf("result is not an error: %s", text(t, r))
	}
	var e map[string]any
	if err := json.Unmarshal([]byte(text(t, r)), &e); err != nil {
		t.Fatalf("error text is not JSON: %v: %s", err, text(t, r))
	}
	return e
}

// events collects what a Server records.
type events struct {
	mu   sync.Mutex
	list []string
	data []map[string]any
}

func (e *events) record(typ string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, typ)
	e.data = append(e.data, m)
	return nil
}

func (e *events) types() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.list...)
}

// TestServer drives a Server over the SDK's in-memory transport and over
// streamable HTTP (httptest, 127.0.0.1) through a skill set's life: an
// instructions skill only, wordcount installed, deprecated, its replacement
// installed, everything uninstalled.
func TestServer(t *testing.T) {
	for _, transport := range []string{"memory", "http"} {
		t.Run(transport, func(t *testing.T) {
			srcs := unitSources(t)
			h := newHost(t)
			apply := func(s ...host.Source) {
				t.Helper()
				res, err := h.Apply(context.Background(), s)
				if err == nil {
					err = res.Err()
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			apply(srcs["guide"])
			var ev events
			srv := mcpserver.New(h, mcpserver.Options{Record: ev.record})
			var tr mcp.Transport
			if transport == "memory" {
				st, ct := mcp.NewInMemoryTransports()
				ss, err := srv.MCP().Connect(context.Background(), st, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ss.Close() })
				tr = ct
			} else {
				ts := httptest.NewServer(srv.Handler())
				t.Cleanup(ts.Close)
				tr = &mcp.StreamableClientTransport{Endpoint: ts.URL, MaxRetries: -1}
			}
			c := connect(t, tr)

			if got := c.tools(t); len(got) != 0 {
				t.Fatalf("tools before any code skill: %v", got)
			}
			p := c.prompts(t)["guide"]
			if p == nil || !strings.HasPrefix(p.Description, "How to write a release note") || p.Meta[mcpserver.MetaVersion] != "1.0.0" {
				t.Fatalf("prompts: %+v", c.prompts(t))
			}
			gp, err := c.cs.GetPrompt(context.Background(), &mcp.GetPromptParams{Name: "guide"})
			if err != nil {
				t.Fatal(err)
			}
			body := gp.Messages[0].Content.(*mcp.TextContent).Text
			for _, want := range []string{"# Writing a release note", "scripts/changes.sh", "Skill folder: " + srcs["guide"].Dir, "- assets/template.md\n", "- references/style.md\n"} {
				if !strings.Contains(body, want) {
					t.Errorf("prompt text lacks %q:\n%s", want, body)
				}
			}

			// Install wordcount: a new tool, announced.
			apply(srcs["guide"], srcs["wordcount"])
			if ch := srv.Sync(); !reflect.DeepEqual(ch.Added, []string{"wordcount"}) || len(ch.Updated)+len(ch.Removed) != 0 {
				t.Fatalf("sync after install: %+v", ch)
			}
			await(t, c.toolsChanged, "tools/list_changed after an install")
			wc := c.tools(t)["wordcount"]
			if wc == nil || wc.Meta[mcpserver.MetaVersion] != "1.0.0" || !strings.HasPrefix(wc.Description, "Counts the words") {
				t.Fatalf("tools after install: %+v", c.tools(t))
			}
			var wantSchema any
			if err := json.Unmarshal(srcs["wordcount"].Manifest.InputSchema, &wantSchema); err != nil || !reflect.DeepEqual(wc.InputSchema, wantSchema) {
				t.Fatalf("inputSchema %v, want ## Input %s", wc.InputSchema, srcs["wordcount"].Manifest.InputSchema)
			}

			r := c.call(t, "wordcount", map[string]any{"text": "to be or not to be", "top": 2})
			if r.IsError {
				t.Fatalf("call failed: %s", text(t, r))
			}
			var out struct {
				Words int `json:"words"`
				Top   []struct {
					Word  string `json:"word"`
					Count int    `json:"count"`
				} `json:"top"`
			}
			if err := json.Unmarshal([]byte(text(t, r)), &out); err != nil || out.Words != 6 || len(out.Top) != 2 || out.Top[0].Word != "be" {
				t.Fatalf("output %s (%v)", text(t, r), err)
			}
			if sc, _ := json.Marshal(r.StructuredContent); !strings.Contains(string(sc), `"words":6`) {
				t.Fatalf("structuredContent %s", sc)
			}

			// Bad arguments: a clear, typed error the model can act on.
			for _, tc := range []struct {
				args          any
				code, message string
			}{
				{map[string]any{"top": 2}, "invalid_input", `missing required property "text"`},
				{map[string]any{"text": 5}, "invalid_input", "/text: expected string, got number"},
				{map[string]any{"text": "x", "top": 1000}, "invalid_input", "/top"},
				{map[string]any{"text": "x", "color": "red"}, "invalid_input", "color"},
				{json.RawMessage(`"just text"`), "invalid_input", "tool arguments must be a JSON object, got a string"},
			} {
				e := wireError(t, c.call(t, "wordcount", tc.args))
				if e["code"] != tc.code || !strings.Contains(e["message"].(string), tc.message) || e["skill"] != "wordcount" {
					t.Errorf("args %v: error %v, want code %s and a message with %q", tc.args, e, tc.code, tc.message)
				}
			}

			// A deprecation marks the description; its replacement, once
			// loaded, hides the deprecated skill.
			dep := srcs["wordcount"]
			dep.Deprecated = &host.Deprecation{Message: "superseded", Replacement: "guide"}
			apply(srcs["guide"], dep)
			if ch := srv.Sync(); !reflect.DeepEqual(ch.Removed, []string{"wordcount"}) {
				t.Fatalf("sync after deprecation with a loaded replacement: %+v", ch)
			}
			await(t, c.toolsChanged, "tools/list_changed after a deprecation")
			if got := c.tools(t); len(got) != 0 {
				t.Fatalf("a skill whose replacement is loaded is still listed: %v", got)
			}
			dep.Deprecated = &host.Deprecation{Message: "superseded", Replacement: "wordcount-next ^2"}
			apply(srcs["guide"], dep)
			if ch := srv.Sync(); !reflect.DeepEqual(ch.Added, []string{"wordcount"}) {
				t.Fatalf("sync after deprecation: %+v", ch)
			}
			await(t, c.toolsChanged, "tools/list_changed after a deprecation change")
			if d := c.tools(t)["wordcount"].Description; !strings.HasSuffix(d, " (deprecated: use wordcount-next ^2)") {
				t.Fatalf("deprecated description %q", d)
			}

			// Uninstall everything: both lists change, calls fail cleanly.
			apply()
			if ch := srv.Sync(); !reflect.DeepEqual(ch.Removed, []string{"guide", "wordcount"}) {
				t.Fatalf("sync after uninstall: %+v", ch)
			}
			await(t, c.toolsChanged, "tools/list_changed after an uninstall")
			await(t, c.promptsChanged, "prompts/list_changed after an uninstall")
			if len(c.tools(t))+len(c.prompts(t)) != 0 {
				t.Fatal("tools or prompts left after uninstall")
			}
			if _, err := c.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "wordcount", Arguments: map[string]any{"text": "x"}}); err == nil || !strings.Contains(err.Error(), "wordcount") {
				t.Fatalf("call of an uninstalled tool: %v", err)
			}
			if ch := srv.Sync(); !ch.Empty() {
				t.Fatalf("a second sync changed %+v", ch)
			}

			got := ev.types()
			want := []string{"tool.start", "tool.end"}
			for range 5 {
				want = append(want, "tool.start", "tool.error")
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("recorded %v\nwant %v", got, want)
			}
			ev.mu.Lock()
			defer ev.mu.Unlock()
			if d := ev.data[0]; d["id"] != ev.data[1]["id"] || d["name"] != "wordcount" || d["input"].(map[string]any)["text"] != "to be or not to be" {
				t.Errorf("tool.start %v / tool.end %v", d, ev.data[1])
			}
			if d := ev.data[3]; d["code"] != "invalid_input" || d["id"] != ev.data[2]["id"] {
				t.Errorf("tool.error %v", d)
			}
		})
	}
}

// TestServerReloadUnderLoad calls wordcount from several clients while
// generations swap underneath (the same code, alternately deprecated and
// not): every call succeeds, and every client ends with the final list.
func TestServerReloadUnderLoad(t *testing.T) {
	srcs := unitSources(t)
	h := newHost(t)
	if _, err := h.Apply(context.Background(), []host.Source{srcs["wordcount"]}); err != nil {
		t.Fatal(err)
	}
	srv := mcpserver.New(h, mcpserver.Options{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close) // after the sessions close (cleanups run last first)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	followed := make(chan struct{})
	go func() { srv.Follow(ctx, time.Millisecond); close(followed) }()

	const clients, calls = 3, 20
	var wg sync.WaitGroup
	errs := make(chan string, clients*calls)
	for range clients {
		c := connect(t, &mcp.StreamableClientTransport{Endpoint: ts.URL, MaxRetries: -1})
		wg.Go(func() {
			for range calls {
				res, err := c.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "wordcount", Arguments: map[string]any{"text": "a b a"}})
				switch {
				case err != nil:
					errs <- err.Error()
				case res.IsError:
					errs <- res.Content[0].(*mcp.TextContent).Text
				}
			}
		})
	}
	for i := range 20 {
		s := srcs["wordcount"]
		if i%2 == 0 {
			s.Deprecated = &host.Deprecation{Message: "old"}
		}
		if _, err := h.Apply(context.Background(), []host.Source{s}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	cancel()
	<-followed
	srv.Sync()
	if d := srv.Tools(); !reflect.DeepEqual(d, []string{"wordcount"}) {
		t.Fatalf("tools %v", d)
	}
}
