// Command callback is a test skill that reaches back into the host: it calls
// the tool or skill its input names and returns what it got. A failed call's
// error is returned as is, so tests see typed errors cross the boundary in
// both directions.
package main

import (
	"encoding/json"

	"github.com/skillsdev/skills/sdk"
)

func main() { sdk.Serve(callback) }

type request struct {
	Op    string          `json:"op"` // "tool", "skill" or "log"
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
	// Times repeats the call, to exercise the pending-result buffer.
	Times int `json:"times"`
}

func callback(ctx sdk.Context, input json.RawMessage) (any, error) {
	var r request
	if err := json.Unmarshal(input, &r); err != nil {
		return nil, sdk.Errorf(sdk.ErrInvalidInput.Code, "decode input: %v", err)
	}
	if r.Times <= 0 {
		r.Times = 1
	}
	var got []json.RawMessage
	for i := 0; i < r.Times; i++ {
		var out json.RawMessage
		var err error
		switch r.Op {
		case "tool":
			out, err = ctx.CallTool(r.Name, r.Input)
		case "skill":
			out, err = ctx.CallSkill(r.Name, r.Input)
		case "log":
			ctx.Log(sdk.LevelWarn, r.Name)
			out = json.RawMessage(`"logged"`)
		default:
			return nil, sdk.Errorf(sdk.ErrInvalidInput.Code, "unknown op %q", r.Op)
		}
		if err != nil {
			return nil, err
		}
		got = append(got, out)
	}
	return map[string]any{"got": got}, nil
}
