// Command undeclared-tool is a host test skill: it calls the host tool read_file
// without declaring it in allowed-tools, and reports the error it gets.
package main

import (
	"encoding/json"
	"errors"

	"github.com/skillsdev/skills/sdk"
)

func main() { sdk.Serve(handle) }

type result struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Output  json.RawMessage `json:"output,omitempty"`
}

// handle returns the typed error as output rather than failing, so that a
// test reads the code the host chose from a successful call.
func handle(ctx sdk.Context, _ json.RawMessage) (any, error) {
	out, err := ctx.CallTool("read_file", map[string]string{"path": "SKILL.md"})
	if err == nil {
		return result{Output: out, Message: "the call succeeded"}, nil
	}
	var e *sdk.Error
	if !errors.As(err, &e) {
		return result{Code: "untyped", Message: err.Error()}, nil
	}
	return result{Code: string(e.Code), Message: e.Message}, nil
}
