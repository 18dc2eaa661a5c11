//go:build unix

package overlay

import (
	"errors"
	"syscall"
)

// alive reports whether process pid exists. EPERM means it exists but
// belongs to someone else.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
