// Package scripted is a model that replays a fixed script of replies, for
// tests and demos. It calls no network and ignores what the tools return:
// reply N of the script is the answer to the conversation's Nth model call.
//
// A script file is a JSON array of turns:
//
//	[
//	  {"content": "counting", "tool_calls": [{"name": "wordcount", "arguments": {"text": "a b"}}]},
//	  {"content": "there are 2 words", "usage": {"input_tokens": 120, "output_tokens": 8}}
//	]
//
// Turn members: content (string), tool_calls (list of {id?, name, arguments}),
// usage ({input_tokens, output_tokens}), stop ("end_turn", "tool_use",
// "max_tokens", "other"; default: tool_use when there are tool calls,
// end_turn otherwise), error (a string: the call fails with it, to script a
// provider failure). arguments is a JSON object, or a string holding the raw
// text the model "produced" (so a script can send broken JSON). When the
// script is exhausted the model ends the run with an empty reply.
package scripted

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/skillsdev/skills/agent"
)

// Turn is one scripted reply.
type Turn struct {
	Content   string
	ToolCalls []agent.ToolCall
	Usage     agent.Usage
	Stop      agent.Stop
	Error     string // non-empty: Complete fails with this message
}

// Model replays a script. It keeps no state between calls (the reply is
// picked by counting the assistant messages in the request), so one Model
// can serve any number of runs, concurrently.
type Model struct {
	name  string
	turns []Turn
}

// New makes a Model named name from turns.
func New(name string, turns []Turn) *Model {
	return &Model{name: name, turns: turns}
}

// Load reads and parses a script file; the model is named "scripted:path".
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scripted: %w", err)
	}
	turns, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("scripted: %s: %w", path, err)
	}
	return New("scripted:"+path, turns), nil
}

// Name returns the name given to New.
func (m *Model) Name() string { return m.name }

// Complete returns the script's reply for this point of the conversation.
func (m *Model) Complete(ctx context.Context, req agent.Request) (agent.Response, error) {
	if err := ctx.Err(); err != nil {
		return agent.Response{}, err
	}
	n := 0
	for _, msg := range req.Messages {
		if msg.Role == agent.RoleAssistant {
			n++
		}
	}
	if n >= len(m.turns) {
		return agent.Response{Stop: agent.StopEndTurn}, nil
	}
	t := m.turns[n]
	if t.Error != "" {
		return agent.Response{}, fmt.Errorf("scripted turn %d: %s", n+1, t.Error)
	}
	resp := agent.Response{Content: t.Content, ToolCalls: append([]agent.ToolCall(nil), t.ToolCalls...), Usage: t.Usage, Stop: t.Stop}
	if resp.Stop == "" {
		resp.Stop = agent.StopEndTurn
		if len(resp.ToolCalls) > 0 {
			resp.Stop = agent.StopToolUse
		}
	}
	return resp, nil
}

type fileTurn struct {
	Content   string         `json:"content"`
	ToolCalls []fileToolCall `json:"tool_calls"`
	Usage     *struct {
		InputTokens  int `json:"input_tokens"`
		OutputTokens int `json:"output_tokens"`
	} `json:"usage"`
	Stop  string `json:"stop"`
	Error string `json:"error"`
}

type fileToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// Parse decodes a script. Errors name the line and the turn (1-based).
func Parse(data []byte) ([]Turn, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	tok, err := dec.Token()
	if err != nil {
		return nil, posError(data, dec.InputOffset(), err)
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("line %d: a script is a JSON array of turns", lineAt(data, dec.InputOffset()))
	}
	var turns []Turn
	for dec.More() {
		start := dec.InputOffset()
		var ft fileTurn
		if err := dec.Decode(&ft); err != nil {
			return nil, fmt.Errorf("turn %d: %w", len(turns)+1, posError(data, dec.InputOffset(), err))
		}
		t, err := convert(ft)
		if err != nil {
			return nil, fmt.Errorf("line %d: turn %d: %w", lineAt(data, skipSpace(data, start)), len(turns)+1, err)
		}
		turns = append(turns, t)
	}
	if _, err := dec.Token(); err != nil {
		return nil, posError(data, dec.InputOffset(), err)
	}
	if dec.More() {
		return nil, fmt.Errorf("line %d: data after the script's closing ]", lineAt(data, dec.InputOffset()))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("line %d: data after the script's closing ]", lineAt(data, dec.InputOffset()))
	}
	return turns, nil
}

func convert(ft fileTurn) (Turn, error) {
	t := Turn{Content: ft.Content, Error: ft.Error}
	if ft.Usage != nil {
		if ft.Usage.InputTokens < 0 || ft.Usage.OutputTokens < 0 {
			return Turn{}, errors.New("usage: token counts must not be negative")
		}
		t.Usage = agent.Usage{InputTokens: ft.Usage.InputTokens, OutputTokens: ft.Usage.OutputTokens}
	}
	switch s := agent.Stop(ft.Stop); s {
	case "", agent.StopEndTurn, agent.StopToolUse, agent.StopMaxTokens, agent.StopOther:
		t.Stop = s
	default:
		return Turn{}, fmt.Errorf("stop %q: want end_turn, tool_use, max_tokens or other", ft.Stop)
	}
	for i, fc := range ft.ToolCalls {
		if strings.TrimSpace(fc.Name) == "" {
			return Turn{}, fmt.Errorf("tool call %d: name is empty", i+1)
		}
		args, err := arguments(fc.Arguments)
		if err != nil {
			return Turn{}, fmt.Errorf("tool call %d (%s): %w", i+1, fc.Name, err)
		}
		t.ToolCalls = append(t.ToolCalls, agent.ToolCall{ID: fc.ID, Name: fc.Name, Arguments: args})
	}
	return t, nil
}

func arguments(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("arguments: %w", err)
		}
		return s, nil
	case '{':
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return "", fmt.Errorf("arguments: %w", err)
		}
		return b.String(), nil
	default:
		return "", errors.New("arguments must be a JSON object or a string of raw text")
	}
}

// posError adds the line to a JSON decoding error.
func posError(data []byte, off int64, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("line %d: unexpected end of script", lineAt(data, int64(len(data))))
	}
	return fmt.Errorf("line %d: %w", lineAt(data, off), err)
}

func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',':
			off++
		default:
			return off
		}
	}
	return off
}
