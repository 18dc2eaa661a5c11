// Command membomb is a test skill that allocates until its memory cap stops
// it, when its input is "bomb"; "ok" answers normally.
package main

import (
	"encoding/json"

	"github.com/skillsdev/skills/sdk"
)

func main() { sdk.Serve(membomb) }

// hoard keeps every chunk reachable, so the GC cannot save the guest.
var hoard [][]byte

func membomb(_ sdk.Context, input json.RawMessage) (any, error) {
	var mode string
	if err := json.Unmarshal(input, &mode); err != nil {
		return nil, sdk.Errorf(sdk.ErrInvalidInput.Code, "decode input: %v", err)
	}
	if mode == "bomb" {
		for {
			chunk := make([]byte, 1<<20)
			chunk[0] = 1
			hoard = append(hoard, chunk)
		}
	}
	return len(hoard), nil
}
