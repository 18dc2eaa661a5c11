// Command panic is a test plugin that panics when its input asks it to and
// echoes otherwise.
package main

import (
	"encoding/json"

	"github.com/skillsdev/skills/sdk"
)

func main() {
	sdk.Serve(func(_ sdk.Context, in json.RawMessage) (any, error) {
		var r struct{ Panic bool }
		_ = json.Unmarshal(in, &r)
		if r.Panic {
			panic("boom from the panic guest")
		}
		return in, nil
	})
}
