package openai

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

// server is a Chat Completions endpoint on 127.0.0.1 that answers with the
// scripted handlers in order and keeps the decoded requests.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []map[string]any
	headers  []http.Header
}

func newServer(t *testing.T, replies ...func(w http.ResponseWriter, r *http.Request)) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.Error(w, "bad route "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
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
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func newModel(t *testing.T, s *server, mod func(*Config)) *Model {
	cfg := Config{Model: "gpt-test", BaseURL: s.URL + "/v1", APIKey: "sk-test", BaseDelay: time.Millisecond, Timeout: 5 * time.Second,
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

const toolCallReply = `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null,
  "tool_calls":[{"id":"call_abc","type":"function","function":{"name":"fs_read","arguments":"{\"path\":\"a.txt\"}"}}]},
  "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":50,"completion_tokens":12,"total_tokens":62}}`

const finalReply = `{"id":"chatcmpl-2","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"a.txt says hi"},
  "finish_reason":"stop"}],"usage":{"prompt_tokens":80,"completion_tokens":5,"total_tokens":85}}`

// files is a one-tool ToolSet whose tool name needs sanitizing.
type files struct{ calls []string }

func (f *files) Tools() []agent.Tool {
	return []agent.Tool{{Name: "fs.read", Description: "Read a file", InputSchema: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}`)}}
}

func (f *files) Call(_ context.Context, name string, in json.RawMessage) (json.RawMessage, error) {
	f.calls = append(f.calls, name+" "+string(in))
	return json.RawMessage(`{"content":"hi"}`), nil
}

func TestRunThreadsToolCalls(t *testing.T) {
	s := newServer(t, jsonReply(200, toolCallReply), jsonReply(200, finalReply))
	m := newModel(t, s, nil)
	ts := &files{}
	res, err := agent.Run(context.Background(), m, ts, "read a.txt", agent.Options{System: "be brief", MaxOutputTokens: 300})
	if err != nil {
		t.Fatal(err)
	}
	if res.Content != "a.txt says hi" || res.Usage != (agent.Usage{InputTokens: 130, OutputTokens: 17}) || res.Stop != agent.StopEndTurn {
		t.Fatalf("result = %+v", res)
	}
	if len(ts.calls) != 1 || ts.calls[0] != `fs.read {"path":"a.txt"}` {
		t.Fatalf("tool calls = %v: the sanitized name must map back", ts.calls)
	}
	first := s.requests[0]
	if first["model"] != "gpt-test" || first["max_tokens"] != float64(300) || first["max_completion_tokens"] != nil {
		t.Fatalf("first request = %v", first)
	}
	wantTools := `[{"function":{"description":"Read a file","name":"fs_read","parameters":{"properties":{"path":{"type":"string"}},"required":["path"],"type":"object"}},"type":"function"}]`
	if got, _ := json.Marshal(first["tools"]); string(got) != wantTools {
		t.Fatalf("tools\n got %s\nwant %s", got, wantTools)
	}
	wantMsgs := `[{"content":"be brief","role":"system"},{"content":"read a.txt","role":"user"},` +
		`{"content":null,"role":"assistant","tool_calls":[{"function":{"arguments":"{\"path\":\"a.txt\"}","name":"fs_read"},"id":"call_abc","type":"function"}]},` +
		`{"content":"{\"content\":\"hi\"}","role":"tool","tool_call_id":"call_abc"}]`
	if got, _ := json.Marshal(s.requests[1]["messages"]); string(got) != wantMsgs {
		t.Fatalf("second request messages\n got %s\nwant %s", got, wantMsgs)
	}
	if h := s.headers[0]; h.Get("Authorization") != "Bearer sk-test" || h.Get("Content-Type") != "application/json" {
		t.Fatalf("headers = %v", h)
	}
}

func TestCompleteEncodesErrorResultsAndOptionalKey(t *testing.T) {
	s := newServer(t, jsonReply(200, finalReply))
	m := newModel(t, s, func(c *Config) { c.APIKey = ""; c.MaxTokensField = "max_completion_tokens" })
	req := agent.Request{Messages: []agent.Message{
		{Role: agent.RoleUser, Content: "t"},
		{Role: agent.RoleAssistant, Content: "trying", ToolCalls: []agent.ToolCall{{ID: "c1", Name: "x", Arguments: "{bad"}}},
		{Role: agent.RoleTool, ToolCallID: "c1", Name: "x", Content: `{"error":{"code":"invalid_input"}}`, IsError: true},
	}, MaxTokens: 10}
	if _, err := m.Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(s.requests[0]["messages"])
	want := `[{"content":"t","role":"user"},{"content":"trying","role":"assistant","tool_calls":[{"function":{"arguments":"{bad","name":"x"},"id":"c1","type":"function"}]},{"content":"{\"error\":{\"code\":\"invalid_input\"}}","role":"tool","tool_call_id":"c1"}]`
	if string(got) != want {
		t.Fatalf("messages\n got %s\nwant %s", got, want)
	}
	if s.requests[0]["tools"] != nil || s.requests[0]["max_completion_tokens"] != float64(10) || s.headers[0].Get("Authorization") != "" {
		t.Fatalf("request = %v, headers %v", s.requests[0], s.headers[0])
	}
}

func TestStopReasons(t *testing.T) {
	tests := []struct {
		reply string
		want  agent.Stop
		calls int
	}{
		{`{"choices":[{"message":{"content":"x"},"finish_reason":"length"}]}`, agent.StopMaxTokens, 0},
		{`{"choices":[{"message":{"content":"x"},"finish_reason":"content_filter"}]}`, agent.StopOther, 0},
		{`{"choices":[{"message":{"content":"","tool_calls":[{"id":"1","type":"function","function":{"name":"a","arguments":""}}]},"finish_reason":"stop"}]}`, agent.StopToolUse, 1},
		{`{"choices":[{"message":{"content":null,"refusal":"I can't"},"finish_reason":"stop"}]}`, agent.StopEndTurn, 0},
	}
	for _, tt := range tests {
		s := newServer(t, jsonReply(200, tt.reply))
		r, err := newModel(t, s, nil).Complete(context.Background(), agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Content: "t"}}})
		if err != nil || r.Stop != tt.want || len(r.ToolCalls) != tt.calls || r.Content == "" && tt.calls == 0 {
			t.Fatalf("reply %s: %+v, %v", tt.reply, r, err)
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
		{"bad request is not retried", []func(http.ResponseWriter, *http.Request){
			jsonReply(400, `{"error":{"message":"Invalid 'messages[1].content'","type":"invalid_request_error","param":"messages","code":null}}`)},
			"openai: HTTP 400 Bad Request: invalid_request_error: Invalid 'messages[1].content'", 400, 1},
		{"auth with code", []func(http.ResponseWriter, *http.Request){
			jsonReply(401, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)},
			"HTTP 401 Unauthorized: invalid_request_error/invalid_api_key: Incorrect API key provided", 401, 1},
		{"string error", []func(http.ResponseWriter, *http.Request){jsonReply(404, `{"error":"model \"x\" not found, try pulling it first"}`)},
			`HTTP 404 Not Found: model "x" not found`, 404, 1},
		{"5xx retried until attempts run out", []func(http.ResponseWriter, *http.Request){
			jsonReply(503, `{"error":{"message":"overloaded"}}`), jsonReply(502, `<html>bad gateway</html>`), jsonReply(500, `{"error":{"message":"boom","type":"server_error"}}`)},
			"HTTP 500 Internal Server Error: server_error: boom (after 3 attempts)", 500, 3},
		{"no choices", []func(http.ResponseWriter, *http.Request){jsonReply(200, `{"choices":[]}`)}, "response has no choices", 0, 1},
		{"not json", []func(http.ResponseWriter, *http.Request){jsonReply(200, `<html>`)}, "openai: decode response", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.replies...)
			m := newModel(t, s, func(c *Config) { c.MaxAttempts = 3 })
			_, err := m.Complete(context.Background(), agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Content: "t"}}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
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
		w.Header().Set("Retry-After", "1")
		jsonReply(429, `{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}`)(w, r)
	}, jsonReply(200, finalReply))
	var logs bytes.Buffer
	m := newModel(t, s, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	r, err := m.Complete(context.Background(), agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Content: "t"}}})
	if err != nil || r.Content != "a.txt says hi" || s.count() != 2 {
		t.Fatalf("Complete = %+v, %v after %d requests", r, err, s.count())
	}
	if !strings.Contains(logs.String(), "wait=1s") || !strings.Contains(logs.String(), "status=429") {
		t.Fatalf("retry log = %s", logs.String())
	}
}

func TestRetryAfterBeyondDeadlineFailsFast(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		jsonReply(429, `{"error":{"message":"slow down"}}`)(w, r)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := newModel(t, s, nil).Complete(ctx, agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Content: "t"}}})
	if err == nil || !strings.Contains(err.Error(), "no time left for a retry") || !strings.Contains(err.Error(), "HTTP 429") {
		t.Fatalf("err = %v", err)
	}
}

func TestTimeoutIsAProviderError(t *testing.T) {
	release := make(chan struct{})
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	m := newModel(t, s, func(c *Config) { c.Timeout = 100 * time.Millisecond })
	res, err := agent.Run(context.Background(), m, &files{}, "read a.txt", agent.Options{})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, agent.ErrBudget) ||
		!strings.Contains(err.Error(), "no complete response within 100ms") {
		t.Fatalf("Run = %v", err)
	}
	if s.count() != 1 || res.Turns != 1 {
		t.Fatalf("requests %d, turns %d: a timed-out attempt must not be retried", s.count(), res.Turns)
	}
}

func TestConnectionRefusedIsRetried(t *testing.T) {
	s := newServer(t)
	url := s.URL
	s.Close()
	var logs bytes.Buffer
	m, err := New(Config{Model: "m", BaseURL: url, MaxAttempts: 2, BaseDelay: time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Complete(context.Background(), agent.Request{Messages: []agent.Message{{Role: agent.RoleUser, Content: "t"}}})
	if err == nil || !strings.Contains(err.Error(), "connection refused") || strings.Count(logs.String(), "retrying") != 1 {
		t.Fatalf("err = %v, logs %s", err, logs.String())
	}
}

func TestNewChecksConfig(t *testing.T) {
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "no model name") {
		t.Fatalf("err = %v", err)
	}
	m, err := New(Config{Model: "gpt-4o"})
	if err != nil || m.url != "https://api.openai.com/v1/chat/completions" || m.cfg.MaxTokensField != "max_completion_tokens" {
		t.Fatalf("default = %+v, %v", m, err)
	}
	m, _ = FromEnv("llama", func(k string) string {
		return map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:8080/v1/", "OPENAI_API_KEY": "k"}[k]
	})
	if m.url != "http://127.0.0.1:8080/v1/chat/completions" || m.cfg.APIKey != "k" || m.cfg.MaxTokensField != "max_tokens" || m.Name() != "openai:llama" {
		t.Fatalf("from env = %+v", m)
	}
}
