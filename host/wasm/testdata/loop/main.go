// Command loop is a test skill that never returns, as its input asks: "spin"
// loops on the CPU, "sleep" sleeps for an hour. "ok" answers normally.
package main

import (
	"encoding/json"
	"time"

	"github.com/skillsdev/skills/sdk"
)

func main() { sdk.Serve(loop) }

// counter is package-level so the compiler must keep the loop's work.
var counter uint64

func loop(_ sdk.Context, input json.RawMessage) (any, error) {
	var mode string
	if err := json.Unmarshal(input, &mode); err != nil {
		return nil, sdk.Errorf(sdk.ErrInvalidInput.Code, "decode input: %v", err)
	}
	switch mode {
	case "spin":
		for {
			counter++
		}
	case "sleep":
		time.Sleep(time.Hour)
	}
	return "fine", nil
}
