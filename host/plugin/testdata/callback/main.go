// Command callback is a test plugin that calls back into the host: a tool or
// a skill, as its input says, and reports what it got.
package main

import (
	"encoding/json"
	"errors"

	"github.com/skillsdev/skills/sdk"
)

type request struct {
	Kind        string          `json:"kind"` // "tool" or "skill"
	Name        string          `json:"name"`
	Input       json.RawMessage `json:"input"`
	Log         string          `json:"log"`          // logged at warn before the callback
	ReturnError bool            `json:"return_error"` // return the callback's error as the handler's
}

type report struct {
	Output json.RawMessage `json:"output,omitempty"`
	Error  *sdk.Error      `json:"error,omitempty"` // found with errors.As
}

func main() {
	sdk.Serve(func(ctx sdk.Context, in json.RawMessage) (any, error) {
		var r request
		if err := json.Unmarshal(in, &r); err != nil {
			return nil, sdk.Errorf("invalid_input", "%v", err)
		}
		if r.Log != "" {
			ctx.Log(sdk.LevelWarn, r.Log)
		}
		call := ctx.CallTool
		if r.Kind == "skill" {
			call = ctx.CallSkill
		}
		out, err := call(r.Name, r.Input)
		if err != nil {
			if r.ReturnError {
				return nil, err
			}
			var e *sdk.Error
			if !errors.As(err, &e) {
				return nil, errors.New("callback error is not a *sdk.Error: " + err.Error())
			}
			return report{Error: e}, nil
		}
		return report{Output: out}, nil
	})
}
