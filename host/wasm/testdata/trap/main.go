// Command trap is a test skill that fails the hard way, as its input asks:
// a nil dereference, a panic, or a wasm unreachable instruction. "ok"
// answers normally, so tests can check the next call works.
package main

import (
	"encoding/json"
	"runtime"

	"github.com/skillsdev/skills/sdk"
)

func main() { sdk.Serve(trap) }

type node struct{ next *node }

func trap(_ sdk.Context, input json.RawMessage) (any, error) {
	var how string
	if err := json.Unmarshal(input, &how); err != nil {
		return nil, sdk.Errorf(sdk.ErrInvalidInput.Code, "decode input: %v", err)
	}
	switch how {
	case "nil":
		var n *node
		return n.next != nil, nil
	case "panic":
		panic("boom")
	case "unreachable":
		runtime.Breakpoint() // compiles to the wasm unreachable instruction
	}
	return "fine", nil
}
