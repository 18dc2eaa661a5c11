package mcpserver

import (
	"encoding/json"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/skillsdev/skills/agent/hosttools"
	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/sdk/manifest"
)

// MetaVersion is the _meta key of a tool or prompt that carries the skill's
// version, so that a new version is visible in tools/list.
const MetaVersion = "io.github.skillsdev/version"

// wanted is the tool and prompt set one generation calls for.
type wanted struct {
	tools   map[string]plannedTool
	prompts map[string]plannedPrompt
	skipped []skip
}

type plannedTool struct {
	tool        *mcp.Tool
	fingerprint string
}

type plannedPrompt struct {
	prompt      *mcp.Prompt
	fingerprint string
}

type skip struct{ name, reason string }

// plan maps loaded skills to MCP tools (code skills) and prompts
// (instructions skills), applying the agent loop's deprecation rule
// (hosttools.Describe): a deprecated skill whose replacement is loaded is
// hidden, any other deprecated skill is served with its description marked
// "(deprecated: use X)".
func plan(skills []host.Info) wanted {
	w := wanted{tools: map[string]plannedTool{}, prompts: map[string]plannedPrompt{}}
	loaded := hosttools.Loaded(skills)
	for _, in := range skills {
		m := in.Manifest
		desc, hidden := hosttools.Describe(in, loaded)
		if hidden {
			continue
		}
		version := ""
		if m.Version != nil {
			version = m.Version.String()
		}
		var meta mcp.Meta
		if version != "" {
			meta = mcp.Meta{MetaVersion: version}
		}
		if m.Runtime == manifest.RuntimeInstructions {
			p := &mcp.Prompt{Meta: meta, Name: m.Name, Description: desc}
			w.prompts[m.Name] = plannedPrompt{prompt: p, fingerprint: fingerprint(m.Name, version, desc)}
			continue
		}
		schema := m.InputSchema
		if len(schema) == 0 {
			schema = json.RawMessage(`{"type":"object"}`)
		}
		// The SDK panics on a schema whose root is not an object; the
		// manifest parser already refuses those, so this only guards
		// against a manifest built some other way.
		var root struct {
			Type any `json:"type"`
		}
		if err := json.Unmarshal(schema, &root); err != nil || root.Type != "object" {
			w.skipped = append(w.skipped, skip{m.Name, `its ## Input schema's root is not "type": "object"`})
			continue
		}
		t := &mcp.Tool{Meta: meta, Name: m.Name, Description: desc, InputSchema: schema}
		w.tools[m.Name] = plannedTool{tool: t, fingerprint: fingerprint(m.Name, version, desc, schema)}
	}
	return w
}
