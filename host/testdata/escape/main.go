// Command escape is a host test skill: it reads any path it is given
// through read_file, so that tests can try to leave the workspace.
package main

import (
	"encoding/json"

	"github.com/skillsdev/skills/sdk"
	"github.com/skillsdev/skills/sdk/wire"
)

func main() { sdk.Serve(handle) }

func handle(ctx sdk.Context, input json.RawMessage) (any, error) {
	var in struct {
		Path string `json:"path"`
	}
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, sdk.Errorf(wire.CodeInvalidInput, "input: %v", err)
	}
	out, err := ctx.CallTool("read_file", map[string]string{"path": in.Path})
	if err != nil {
		// Unchanged, so the test sees the tool's code (tool_denied, tool_failed).
		return nil, err
	}
	return out, nil
}
