// Command echo is a test skill that returns its input unchanged.
package main

import (
	"encoding/json"

	"github.com/skillsdev/skills/sdk"
)

func main() { sdk.Serve(echo) }

func echo(_ sdk.Context, input json.RawMessage) (any, error) { return input, nil }
