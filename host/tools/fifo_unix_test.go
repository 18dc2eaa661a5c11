//go:build unix

package tools

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/skillsdev/skills/sdk/wire"
)

// A named pipe in the workspace is refused before it is opened: opening it
// for reading would block until some writer appeared.
func TestReadFileFIFO(t *testing.T) {
	ws, _ := fixture(t)
	if err := syscall.Mkfifo(filepath.Join(ws, "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	r := newTestRegistry(t, Options{Workspace: ws})
	_, werr := call(t, r, "read_file", `{"path":"pipe"}`)
	wantErr(t, werr, wire.CodeToolFailed, "not a regular file (a named pipe)")
}
