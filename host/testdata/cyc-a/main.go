// Command cyc-a is a host test skill: it calls cyc-b, which calls cyc-a
// back, so that the host's cycle check has something to refuse.
package main

import (
	"encoding/json"

	"github.com/skillsdev/skills/sdk"
)

func main() { sdk.Serve(handle) }

// handle returns cyc-b's output, or its error unchanged so that the code
// the host gave it (cycle) reaches the caller.
func handle(ctx sdk.Context, input json.RawMessage) (any, error) {
	out, err := ctx.CallSkill("cyc-b", input)
	if err != nil {
		return nil, err
	}
	return out, nil
}
