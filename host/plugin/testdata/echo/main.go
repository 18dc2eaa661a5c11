// Command echo is a test plugin that returns its input.
package main

import (
	"encoding/json"

	"github.com/skillsdev/skills/sdk"
)

func main() {
	sdk.Serve(func(_ sdk.Context, in json.RawMessage) (any, error) { return in, nil })
}
