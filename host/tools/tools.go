// Package tools is the registry of host tools that skills call through
// ctx.CallTool, and the built-in tools (read_file, write_file, http_get, now).
//
// A tool takes JSON and returns JSON. Every error a registered tool returns is
// a *wire.Error, so a skill can branch on its code: CodeInvalidInput for bad
// arguments, CodeToolDenied for policy refusals, CodeToolFailed for
// operational failures, CodeTimeout/CodeCanceled when the call's context ends.
//
// Whether a given skill may call a given tool (allowed-tools) is decided by the
// host before it looks the tool up here; this package only enforces the
// policy of the tools themselves (workspace confinement, host allowlist, caps).
package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/skillsdev/skills/sdk/wire"
)

// Tool is one host tool.
type Tool struct {
	// Name is what a skill passes to CallTool and lists in allowed-tools:
	// 1-64 characters of [A-Za-z0-9_-], the rule the model providers apply
	// to tool names, so a tool can be offered to a model unchanged.
	Name        string
	Description string
	// InputSchema is the JSON Schema (an object schema) of the input.
	// Empty means {"type":"object"}.
	InputSchema json.RawMessage
	// Run does the work. It must honor ctx and must not keep input after it
	// returns.
	Run func(ctx context.Context, input json.RawMessage) (json.RawMessage, error)
}

// Registry holds a fixed set of tools. It is immutable after NewRegistry and
// so safe for concurrent use.
type Registry struct {
	byName map[string]Tool
	sorted []Tool
}

var toolName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// NewRegistry checks the tools and builds a registry of them. Duplicate or
// malformed names, a missing Run or Description, and an InputSchema that is
// not a JSON object schema are errors.
//
// Each tool's Run is wrapped so that any error it returns reaches the caller
// as a *wire.Error naming the tool: a plain error becomes CodeToolFailed.
func NewRegistry(tools ...Tool) (*Registry, error) {
	r := &Registry{byName: make(map[string]Tool, len(tools))}
	for i, t := range tools {
		if !toolName.MatchString(t.Name) {
			return nil, fmt.Errorf("tools: tool #%d: name %q must be 1-64 characters of [A-Za-z0-9_-]", i, t.Name)
		}
		if _, dup := r.byName[t.Name]; dup {
			return nil, fmt.Errorf("tools: tool %q registered twice", t.Name)
		}
		if strings.TrimSpace(t.Description) == "" {
			return nil, fmt.Errorf("tools: tool %q: description is empty (models choose tools by it)", t.Name)
		}
		if t.Run == nil {
			return nil, fmt.Errorf("tools: tool %q: Run is nil", t.Name)
		}
		schema, err := checkSchema(t.InputSchema)
		if err != nil {
			return nil, fmt.Errorf("tools: tool %q: input schema: %w", t.Name, err)
		}
		t.InputSchema = schema
		t.Run = typedErrors(t.Name, t.Run)
		r.byName[t.Name] = t
		r.sorted = append(r.sorted, t)
	}
	slices.SortFunc(r.sorted, func(a, b Tool) int { return strings.Compare(a.Name, b.Name) })
	return r, nil
}

// Lookup returns the tool with that name.
func (r *Registry) Lookup(name string) (Tool, bool) {
	t, ok := r.byName[name]
	return t, ok
}

// List returns every tool, sorted by name. The slice is the caller's; the
// schemas inside it are shared and must not be modified.
func (r *Registry) List() []Tool {
	return slices.Clone(r.sorted)
}

// checkSchema returns a private copy of schema, or the default object schema
// when it is empty. A schema that is not an object, or whose "type" is set to
// anything but "object", is refused: tool input is always a JSON object.
func checkSchema(schema json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(schema)) == 0 {
		return json.RawMessage(`{"type":"object"}`), nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(schema, &obj); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if raw, ok := obj["type"]; ok {
		var typ string
		if err := json.Unmarshal(raw, &typ); err != nil || typ != "object" {
			return nil, fmt.Errorf(`"type" is %s, want "object"`, raw)
		}
	}
	return slices.Clone(schema), nil
}

// typedErrors guarantees the package contract that every error is a
// *wire.Error carrying the tool's name, whoever wrote the tool.
func typedErrors(name string, run func(context.Context, json.RawMessage) (json.RawMessage, error)) func(context.Context, json.RawMessage) (json.RawMessage, error) {
	return func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
		out, err := run(ctx, input)
		if err == nil {
			return out, nil
		}
		var we *wire.Error
		if errors.As(err, &we) {
			if we.Skill == "" {
				c := *we
				c.Skill = name
				return nil, &c
			}
			return nil, we
		}
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return nil, contextError(name, ctxErr)
		}
		return nil, &wire.Error{Code: wire.CodeToolFailed, Skill: name, Message: err.Error()}
	}
}

// contextError turns the end of a call's context into the matching code.
func contextError(tool string, err error) *wire.Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &wire.Error{Code: wire.CodeTimeout, Skill: tool, Message: "deadline exceeded"}
	}
	return &wire.Error{Code: wire.CodeCanceled, Skill: tool, Message: "canceled"}
}
