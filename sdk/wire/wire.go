// Package wire defines what crosses the boundary between a skill and its host:
// the typed error both sides exchange, and the constants of the WebAssembly ABI
// (see ABI.md beside this file). The plugin gRPC protocol lives in pluginpb.
//
// It is shared by the guest SDK and the host, so it imports neither.
package wire

import (
	"errors"
	"strings"
)

// Code classifies an Error so that callers branch on it instead of parsing messages.
type Code string

// The codes a caller can see. Skills may also return their own codes from a handler.
const (
	CodeHandler       Code = "handler_error"  // the skill's handler returned a plain error
	CodeInvalidInput  Code = "invalid_input"  // input is not JSON or fails the ## Input schema
	CodeDepthExceeded Code = "depth_exceeded" // the call chain would exceed the host's depth limit
	CodeCycle         Code = "cycle"          // the callee is already on the call chain
	CodeToolDenied    Code = "tool_denied"    // the tool is not in the caller's allowed-tools, or not allowed by host policy
	CodeSkillDenied   Code = "skill_denied"   // the skill is not in the caller's ## Requires
	CodeNotFound      Code = "not_found"      // no tool or skill by that name is loaded
	CodeTimeout       Code = "timeout"        // the deadline of the call tree passed
	CodeCanceled      Code = "canceled"       // the caller canceled the call
	CodeTrap          Code = "trap"           // the wasm guest trapped (unreachable, out of bounds, ...)
	CodeMemoryLimit   Code = "memory_limit"   // the guest hit its memory cap
	CodeCrashed       Code = "crashed"        // the plugin process died during the call
	CodeToolFailed    Code = "tool_failed"    // a host tool ran and failed (file not found, HTTP error, ...)
	CodeInternal      Code = "internal"       // a host or SDK fault: a bug or a broken artifact
)

// Error is the typed error of a skill call. It travels as JSON in the wasm ABI
// and as a protobuf message over gRPC, and keeps its code across any number of
// nested calls.
type Error struct {
	Code    Code     `json:"code"`
	Message string   `json:"message"`
	Skill   string   `json:"skill,omitempty"` // the skill or tool the error is about
	Chain   []string `json:"chain,omitempty"` // the call chain, outermost first, when it matters
}

// Error formats the error as "code: message [chain a -> b]".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	if e.Skill != "" {
		b.WriteString(" (")
		b.WriteString(e.Skill)
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Chain) > 0 {
		b.WriteString(" [chain ")
		b.WriteString(strings.Join(e.Chain, " -> "))
		b.WriteString("]")
	}
	return b.String()
}

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, &wire.Error{Code: wire.CodeCycle}) works at any depth of wrapping.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Errorf builds an *Error with a code. It is a convenience for hosts and SDKs.
func Errorf(code Code, skill, msg string) *Error {
	return &Error{Code: code, Skill: skill, Message: msg}
}

// AsError returns err as an *Error: itself if it is one (at any depth of
// wrapping), otherwise a CodeInternal error carrying its text.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: err.Error()}
}
