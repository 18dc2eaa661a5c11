// Package sdk is what a skill author imports. A skill is one Handler; main
// calls Serve with it, and the same code builds for both runtimes:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared   // a wasm skill (wazero, in-process)
//	go build                                              // a plugin skill (go-plugin, child process)
//
// Under wasip1, Serve registers the handler and returns: the module is a
// reactor whose exports the host calls. Natively, Serve runs the go-plugin
// gRPC server until the host closes it. The ABI a non-Go guest implements is
// documented in sdk/wire/ABI.md.
package sdk

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/skillsdev/skills/sdk/wire"
)

// Handler is a skill: it gets its input as JSON (already validated against
// the ## Input schema of SKILL.md) and returns any value that encodes to JSON.
// A returned *Error keeps its code on the way to the caller; any other error
// reaches the caller with CodeHandler.
type Handler func(ctx Context, input json.RawMessage) (any, error)

// Context is the skill's view of the host during one call.
type Context interface {
	// CallTool calls a host tool named in the skill's allowed-tools. input is
	// encoded to JSON unless it is already json.RawMessage or []byte.
	CallTool(name string, input any) (json.RawMessage, error)
	// CallSkill calls a skill named in the skill's ## Requires, with the same
	// deadline and call chain as this call.
	CallSkill(name string, input any) (json.RawMessage, error)
	// Log writes a line to the host's log, attributed to this skill and call.
	Log(level Level, msg string)
}

// Level is a log level; the values match log/slog.
type Level int

// Log levels.
const (
	LevelDebug Level = -4
	LevelInfo  Level = 0
	LevelWarn  Level = 4
	LevelError Level = 8
)

// Error is the typed error of a call. Use errors.Is with the sentinels below,
// or errors.As to read Code, Message and Chain.
type Error = wire.Error

// Code classifies an Error.
type Code = wire.Code

// Sentinels for errors.Is. They match any *Error with the same code.
var (
	ErrInvalidInput  = &Error{Code: wire.CodeInvalidInput}
	ErrDepthExceeded = &Error{Code: wire.CodeDepthExceeded}
	ErrCycle         = &Error{Code: wire.CodeCycle}
	ErrToolDenied    = &Error{Code: wire.CodeToolDenied}
	ErrSkillDenied   = &Error{Code: wire.CodeSkillDenied}
	ErrNotFound      = &Error{Code: wire.CodeNotFound}
	ErrTimeout       = &Error{Code: wire.CodeTimeout}
	ErrToolFailed    = &Error{Code: wire.CodeToolFailed}
)

// Errorf returns an *Error with the given code, for handlers that want the
// caller to branch on their failure.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// encodeInput turns a CallTool/CallSkill argument into JSON bytes.
func encodeInput(input any) ([]byte, error) {
	switch v := input.(type) {
	case nil:
		return []byte("{}"), nil
	case json.RawMessage:
		return v, nil
	case []byte:
		return v, nil
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, &Error{Code: wire.CodeInvalidInput, Message: "encode input: " + err.Error()}
		}
		return b, nil
	}
}

// encodeResult runs the handler's result through JSON and classifies its
// error, so both runtimes answer the host identically.
func encodeResult(out any, err error) ([]byte, *Error) {
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, &Error{Code: wire.CodeHandler, Message: err.Error()}
	}
	switch v := out.(type) {
	case json.RawMessage:
		if v == nil {
			return []byte("null"), nil
		}
		return v, nil
	}
	b, merr := json.Marshal(out)
	if merr != nil {
		return nil, &Error{Code: wire.CodeHandler, Message: "encode output: " + merr.Error()}
	}
	return b, nil
}
