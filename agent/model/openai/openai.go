// Package openai is a model provider for the OpenAI Chat Completions API
// with function calling, and for the servers that speak it (Ollama, vLLM,
// llama.cpp, LM Studio, ...): POST {base}/chat/completions.
package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/skillsdev/skills/agent"
	"github.com/skillsdev/skills/agent/model/httpapi"
)

// DefaultBaseURL is used when OPENAI_BASE_URL is unset.
const DefaultBaseURL = "https://api.openai.com/v1"

// Config configures a Model. Zero durations and counts mean the httpapi
// defaults.
type Config struct {
	Model   string // e.g. "gpt-4o", "llama3.1"
	BaseURL string // e.g. "http://127.0.0.1:11434/v1"; "" means DefaultBaseURL
	APIKey  string // sent as a bearer token when set; local servers need none
	// MaxTokensField names the output cap in requests. OpenAI's own API
	// wants "max_completion_tokens" (newer models reject "max_tokens"), while
	// some compatible servers only know "max_tokens". "" picks the first
	// for api.openai.com and the second for any other host.
	MaxTokensField string
	HTTP           *http.Client
	Timeout        time.Duration // per attempt
	MaxAttempts    int
	BaseDelay      time.Duration
	Logger         *slog.Logger
}

// Model calls a Chat Completions endpoint. It is safe for concurrent use.
type Model struct {
	cfg    Config
	url    string
	client *httpapi.Client
}

// New checks cfg and makes a Model.
func New(cfg Config) (*Model, error) {
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("openai: no model name (use openai:MODEL)")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("openai: base URL %q: want http(s)://host[:port]/path", cfg.BaseURL)
	}
	if cfg.MaxTokensField == "" {
		cfg.MaxTokensField = "max_tokens"
		if u.Hostname() == "api.openai.com" {
			cfg.MaxTokensField = "max_completion_tokens"
		}
	}
	return &Model{
		cfg: cfg,
		url: strings.TrimRight(cfg.BaseURL, "/") + "/chat/completions",
		client: &httpapi.Client{
			Provider: "openai", HTTP: cfg.HTTP, Timeout: cfg.Timeout, MaxAttempts: cfg.MaxAttempts,
			BaseDelay: cfg.BaseDelay, Logger: cfg.Logger, ParseError: parseError,
		},
	}, nil
}

// FromEnv makes a Model for model with OPENAI_BASE_URL and OPENAI_API_KEY
// (both optional) read through getenv.
func FromEnv(model string, getenv func(string) string) (*Model, error) {
	return New(Config{Model: model, BaseURL: getenv("OPENAI_BASE_URL"), APIKey: getenv("OPENAI_API_KEY")})
}

// Name returns "openai:MODEL".
func (m *Model) Name() string { return "openai:" + m.cfg.Model }

// The wire format, as documented for POST /chat/completions.
type (
	chatMessage struct {
		Role       string         `json:"role"`
		Content    *string        `json:"content"`
		ToolCalls  []chatToolCall `json:"tool_calls,omitempty"`
		ToolCallID string         `json:"tool_call_id,omitempty"`
	}
	chatToolCall struct {
		ID       string       `json:"id"`
		Type     string       `json:"type"`
		Function chatFunction `json:"function"`
	}
	chatFunction struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}
	chatTool struct {
		Type     string      `json:"type"`
		Function chatToolDef `json:"function"`
	}
	chatToolDef struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters"`
	}
	chatResponse struct {
		Choices []struct {
			Message struct {
				Content   *string        `json:"content"`
				Refusal   *string        `json:"refusal"`
				ToolCalls []chatToolCall `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
)

// emptyObjectSchema stands in for a tool without an input schema: the API
// requires parameters to describe an object.
var emptyObjectSchema = json.RawMessage(`{"type":"object","properties":{}}`)

// Complete sends the conversation and returns the first choice.
func (m *Model) Complete(ctx context.Context, req agent.Request) (agent.Response, error) {
	names := make([]string, len(req.Tools))
	for i, t := range req.Tools {
		names[i] = t.Name
	}
	nm := httpapi.NewNameMap(names)
	body := m.encode(req, nm)
	var out chatResponse
	header := http.Header{}
	if m.cfg.APIKey != "" {
		header.Set("Authorization", "Bearer "+m.cfg.APIKey)
	}
	if err := m.client.PostJSON(ctx, m.url, header, body, &out); err != nil {
		return agent.Response{}, err
	}
	if len(out.Choices) == 0 {
		return agent.Response{}, errors.New("openai: response has no choices")
	}
	ch := out.Choices[0]
	resp := agent.Response{Usage: agent.Usage{InputTokens: out.Usage.PromptTokens, OutputTokens: out.Usage.CompletionTokens}}
	if ch.Message.Content != nil {
		resp.Content = *ch.Message.Content
	} else if ch.Message.Refusal != nil {
		resp.Content = *ch.Message.Refusal
	}
	for _, tc := range ch.Message.ToolCalls {
		resp.ToolCalls = append(resp.ToolCalls, agent.ToolCall{ID: tc.ID, Name: nm.Original(tc.Function.Name), Arguments: tc.Function.Arguments})
	}
	switch ch.FinishReason {
	case "stop":
		resp.Stop = agent.StopEndTurn
	case "tool_calls", "function_call":
		resp.Stop = agent.StopToolUse
	case "length":
		resp.Stop = agent.StopMaxTokens
	default:
		resp.Stop = agent.StopOther
	}
	if len(resp.ToolCalls) > 0 && resp.Stop == agent.StopEndTurn {
		// Some compatible servers say "stop" even when they return calls.
		resp.Stop = agent.StopToolUse
	}
	return resp, nil
}

// encode builds the request body; the output cap goes under the configured
// field name, so the body is a map merged from the typed part.
func (m *Model) encode(req agent.Request, nm httpapi.NameMap) map[string]any {
	var msgs []chatMessage
	var tools []chatTool
	if req.System != "" {
		msgs = append(msgs, chatMessage{Role: "system", Content: ptr(req.System)})
	}
	for _, msg := range req.Messages {
		switch msg.Role {
		case agent.RoleUser:
			msgs = append(msgs, chatMessage{Role: "user", Content: ptr(msg.Content)})
		case agent.RoleAssistant:
			cm := chatMessage{Role: "assistant", Content: ptr(msg.Content)}
			if msg.Content == "" && len(msg.ToolCalls) > 0 {
				cm.Content = nil
			}
			for _, tc := range msg.ToolCalls {
				cm.ToolCalls = append(cm.ToolCalls, chatToolCall{ID: tc.ID, Type: "function",
					Function: chatFunction{Name: nm.Wire(tc.Name), Arguments: tc.Arguments}})
			}
			msgs = append(msgs, cm)
		case agent.RoleTool:
			msgs = append(msgs, chatMessage{Role: "tool", ToolCallID: msg.ToolCallID, Content: ptr(msg.Content)})
		}
	}
	for _, t := range req.Tools {
		params := t.InputSchema
		if len(params) == 0 {
			params = emptyObjectSchema
		}
		tools = append(tools, chatTool{Type: "function", Function: chatToolDef{Name: nm.Wire(t.Name), Description: t.Description, Parameters: params}})
	}
	body := map[string]any{"model": m.cfg.Model, "messages": msgs}
	if len(tools) > 0 {
		body["tools"] = tools
	}
	if req.MaxTokens > 0 {
		body[m.cfg.MaxTokensField] = req.MaxTokens
	}
	return body
}

func ptr(s string) *string { return &s }

// parseError reads {"error": {"message", "type", "code"}}, or the
// {"error": "message"} some compatible servers send.
func parseError(body []byte) (string, string) {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Error) == 0 {
		return "", ""
	}
	var s string
	if json.Unmarshal(e.Error, &s) == nil {
		return "", s
	}
	var obj struct {
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
	}
	if json.Unmarshal(e.Error, &obj) != nil {
		return "", ""
	}
	typ := obj.Type
	var code string
	if json.Unmarshal(obj.Code, &code) == nil && code != "" && code != typ {
		if typ != "" {
			typ += "/"
		}
		typ += code
	}
	return typ, obj.Message
}
