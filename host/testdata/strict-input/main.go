// Command strict-input is a host test skill: its schema refuses most
// inputs, and it fails loudly if one of those reaches it anyway.
package main

import (
	"bytes"
	"encoding/json"

	"github.com/skillsdev/skills/sdk"
)

// codeBypassed is what the skill answers when the host let through an input
// that its schema refuses.
const codeBypassed sdk.Code = "schema_bypassed"

func main() { sdk.Serve(handle) }

func handle(_ sdk.Context, input json.RawMessage) (any, error) {
	var in struct {
		N *int64 `json:"n"`
	}
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || in.N == nil || *in.N < 1 {
		return nil, sdk.Errorf(codeBypassed, "the host let through input the schema refuses: %s", input)
	}
	return map[string]int64{"n": *in.N, "double": 2 * *in.N}, nil
}
