// Package model builds an agent.Model from a short spec string, the form the
// CLI and configuration use:
//
//	offline              the deterministic heuristic router (default; no network)
//	scripted:FILE        replays a JSON script of replies (tests, demos)
//	openai:MODEL         OpenAI Chat Completions or a compatible server
//	                     (OPENAI_BASE_URL, default https://api.openai.com/v1;
//	                     OPENAI_API_KEY, optional for local servers)
//	anthropic:MODEL      Anthropic Messages API
//	                     (ANTHROPIC_BASE_URL, default https://api.anthropic.com;
//	                     ANTHROPIC_API_KEY)
package model

import (
	"fmt"
	"os"
	"strings"

	"github.com/skillsdev/skills/agent"
	"github.com/skillsdev/skills/agent/model/anthropic"
	"github.com/skillsdev/skills/agent/model/offline"
	"github.com/skillsdev/skills/agent/model/openai"
	"github.com/skillsdev/skills/agent/model/scripted"
)

// Default is the spec used when none is given.
const Default = "offline"

// New parses spec and builds the model, reading provider settings from the
// process environment.
func New(spec string) (agent.Model, error) {
	return NewWithEnv(spec, os.Getenv)
}

// NewWithEnv is New with the environment read through getenv.
func NewWithEnv(spec string, getenv func(string) string) (agent.Model, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "offline" {
		return offline.New(), nil
	}
	provider, arg, ok := strings.Cut(spec, ":")
	if ok && arg == "" {
		return nil, fmt.Errorf("model %q: missing the part after %q", spec, provider+":")
	}
	switch provider {
	case "scripted":
		if ok {
			return scripted.Load(arg)
		}
	case "openai":
		if ok {
			return openai.FromEnv(arg, getenv)
		}
	case "anthropic":
		if ok {
			return anthropic.FromEnv(arg, getenv)
		}
	}
	return nil, fmt.Errorf("model %q: unknown; want offline, scripted:FILE, openai:MODEL or anthropic:MODEL", spec)
}
