//go:build !unix

package plugin

import (
	"errors"
	"os"
	"syscall"
)

// sysProcAttr is empty: without process groups only the plugin itself is
// killed, not what it started.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills the plugin process.
func killGroup(p *os.Process) error {
	err := p.Kill()
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

// canWatchExit is false: there is no wait-without-reaping here.
const canWatchExit = false

func waitExit(int) error { return errors.ErrUnsupported }
