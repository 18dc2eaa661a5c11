// Command spawn is a test plugin that starts a long `sleep` child on each call
// and reports its own pid and the child's, to show that closing the plugin
// kills its whole process group.
package main

import (
	"encoding/json"
	"os"
	"os/exec"

	"github.com/skillsdev/skills/sdk"
)

func main() {
	sdk.Serve(func(_ sdk.Context, _ json.RawMessage) (any, error) {
		cmd := exec.Command("sleep", "300")
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		go cmd.Wait() // reap it if it ever ends
		return map[string]int{"pid": os.Getpid(), "child": cmd.Process.Pid}, nil
	})
}
