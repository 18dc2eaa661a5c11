package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/skillsdev/skills/sdk/wire"
)

// Call runs the skill name on input (JSON) and returns its output (JSON).
// Errors are *wire.Error values whose Code says what happened (see
// sdk/wire). The deadline is the entry skill's metadata.timeout (or the host
// default), or ctx's own deadline if that is sooner; it bounds every nested
// call of the tree.
func (h *Host) Call(ctx context.Context, name string, input json.RawMessage) (json.RawMessage, error) {
	if c := chainFrom(ctx); c != nil {
		// A host tool (or anything else running inside a call) that calls a
		// skill continues the tree it belongs to.
		return h.callIn(ctx, c, name, input)
	}
	for {
		g := h.current.Load()
		if !g.acquire() {
			if h.closed.Load() {
				return nil, errClosed
			}
			continue // lost a race with a swap: the next generation is already current
		}
		out, err := h.callIn(ctx, &chain{gen: g}, name, input)
		g.done()
		return out, err
	}
}

// callIn runs one hop of a call tree: the checks, then the skill.
func (h *Host) callIn(ctx context.Context, c *chain, name string, input json.RawMessage) (json.RawMessage, error) {
	if len(c.skills) >= h.opts.MaxDepth {
		return nil, &wire.Error{Code: wire.CodeDepthExceeded, Skill: name, Chain: c.path(name),
			Message: fmt.Sprintf("call depth would exceed the limit of %d", h.opts.MaxDepth)}
	}
	l, ok := c.gen.skills[name]
	if !ok {
		return nil, &wire.Error{Code: wire.CodeNotFound, Skill: name, Chain: c.path(""), Message: fmt.Sprintf("no skill named %q is loaded", name)}
	}
	if c.contains(name) && !l.manifest.Reentrant {
		return nil, &wire.Error{Code: wire.CodeCycle, Skill: name, Chain: c.path(name),
			Message: fmt.Sprintf("%s is already on the call chain (set metadata.reentrant: \"true\" to allow recursion)", name)}
	}
	if l.inst.impl == nil {
		return nil, &wire.Error{Code: wire.CodeInvalidInput, Skill: name,
			Message: "an instructions skill has no code to call; its body is guidance for the model"}
	}
	if err := l.manifest.ValidateInput(input); err != nil {
		return nil, &wire.Error{Code: wire.CodeInvalidInput, Skill: name, Chain: c.path(name), Message: err.Error()}
	}
	if len(c.skills) == 0 {
		timeout := l.manifest.Timeout
		if timeout <= 0 {
			timeout = h.opts.DefaultTimeout
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if l.source.Deprecated != nil {
		h.emit(Event{Type: "skill.deprecated_call", Skill: name, Data: map[string]any{
			"caller": c.caller(), "message": l.source.Deprecated.Message, "replacement": l.source.Deprecated.Replacement}})
	}
	out, err := l.inst.impl.Call(context.WithValue(ctx, chainKey{}, c.with(name)), input)
	if err != nil {
		return nil, classify(ctx, name, err)
	}
	return out, nil
}

// classify makes sure every error leaving the host is a *wire.Error, and that
// a deadline or cancellation of the tree is reported as such whatever the
// engine saw.
func classify(ctx context.Context, name string, err error) error {
	var we *wire.Error
	if errors.As(err, &we) {
		return we
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &wire.Error{Code: wire.CodeTimeout, Skill: name, Message: err.Error()}
	case errors.Is(ctx.Err(), context.Canceled):
		return &wire.Error{Code: wire.CodeCanceled, Skill: name, Message: err.Error()}
	}
	return &wire.Error{Code: wire.CodeInternal, Skill: name, Message: err.Error()}
}

// callbacks routes a running skill's requests back into the host. The ctx of
// each request is the context of the skill call being served, so it carries
// that call's chain: the caller is the last skill on it.
type callbacks struct{ h *Host }

func (cb callbacks) CallSkill(ctx context.Context, name string, input []byte) ([]byte, error) {
	c := chainFrom(ctx)
	if c == nil || len(c.skills) == 0 {
		return nil, &wire.Error{Code: wire.CodeInternal, Skill: name, Message: "skill callback outside a call"}
	}
	caller := c.gen.skills[c.caller()]
	req := -1
	for i, r := range caller.manifest.Requires {
		if r.Name == name {
			req = i
			break
		}
	}
	if req < 0 && !(name == c.caller() && caller.manifest.Reentrant) {
		err := &wire.Error{Code: wire.CodeSkillDenied, Skill: name, Chain: c.path(name),
			Message: fmt.Sprintf("%s does not list %s under ## Requires", c.caller(), name)}
		cb.h.emit(Event{Type: "skill.denied", Skill: c.caller(), Data: map[string]any{"callee": name}})
		return nil, err
	}
	if callee, ok := c.gen.skills[name]; ok && req >= 0 && callee.manifest.Version != nil {
		r := caller.manifest.Requires[req]
		if r.Constraint != nil && !r.Constraint.Check(callee.manifest.Version) {
			return nil, &wire.Error{Code: wire.CodeSkillDenied, Skill: name, Chain: c.path(name),
				Message: fmt.Sprintf("%s requires %s %s, but %s is loaded", c.caller(), name, r.Raw, callee.manifest.Version)}
		}
	}
	return cb.h.callIn(ctx, c, name, input)
}

func (cb callbacks) CallTool(ctx context.Context, name string, input []byte) ([]byte, error) {
	c := chainFrom(ctx)
	if c == nil || len(c.skills) == 0 {
		return nil, &wire.Error{Code: wire.CodeInternal, Skill: name, Message: "tool callback outside a call"}
	}
	caller := c.gen.skills[c.caller()]
	if !slices.Contains(caller.manifest.AllowedTools, name) {
		cb.h.emit(Event{Type: "tool.denied", Skill: c.caller(), Data: map[string]any{"tool": name, "reason": "not in allowed-tools"}})
		return nil, &wire.Error{Code: wire.CodeToolDenied, Skill: name, Chain: c.path(""),
			Message: fmt.Sprintf("%s does not list %s in allowed-tools", c.caller(), name)}
	}
	if cb.h.allowed != nil && !cb.h.allowed[name] {
		cb.h.emit(Event{Type: "tool.denied", Skill: c.caller(), Data: map[string]any{"tool": name, "reason": "host policy"}})
		return nil, &wire.Error{Code: wire.CodeToolDenied, Skill: name, Chain: c.path(""),
			Message: fmt.Sprintf("host policy does not allow the tool %s (allow it with --allow-tool %s)", name, name)}
	}
	t, ok := cb.h.tools.Lookup(name)
	if !ok {
		return nil, &wire.Error{Code: wire.CodeNotFound, Skill: name, Message: fmt.Sprintf("no host tool named %q", name)}
	}
	out, err := t.Run(ctx, input)
	if err != nil {
		var we *wire.Error
		if errors.As(err, &we) {
			if we.Skill == "" {
				we.Skill = name
			}
			return nil, we
		}
		return nil, &wire.Error{Code: wire.CodeToolFailed, Skill: name, Message: err.Error()}
	}
	return out, nil
}

func (cb callbacks) Log(ctx context.Context, level slog.Level, msg string) {
	c := chainFrom(ctx)
	skill := ""
	if c != nil {
		skill = c.caller()
	}
	cb.h.log.Log(ctx, level, msg, "skill", skill)
}
