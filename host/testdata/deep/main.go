// Command deep is a host test skill: it recurses into itself until the host
// refuses a call, to exercise the depth limit.
package main

import (
	"encoding/json"

	"github.com/skillsdev/skills/sdk"
	"github.com/skillsdev/skills/sdk/wire"
)

func main() { sdk.Serve(handle) }

func handle(ctx sdk.Context, input json.RawMessage) (any, error) {
	var in struct {
		N int `json:"n"`
	}
	if len(input) > 0 {
		if err := json.Unmarshal(input, &in); err != nil {
			return nil, sdk.Errorf(wire.CodeInvalidInput, "input: %v", err)
		}
	}
	out, err := ctx.CallSkill("deep", map[string]int{"n": in.N + 1})
	if err != nil {
		// Unchanged, so the caller sees the host's code and chain.
		return nil, err
	}
	return out, nil
}
