package mcpserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/skillsdev/skills/agent"
	"github.com/skillsdev/skills/instructions"
	"github.com/skillsdev/skills/sdk/manifest"
	"github.com/skillsdev/skills/sdk/wire"
)

// maxPayload bounds the tool input and output copied into an audit event;
// larger ones are recorded by size and SHA-256, as the agent loop does.
const maxPayload = 8 << 10

// callTool returns the handler of the tool for skill name. It looks the
// skill up at call time (host.Call does), so a reload between tools/list
// and tools/call runs the new version, and a removed skill is a not_found
// error result.
func (s *Server) callTool(name string) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, argErr := arguments(name, req.Params.Arguments)
		id := "mcp-" + strconv.FormatUint(s.calls.Add(1), 10)
		session := ""
		if req.Session != nil {
			session = req.Session.ID()
		}
		s.record(agent.EventToolStart, toolStartData{ID: id, Session: session, Name: name, Input: payload(req.Params.Arguments)})
		t0 := time.Now()
		var out json.RawMessage
		err := argErr
		if err == nil {
			out, err = s.host.Call(ctx, name, args)
		}
		ms := time.Since(t0).Milliseconds()
		if err != nil {
			we := wire.AsError(err)
			typ := agent.EventToolError
			if we.Code == wire.CodeToolDenied || we.Code == wire.CodeSkillDenied {
				typ = agent.EventToolDenied
			}
			s.record(typ, toolErrorData{ID: id, Session: session, Name: name, MS: ms, Code: string(we.Code), Message: we.Message})
			return errorResult(we), nil
		}
		s.record(agent.EventToolEnd, toolEndData{ID: id, Session: session, Name: name, MS: ms, Output: payload(out)})
		return outputResult(out), nil
	}
}

// arguments normalizes a call's arguments: absent or null means {} (clients
// send nothing for a tool without parameters); anything but an object is an
// invalid_input error that says what was sent.
func arguments(name string, raw json.RawMessage) (json.RawMessage, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return json.RawMessage("{}"), nil
	}
	if t[0] != '{' {
		return nil, &wire.Error{Code: wire.CodeInvalidInput, Skill: name, Message: "tool arguments must be a JSON object, got " + kind(t[0])}
	}
	return t, nil
}

func kind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

// errorResult is a failed call as the client's model sees it: isError, and
// the typed error as JSON text and as structured content.
func errorResult(we *wire.Error) *mcp.CallToolResult {
	b, err := json.Marshal(we)
	if err != nil { // a wire.Error always marshals; keep the message anyway
		b = []byte(strconv.Quote(we.Error()))
	}
	return &mcp.CallToolResult{
		IsError:           true,
		Content:           []mcp.Content{&mcp.TextContent{Text: string(b)}},
		StructuredContent: json.RawMessage(b),
	}
}

// outputResult is a skill's output: its JSON as text, and as structured
// content when it is an object (what every protocol version accepts).
func outputResult(out json.RawMessage) *mcp.CallToolResult {
	t := bytes.TrimSpace(out)
	r := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(t)}}}
	if len(t) > 0 && t[0] == '{' && json.Valid(t) {
		r.StructuredContent = json.RawMessage(t)
	}
	return r
}

// getPrompt returns the prompts/get handler of instructions skill name. It
// reads the skill from the host's current generation, so the text is that
// of the version serving now.
func (s *Server) getPrompt(name string) mcp.PromptHandler {
	return func(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		for _, in := range s.host.Skills() {
			if in.Manifest.Name != name {
				continue
			}
			if in.Manifest.Runtime != manifest.RuntimeInstructions {
				break
			}
			return &mcp.GetPromptResult{
				Description: in.Manifest.Description,
				Messages: []*mcp.PromptMessage{{
					Role:    "user",
					Content: &mcp.TextContent{Text: instructions.Render(in.Manifest)},
				}},
			}, nil
		}
		// A protocol error: the prompt vanished between list and get.
		return nil, fmt.Errorf("prompt %q: no instructions skill by that name is loaded any more", name)
	}
}

// payload makes tool input or output fit for an audit event: small JSON as
// is, small non-JSON as a string, anything large as its size and digest.
func payload(b []byte) json.RawMessage {
	if len(b) > maxPayload {
		sum := sha256.Sum256(b)
		return json.RawMessage(`{"truncated":true,"bytes":` + strconv.Itoa(len(b)) + `,"sha256":"` + hex.EncodeToString(sum[:]) + `"}`)
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && json.Valid(t) {
		return t
	}
	if len(b) == 0 {
		return json.RawMessage("{}")
	}
	q, _ := json.Marshal(string(b))
	return q
}

// Audit event data: the agent loop's fields, with the MCP session instead
// of the turn. Structs keep the members in a fixed order in the log.
type (
	toolStartData struct {
		ID      string          `json:"id"`
		Session string          `json:"session,omitempty"`
		Name    string          `json:"name"`
		Input   json.RawMessage `json:"input"`
	}
	toolEndData struct {
		ID      string          `json:"id"`
		Session string          `json:"session,omitempty"`
		Name    string          `json:"name"`
		MS      int64           `json:"ms"`
		Output  json.RawMessage `json:"output"`
	}
	toolErrorData struct {
		ID      string `json:"id"`
		Session string `json:"session,omitempty"`
		Name    string `json:"name"`
		MS      int64  `json:"ms"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
)
