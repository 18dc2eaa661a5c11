// Command cross-wasm is a host test skill: a wasm module that calls the
// plugin skill sysinfo.
package main

import (
	"encoding/json"

	"github.com/skillsdev/skills/sdk"
)

func main() { sdk.Serve(handle) }

func handle(ctx sdk.Context, _ json.RawMessage) (any, error) {
	out, err := ctx.CallSkill("sysinfo", map[string][]string{"fields": {"os", "arch", "cpus"}})
	if err != nil {
		return nil, err
	}
	return out, nil
}
