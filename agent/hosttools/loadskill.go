package hosttools

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/skillsdev/skills/agent"
	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/instructions"
	"github.com/skillsdev/skills/sdk/manifest"
	"github.com/skillsdev/skills/sdk/wire"
)

// LoadSkill is the name of the built-in tool that loads an instructions
// skill's body. Instructions skills (a SKILL.md with no code, as in the open
// Agent Skills format) are disclosed progressively: the model sees only
// their names and descriptions, in this tool's description, and reads a
// skill's full instructions by calling load_skill with its name. The tool is
// offered only while at least one instructions skill is loaded.
const LoadSkill = "load_skill"

// Describe returns the description a model sees for a loaded skill of any
// runtime, and whether the skill is hidden instead, by the deprecation rule
// of the package doc. loaded maps the names of the loaded skills to their
// manifests. Package mcpserver applies it to its tools and prompts, so the
// agent and MCP clients see the same set.
func Describe(s host.Info, loaded map[string]*manifest.Manifest) (description string, hidden bool) {
	desc := s.Manifest.Description
	d := s.Source.Deprecated
	if d == nil {
		return desc, false
	}
	if replaced(s.Manifest.Name, d.Replacement, loaded) {
		return desc, true
	}
	return strings.TrimSpace(desc) + " " + mark(d), false
}

// Loaded maps the names of skills to their manifests, for Describe.
func Loaded(skills []host.Info) map[string]*manifest.Manifest {
	out := make(map[string]*manifest.Manifest, len(skills))
	for _, s := range skills {
		out[s.Manifest.Name] = s.Manifest
	}
	return out
}

// LoadSkillTool returns the load_skill tool for a set of loaded skills, and
// false when none of them is a visible instructions skill (then the tool is
// not offered).
func LoadSkillTool(skills []host.Info) (agent.Tool, bool) {
	loaded := Loaded(skills)
	var lines, names []string
	for _, s := range skills {
		if s.Manifest.Runtime != manifest.RuntimeInstructions {
			continue
		}
		desc, hidden := Describe(s, loaded)
		if hidden {
			continue
		}
		names = append(names, s.Manifest.Name)
		lines = append(lines, "- "+s.Manifest.Name+": "+oneLine(desc))
	}
	if len(names) == 0 {
		return agent.Tool{}, false
	}
	sort.Strings(names)
	sort.Strings(lines)
	enum, _ := json.Marshal(names)
	schema := `{"type":"object","properties":{"name":{"type":"string","enum":` + string(enum) +
		`,"description":"The skill to load."}},"required":["name"],"additionalProperties":false}`
	return agent.Tool{
		Name: LoadSkill,
		Description: "Loads the full instructions of a skill: step-by-step guidance, and the files " +
			"(scripts, references, assets) that come with it. Call it when a task matches a skill " +
			"below, before starting, and follow what it returns. Skills:\n" + strings.Join(lines, "\n"),
		InputSchema: json.RawMessage(schema),
	}, true
}

// withLoadSkill appends load_skill to a tool list when skills call for it.
// A code skill that happens to be named load_skill keeps the name: the
// built-in then stays out rather than shadowing it.
func withLoadSkill(list []agent.Tool, skills []host.Info) []agent.Tool {
	t, ok := LoadSkillTool(skills)
	if !ok {
		return list
	}
	for _, have := range list {
		if have.Name == LoadSkill {
			return list
		}
	}
	return append(list, t)
}

// loadSkillOutput is what load_skill returns.
type loadSkillOutput struct {
	Name         string `json:"name"`
	Version      string `json:"version,omitempty"`
	Instructions string `json:"instructions"`
}

// RunLoadSkill runs load_skill on input ({"name": "..."}) against the
// skills loaded now. Errors are *wire.Error values the model can act on.
func RunLoadSkill(skills []host.Info, input json.RawMessage) (json.RawMessage, error) {
	var in struct {
		Name string `json:"name"`
	}
	dec := json.NewDecoder(strings.NewReader(string(input)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, &wire.Error{Code: wire.CodeInvalidInput, Skill: LoadSkill, Message: fmt.Sprintf(`input must be {"name": "<skill>"}: %v`, err)}
	}
	if in.Name == "" {
		return nil, &wire.Error{Code: wire.CodeInvalidInput, Skill: LoadSkill, Message: `input must be {"name": "<skill>"}: name is missing`}
	}
	loaded := Loaded(skills)
	var available []string
	for _, s := range skills {
		m := s.Manifest
		if m.Runtime != manifest.RuntimeInstructions {
			continue
		}
		if _, hidden := Describe(s, loaded); hidden {
			continue
		}
		if m.Name != in.Name {
			available = append(available, m.Name)
			continue
		}
		out := loadSkillOutput{Name: m.Name, Instructions: instructions.Render(m)}
		if m.Version != nil {
			out.Version = m.Version.String()
		}
		return json.Marshal(out)
	}
	msg := fmt.Sprintf("no instructions skill named %q is loaded", in.Name)
	if m, ok := loaded[in.Name]; ok && m.Runtime != manifest.RuntimeInstructions {
		msg = fmt.Sprintf("%s is a %s skill: call it as a tool instead of loading it", in.Name, m.Runtime)
	} else if len(available) > 0 {
		sort.Strings(available)
		msg += "; available: " + strings.Join(available, ", ")
	}
	return nil, &wire.Error{Code: wire.CodeNotFound, Skill: LoadSkill, Message: msg}
}

// oneLine folds a description onto one line for the listing.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
