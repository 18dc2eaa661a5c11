// Command marker is a test plugin that, whenever it runs at all, first
// creates a file named "<its path>.ran", so a test can prove that a binary
// the host refused never ran.
package main

import (
	"encoding/json"
	"os"

	"github.com/skillsdev/skills/sdk"
)

func main() {
	if f, err := os.Create(os.Args[0] + ".ran"); err == nil {
		f.Close()
	}
	sdk.Serve(func(_ sdk.Context, in json.RawMessage) (any, error) { return in, nil })
}
