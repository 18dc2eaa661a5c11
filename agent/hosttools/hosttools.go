// Package hosttools offers the skills a host serves to the agent loop as its
// tools (agent.ToolSet). Every turn's snapshot is taken from the host's
// current generation, so a hot reload lands between turns: a newly installed
// skill appears, an uninstalled or deleted one disappears.
//
// What the model sees of a skill: its name, its description and its
// ## Input schema. Instructions skills (no code) are not tools of their own:
// the built-in load_skill tool lists them and returns a skill's
// instructions when the model asks for them (see LoadSkill). Deprecated
// skills follow the operators' rules: a deprecated skill whose replacement
// is loaded is hidden from the model (skills that require it still call it),
// and otherwise its description ends in "(deprecated: use X)", or
// "(deprecated: MESSAGE)" when no replacement is named.
//
// The host reports every call of a deprecated skill (skill.deprecated_call,
// also for nested calls and calls from other front ends such as MCP), so the
// tools here never set agent.Tool.Deprecated: the loop would report the
// same call a second time.
package hosttools

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"

	"github.com/skillsdev/skills/agent"
	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/sdk/manifest"
)

// Tools is an agent.ToolSet over a host. It is safe for concurrent use.
type Tools struct {
	h *host.Host

	mu    sync.Mutex
	gen   uint64 // generation the cached list was built from
	valid bool
	list  []agent.Tool
}

// New returns the tool set of h.
func New(h *host.Host) *Tools { return &Tools{h: h} }

var _ agent.ToolSet = (*Tools)(nil)

// Tools returns the skills of the host's current generation as tools,
// sorted by name. The list is rebuilt only when the generation changed.
func (t *Tools) Tools() []agent.Tool {
	skills, gen := t.snapshot()
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.valid || t.gen != gen {
		t.list, t.gen, t.valid = withLoadSkill(List(skills), skills), gen, true
	}
	return append([]agent.Tool(nil), t.list...)
}

// snapshot reads the skills and the generation they belong to; a swap in
// between is retried, so a list is never cached under the wrong generation.
func (t *Tools) snapshot() ([]host.Info, uint64) {
	for {
		gen := t.h.Generation()
		skills := t.h.Skills()
		if t.h.Generation() == gen {
			return skills, gen
		}
	}
}

// Call runs the skill name through the host, with all of its policy
// (depth, allowed-tools, ## Requires, input schema, deadline), or the
// built-in load_skill against the skills loaded now.
func (t *Tools) Call(ctx context.Context, name string, input json.RawMessage) (json.RawMessage, error) {
	if name == LoadSkill {
		skills := t.h.Skills()
		if !slices.ContainsFunc(skills, func(s host.Info) bool { return s.Manifest.Name == LoadSkill }) {
			return RunLoadSkill(skills, input)
		}
	}
	return t.h.Call(ctx, name, input)
}

// List applies the rules of the package doc to a set of loaded skills: the
// code skills the model may call, in the order given, without load_skill.
func List(skills []host.Info) []agent.Tool {
	loaded := Loaded(skills)
	out := make([]agent.Tool, 0, len(skills))
	for _, s := range skills {
		m := s.Manifest
		if m.Runtime == manifest.RuntimeInstructions {
			continue
		}
		desc, hidden := Describe(s, loaded)
		if hidden {
			continue
		}
		out = append(out, agent.Tool{Name: m.Name, Description: desc, InputSchema: m.InputSchema})
	}
	return out
}

// mark is the note a deprecated tool's description ends with.
func mark(d *host.Deprecation) string {
	switch {
	case d.Replacement != "":
		return "(deprecated: use " + d.Replacement + ")"
	case d.Message != "":
		return "(deprecated: " + strings.TrimSpace(d.Message) + ")"
	}
	return "(deprecated)"
}

// replaced reports whether the replacement named by a deprecation ("name"
// or "name constraint") is loaded, in a version the constraint allows. A
// skill does not replace itself: "use wordcount ^2" on wordcount 1.x means
// upgrading, which has not happened while 1.x is what is loaded.
func replaced(self, replacement string, loaded map[string]*manifest.Manifest) bool {
	name, constraint, _ := strings.Cut(strings.TrimSpace(replacement), " ")
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name, constraint = name[:i], name[i+1:]
	}
	if name == "" || name == self {
		return false
	}
	m, ok := loaded[name]
	if !ok {
		return false
	}
	constraint = strings.TrimSpace(constraint)
	if constraint == "" {
		return true
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil || m.Version == nil {
		return false // an unreadable constraint cannot vouch for the replacement
	}
	return c.Check(m.Version)
}
