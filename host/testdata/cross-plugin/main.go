// Command cross-plugin is a host test skill: a plugin that calls the wasm
// skill wordcount.
package main

import (
	"encoding/json"

	"github.com/skillsdev/skills/sdk"
	"github.com/skillsdev/skills/sdk/wire"
)

func main() { sdk.Serve(handle) }

func handle(ctx sdk.Context, input json.RawMessage) (any, error) {
	var in struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, sdk.Errorf(wire.CodeInvalidInput, "input: %v", err)
	}
	out, err := ctx.CallSkill("wordcount", map[string]any{"text": in.Text, "top": 3})
	if err != nil {
		return nil, err
	}
	return out, nil
}
