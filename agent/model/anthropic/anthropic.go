// Package anthropic is a model provider for the Anthropic Messages API with
// tool use: POST {base}/v1/messages, tool_use blocks in the assistant's
// content and tool_result blocks in the next user message.
package anthropic

import (
	"bytes"
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

// Defaults for Config fields left empty.
const (
	DefaultBaseURL   = "https://api.anthropic.com"
	DefaultVersion   = "2023-06-01"
	DefaultMaxTokens = 4096 // the API requires max_tokens on every request
)

// Config configures a Model. Zero durations and counts mean the httpapi
// defaults.
type Config struct {
	Model       string // e.g. "claude-sonnet-4-5"
	BaseURL     string // "" means DefaultBaseURL; a trailing /v1 is accepted
	APIKey      string // sent as x-api-key when set
	Version     string // the anthropic-version header; "" means DefaultVersion
	HTTP        *http.Client
	Timeout     time.Duration // per attempt
	MaxAttempts int
	BaseDelay   time.Duration
	Logger      *slog.Logger
}

// Model calls the Messages API. It is safe for concurrent use.
type Model struct {
	cfg    Config
	url    string
	client *httpapi.Client
}

// New checks cfg and makes a Model.
func New(cfg Config) (*Model, error) {
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("anthropic: no model name (use anthropic:MODEL)")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("anthropic: base URL %q: want http(s)://host[:port][/path]", cfg.BaseURL)
	}
	base := strings.TrimSuffix(strings.TrimRight(cfg.BaseURL, "/"), "/v1")
	return &Model{
		cfg: cfg,
		url: base + "/v1/messages",
		client: &httpapi.Client{
			Provider: "anthropic", HTTP: cfg.HTTP, Timeout: cfg.Timeout, MaxAttempts: cfg.MaxAttempts,
			BaseDelay: cfg.BaseDelay, Logger: cfg.Logger, ParseError: parseError,
		},
	}, nil
}

// FromEnv makes a Model for model with ANTHROPIC_BASE_URL and
// ANTHROPIC_API_KEY read through getenv.
func FromEnv(model string, getenv func(string) string) (*Model, error) {
	return New(Config{Model: model, BaseURL: getenv("ANTHROPIC_BASE_URL"), APIKey: getenv("ANTHROPIC_API_KEY")})
}

// Name returns "anthropic:MODEL".
func (m *Model) Name() string { return "anthropic:" + m.cfg.Model }

// The wire format, as documented for POST /v1/messages.
type (
	messagesRequest struct {
		Model     string    `json:"model"`
		MaxTokens int       `json:"max_tokens"`
		System    string    `json:"system,omitempty"`
		Messages  []message `json:"messages"`
		Tools     []tool    `json:"tools,omitempty"`
	}
	message struct {
		Role    string  `json:"role"`
		Content []block `json:"content"`
	}
	block struct {
		Type      string          `json:"type"`
		Text      string          `json:"text,omitempty"`
		ID        string          `json:"id,omitempty"`
		Name      string          `json:"name,omitempty"`
		Input     json.RawMessage `json:"input,omitempty"`
		ToolUseID string          `json:"tool_use_id,omitempty"`
		Content   string          `json:"content,omitempty"`
		IsError   bool            `json:"is_error,omitempty"`
	}
	tool struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		InputSchema json.RawMessage `json:"input_schema"`
	}
	messagesResponse struct {
		Content    []block `json:"content"`
		StopReason string  `json:"stop_reason"`
		Usage      struct {
			InputTokens              int `json:"input_tokens"`
			OutputTokens             int `json:"output_tokens"`
			CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
			CacheReadInputTokens     int `json:"cache_read_input_tokens"`
		} `json:"usage"`
	}
)

var emptyObjectSchema = json.RawMessage(`{"type":"object","properties":{}}`)

// Complete sends the conversation and returns the reply.
func (m *Model) Complete(ctx context.Context, req agent.Request) (agent.Response, error) {
	names := make([]string, len(req.Tools))
	for i, t := range req.Tools {
		names[i] = t.Name
	}
	nm := httpapi.NewNameMap(names)
	header := http.Header{}
	header.Set("anthropic-version", m.cfg.Version)
	if m.cfg.APIKey != "" {
		header.Set("x-api-key", m.cfg.APIKey)
	}
	var out messagesResponse
	if err := m.client.PostJSON(ctx, m.url, header, m.encode(req, nm), &out); err != nil {
		return agent.Response{}, err
	}
	u := out.Usage
	resp := agent.Response{Usage: agent.Usage{
		InputTokens:  u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens,
		OutputTokens: u.OutputTokens,
	}}
	var text []string
	for _, b := range out.Content {
		switch b.Type {
		case "text":
			text = append(text, b.Text)
		case "tool_use":
			args := "{}"
			if len(b.Input) > 0 {
				var c bytes.Buffer
				if json.Compact(&c, b.Input) == nil {
					args = c.String()
				}
			}
			resp.ToolCalls = append(resp.ToolCalls, agent.ToolCall{ID: b.ID, Name: nm.Original(b.Name), Arguments: args})
		}
	}
	resp.Content = strings.Join(text, "\n")
	switch out.StopReason {
	case "end_turn", "stop_sequence":
		resp.Stop = agent.StopEndTurn
	case "tool_use":
		resp.Stop = agent.StopToolUse
	case "max_tokens":
		resp.Stop = agent.StopMaxTokens
	default:
		resp.Stop = agent.StopOther
	}
	return resp, nil
}

// encode builds the request. The API wants strictly alternating roles, so
// consecutive messages of one role (the results of several tool calls) are
// merged into one message of blocks.
func (m *Model) encode(req agent.Request, nm httpapi.NameMap) messagesRequest {
	mr := messagesRequest{Model: m.cfg.Model, MaxTokens: req.MaxTokens, System: req.System}
	if mr.MaxTokens <= 0 {
		mr.MaxTokens = DefaultMaxTokens
	}
	add := func(role string, blocks ...block) {
		if len(blocks) == 0 {
			return
		}
		if n := len(mr.Messages); n > 0 && mr.Messages[n-1].Role == role {
			mr.Messages[n-1].Content = append(mr.Messages[n-1].Content, blocks...)
			return
		}
		mr.Messages = append(mr.Messages, message{Role: role, Content: blocks})
	}
	for _, msg := range req.Messages {
		switch msg.Role {
		case agent.RoleUser:
			if msg.Content != "" {
				add("user", block{Type: "text", Text: msg.Content})
			}
		case agent.RoleAssistant:
			var blocks []block
			if msg.Content != "" { // the API rejects empty text blocks
				blocks = append(blocks, block{Type: "text", Text: msg.Content})
			}
			for _, tc := range msg.ToolCalls {
				blocks = append(blocks, block{Type: "tool_use", ID: tc.ID, Name: nm.Wire(tc.Name), Input: objectInput(tc.Arguments)})
			}
			add("assistant", blocks...)
		case agent.RoleTool:
			content := msg.Content
			if content == "" {
				content = "(no output)"
			}
			add("user", block{Type: "tool_result", ToolUseID: msg.ToolCallID, Content: content, IsError: msg.IsError})
		}
	}
	for _, t := range req.Tools {
		schema := t.InputSchema
		if len(schema) == 0 {
			schema = emptyObjectSchema
		}
		mr.Tools = append(mr.Tools, tool{Name: nm.Wire(t.Name), Description: t.Description, InputSchema: schema})
	}
	return mr
}

// objectInput returns the arguments of an earlier tool call as the object the
// API requires in a tool_use block. Arguments that were not a JSON object got
// an error result at the time; {} stands in for them here.
func objectInput(args string) json.RawMessage {
	t := bytes.TrimSpace([]byte(args))
	if len(t) > 0 && t[0] == '{' && json.Valid(t) {
		return t
	}
	return json.RawMessage("{}")
}

// parseError reads {"type":"error","error":{"type","message"}}.
func parseError(body []byte) (string, string) {
	var e struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	return e.Error.Type, e.Error.Message
}
