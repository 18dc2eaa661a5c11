// Command loop is a test plugin that spins forever when its input asks it to
// and echoes otherwise.
package main

import (
	"encoding/json"

	"github.com/skillsdev/skills/sdk"
)

func main() {
	sdk.Serve(func(_ sdk.Context, in json.RawMessage) (any, error) {
		var r struct{ Loop bool }
		_ = json.Unmarshal(in, &r)
		for r.Loop {
		}
		return in, nil
	})
}
