// Command exit is a test plugin that calls os.Exit(3) mid-call when its input
// asks it to and echoes otherwise.
package main

import (
	"encoding/json"
	"os"

	"github.com/skillsdev/skills/sdk"
)

func main() {
	sdk.Serve(func(_ sdk.Context, in json.RawMessage) (any, error) {
		var r struct{ Exit bool }
		_ = json.Unmarshal(in, &r)
		if r.Exit {
			os.Exit(3)
		}
		return in, nil
	})
}
