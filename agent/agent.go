// Package agent runs the agent loop: a model, the tools the host offers and a
// task go in; a final answer, usage counts and a hash-chained event record
// come out. The loop knows nothing of skills or the host beyond the small
// ToolSet interface, which it re-reads every turn so that a hot reload lands
// between turns. Model providers live in agent/model and its subpackages.
package agent

import (
	"context"
	"encoding/json"
)

// ToolSet is the set of tools the model can use this turn; the agent re-reads
// it every turn. Implementations must be safe for use from one goroutine at a
// time; the loop calls tools one after another.
type ToolSet interface {
	// Tools returns a snapshot: the loop keeps using it for the whole turn.
	Tools() []Tool
	// Call runs a tool. Errors are typically *wire.Error values:
	// CodeToolDenied and CodeSkillDenied are reported as tool.denied, any
	// other error as tool.error; both go back to the model as an error result.
	Call(ctx context.Context, name string, input json.RawMessage) (json.RawMessage, error)
}

// Tool describes one tool to the model.
type Tool struct {
	Name        string
	Description string
	InputSchema json.RawMessage // a JSON Schema object; empty means "any object"
	Deprecated  string          // "" or a hint such as "use wordcount-v2"
}

// Model produces the next assistant message of a conversation. Providers are
// in agent/model/...; a Model must be safe for concurrent use.
type Model interface {
	// Name identifies the model in events, e.g. "openai:gpt-4o".
	Name() string
	// Complete returns the model's reply to the conversation so far.
	Complete(ctx context.Context, req Request) (Response, error)
}

// Request is one model call.
type Request struct {
	System    string    // the system prompt; may be empty
	Messages  []Message // the conversation, oldest first; starts with the user's task
	Tools     []Tool    // the tools the model may call this turn
	MaxTokens int       // cap on output tokens for this reply; 0 means the provider default
}

// Role is who a message is from.
type Role string

// The roles of a conversation.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool" // the result of one tool call
)

// Message is one entry of a conversation.
type Message struct {
	Role    Role
	Content string
	// ToolCalls are the calls an assistant message makes.
	ToolCalls []ToolCall
	// ToolCallID and Name tie a tool message to the call it answers.
	ToolCallID string
	Name       string
	// IsError marks a tool message that reports a failure.
	IsError bool
}

// ToolCall is the model's request to run one tool.
type ToolCall struct {
	ID   string
	Name string
	// Arguments is the raw text the model produced. It is meant to be a JSON
	// object but is kept as text because models do emit broken JSON, and the
	// loop must report that to the model rather than fail.
	Arguments string
}

// Usage counts tokens as the provider reports them.
type Usage struct {
	InputTokens  int
	OutputTokens int
}

// Total is input plus output tokens.
func (u Usage) Total() int { return u.InputTokens + u.OutputTokens }

// Add returns the sum of two usages.
func (u Usage) Add(v Usage) Usage {
	return Usage{InputTokens: u.InputTokens + v.InputTokens, OutputTokens: u.OutputTokens + v.OutputTokens}
}

// Stop is why the model stopped producing its reply.
type Stop string

// Stop reasons, normalized across providers.
const (
	StopEndTurn   Stop = "end_turn"   // the model finished its answer
	StopToolUse   Stop = "tool_use"   // the model wants tool results
	StopMaxTokens Stop = "max_tokens" // the reply hit the output token cap
	StopOther     Stop = "other"      // anything else the provider reported (refusal, content filter, ...)
)

// Response is the model's reply.
type Response struct {
	Content   string
	ToolCalls []ToolCall
	Usage     Usage
	Stop      Stop
}
