// Command errcode is a test skill that fails politely: "custom" returns an
// error with its own code, "plain" a plain Go error (which the caller sees
// as handler_error).
package main

import (
	"encoding/json"
	"errors"

	"github.com/skillsdev/skills/sdk"
)

func main() { sdk.Serve(errcode) }

func errcode(_ sdk.Context, input json.RawMessage) (any, error) {
	var mode string
	if err := json.Unmarshal(input, &mode); err != nil {
		return nil, sdk.Errorf(sdk.ErrInvalidInput.Code, "decode input: %v", err)
	}
	switch mode {
	case "custom":
		return nil, sdk.Errorf("quota_exceeded", "used %d of %d", 11, 10)
	case "plain":
		return nil, errors.New("disk on fire")
	}
	return "fine", nil
}
