package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillsdev/skills/agent"
	"github.com/skillsdev/skills/agent/model/httpapi"
)

// server is a Messages API endpoint on 127.0.0.1 that answers with the
// scripted handlers in order and keeps the raw requests.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []json.RawMessage
	headers  []http.Header
}

func newServer(t *testing.T, replies ...func(w http.ResponseWriter, r *http.Request)) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
			http.Error(w, "bad route "+r.URL.Path, http.StatusNotFound)
			return
		}
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.requests)
		s.requests = append(s.requests, body)
		s.headers = append(s.headers, r.Header.Clone())
		s.mu.Unlock()
		if n >= len(replies) {
			http.Error(w, "unexpected request", http.StatusInternalServerError)
			return
		}
		replies[n](w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func jsonReply(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("request-id", "req_011")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func newModel(t *testing.T, s *server, mod func(*Config)) *Model {
	cfg := Config{Model: "claude-test", BaseURL: s.URL, APIKey: "sk-ant-test", BaseDelay: time.Millisecond, Timeout: 5 * time.Second,
		Logger: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const toolUseReply = `{"id":"msg_01","type":"message","role":"assistant","model":"claude-test",
  "content":[{"type":"text","text":"Let me count both."},
    {"type":"tool_use","id":"toolu_01","name":"text_count","input":{"text":"a b"}},
    {"type":"tool_use","id":"toolu_02","name":"text_count","input":{"text":"c"}}],
  "stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":100,"output_tokens":30,"cache_read_input_tokens":20}}`

const finalReply = `{"id":"msg_02","type":"message","role":"assistant","model":"claude-test",
  "content":[{"type":"text","text":"2 and 1 words."}],"stop_reason":"end_turn","stop_sequence":null,
  "usage":{"input_tokens":150,"output_tokens":8}}`

// counter is a ToolSet with one tool whose name needs sanitizing; it fails
// for input "c" so that an error result is threaded too.
type counter struct{ calls []string }

func (c *counter) Tools() []agent.Tool {
	return []agent.Tool{{Name: "text.count", Description: "Count words"}}
}

func (c *counter) Call(_ context.Context, name string, in json.RawMessage) (json.RawMessage, error) {
	c.calls = append(c.calls, name+" "+string(in))
	if strings.Contains(string(in), `"c"`) {
		return nil, errors.New("too short")
	}
	return json.RawMessage(`{"words":2}`), nil
}

func TestRunThreadsToolUse(t *testing.T) {
	s := newServer(t, jsonReply(200, toolUseReply), jsonReply(200, finalReply))
	ts := &counter{}
	res, err := agent.Run(context.Background(), newModel(t, s, nil), ts, "count", agent.Options{System: "be brief", MaxOutputTokens: 200})
	if err != nil {
		t.Fatal(err)
	}
	if res.Content != "2 and 1 words." || res.Usage != (agent.Usage{InputTokens: 270, OutputTokens: 38}) || res.ToolCalls != 2 {
		t.Fatalf("result = %+v", res)
	}
	if strings.Join(ts.calls, "|") != `text.count {"text":"a b"}|text.count {"text":"c"}` {
		t.Fatalf("tool calls = %v", ts.calls)
	}
	want0 := `{"model":"claude-test","max_tokens":200,"system":"be brief","messages":[{"role":"user","content":[{"type":"text","text":"count"}]}],` +
		`"tools":[{"name":"text_count","description":"Count words","input_schema":{"type":"object","properties":{}}}]}`
	if string(s.requests[0]) != want0 {
		t.Fatalf("first request\n got %s\nwant %s", s.requests[0], want0)
	}
	var second struct{ Messages json.RawMessage }
	json.Unmarshal(s.requests[1], &second)
	wantMsgs := `[{"role":"user","content":[{"type":"text","text":"count"}]},` +
		`{"role":"assistant","content":[{"type":"text","text":"Let me count both."},{"type":"tool_use","id":"toolu_01","name":"text_count","input":{"text":"a b"}},{"type":"tool_use","id":"toolu_02","name":"text_count","input":{"text":"c"}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"{\"words\":2}"},` +
		`{"type":"tool_result","tool_use_id":"toolu_02","content":"{\"error\":{\"code\":\"internal\",\"message\":\"internal: too short\"}}","is_error":true}]}]`
	if string(second.Messages) != wantMsgs {
		t.Fatalf("second request messages\n got %s\nwant %s", second.Messages, wantMsgs)
	}
	h := s.headers[0]
	if h.Get("x-api-key") != "sk-ant-test" || h.Get("anthropic-version") != "2023-06-01" || h.Get("Content-Type") != "application/json" {
		t.Fatalf("headers = %v", h)
	}
}

func TestEncodeEdgeCases(t *testing.T) {
	m, _ := New(Config{Model: "c", BaseURL: "http://127.0.0.1:1/v1/"})
	if m.url != "http://127.0.0.1:1/v1/messages" {
		t.Fatalf("url = %s", m.url)
	}
	req := agent.Request{Messages: []agent.Message{
		{Role: agent.RoleUser, Content: "t"},
		{Role: agent.RoleAssistant, ToolCalls: []agent.ToolCall{{ID: "1", Name: "a", Arguments: "{bad"}}},
		{Role: agent.RoleTool, ToolCallID: "1", Content: "", IsError: true},
		{Role: agent.RoleUser, Content: "more"},
	}}
	got, _ := json.Marshal(m.encode(req, httpapi.NewNameMap(nil)))
	want := `{"model":"c","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"t"}]},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"1","name":"a","input":{}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"1","content":"(no output)","is_error":true},{"type":"text","text":"more"}]}]}`
	if string(got) != want {
		t.Fatalf("encode\n got %s\nwant %s", got, want)
	}
}

func TestStopReasons(t *testing.T) {
	for reason, want := range map[string]agent.Stop{"end_turn": agent.StopEndTurn, "stop_sequence": agent.StopEndTurn, "max_tokens": agent.StopMaxTokens, "refusal": agent.StopOther, "pause_turn": agent.StopOther} {
		s := newServer(t, jsonReply(200, `{"content":[{"type":"text","text":"x"}],"stop_reason":"`+reason+`","usage":{"input_tokens":1,"output_tokens":1}}`))
		r, err := newModel(t, s, nil).Complete(context.Background(), agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Content: "t"}}})
		if err != nil || r.Stop != want {
			t.Fatalf("%s: %+v, %v", reason, r, err)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		replies  []func(http.ResponseWriter, *http.Request)
		want     string
		status   int
		requests int
	}{
		{"invalid request", []func(http.ResponseWriter, *http.Request){
			jsonReply(400, `{"type":"error","error":{"type":"invalid_request_error","message":"messages: roles must alternate"}}`)},
			"anthropic: HTTP 400 Bad Request: invalid_request_error: messages: roles must alternate (request id req_011)", 400, 1},
		{"auth", []func(http.ResponseWriter, *http.Request){
			jsonReply(401, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`)},
			"HTTP 401 Unauthorized: authentication_error: invalid x-api-key", 401, 1},
		{"overloaded then ok", []func(http.ResponseWriter, *http.Request){
			jsonReply(529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`), jsonReply(200, finalReply)},
			"", 0, 2},
		{"overloaded until attempts run out", []func(http.ResponseWriter, *http.Request){
			jsonReply(529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`),
			jsonReply(500, `{"type":"error","error":{"type":"api_error","message":"Internal server error"}}`)},
			"HTTP 500 Internal Server Error: api_error: Internal server error (request id req_011) (after 2 attempts)", 500, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.replies...)
			m := newModel(t, s, func(c *Config) { c.MaxAttempts = 2 })
			_, err := m.Complete(context.Background(), agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Content: "t"}}})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			var he *httpapi.HTTPError
			if tt.status != 0 && (!errors.As(err, &he) || he.Status != tt.status) {
				t.Fatalf("err = %#v, want HTTPError %d", err, tt.status)
			}
			if s.count() != tt.requests {
				t.Fatalf("server saw %d requests, want %d", s.count(), tt.requests)
			}
		})
	}
}

func TestRateLimitHonorsRetryAfter(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("retry-after", "1")
		jsonReply(429, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}`)(w, r)
	}, jsonReply(200, finalReply))
	var logs bytes.Buffer
	m := newModel(t, s, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	r, err := m.Complete(context.Background(), agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Content: "t"}}})
	if err != nil || r.Content != "2 and 1 words." || s.count() != 2 {
		t.Fatalf("Complete = %+v, %v after %d requests", r, err, s.count())
	}
	if !strings.Contains(logs.String(), "wait=1s") || !strings.Contains(logs.String(), "rate_limit_error") {
		t.Fatalf("retry log = %s", logs.String())
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	m := newModel(t, s, func(c *Config) { c.Timeout = 100 * time.Millisecond })
	_, err := m.Complete(context.Background(), agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Content: "t"}}})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "anthropic: POST") || s.count() != 1 {
		t.Fatalf("err = %v after %d requests", err, s.count())
	}
}

func TestCallerCancelDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("retry-after", "10")
		jsonReply(429, `{"type":"error","error":{"type":"rate_limit_error","message":"slow"}}`)(w, r)
	})
	// The client logs just before it starts waiting: cancel there.
	m := newModel(t, s, func(c *Config) { c.Logger = slog.New(cancelHandler{cancel}) })
	_, err := m.Complete(ctx, agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Content: "t"}}})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "canceled while waiting to retry") {
		t.Fatalf("err = %v", err)
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{"ANTHROPIC_BASE_URL": "http://127.0.0.1:9999", "ANTHROPIC_API_KEY": "k"}
	m, err := FromEnv("claude-x", func(k string) string { return env[k] })
	if err != nil || m.url != "http://127.0.0.1:9999/v1/messages" || m.cfg.APIKey != "k" || m.Name() != "anthropic:claude-x" {
		t.Fatalf("FromEnv = %+v, %v", m, err)
	}
	if _, err := New(Config{Model: " "}); err == nil {
		t.Fatal("empty model accepted")
	}
	if _, err := New(Config{Model: "m", BaseURL: "127.0.0.1:80"}); err == nil || !strings.Contains(err.Error(), "base URL") {
		t.Fatalf("bad URL: %v", err)
	}
}

// cancelHandler cancels a context when a record is logged.
type cancelHandler struct{ cancel context.CancelFunc }

func (h cancelHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (h cancelHandler) Handle(context.Context, slog.Record) error { h.cancel(); return nil }
func (h cancelHandler) WithAttrs([]slog.Attr) slog.Handler        { return h }
func (h cancelHandler) WithGroup(string) slog.Handler             { return h }
