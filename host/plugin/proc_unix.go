//go:build unix && !linux

package plugin

import (
	"errors"
	"os"
	"syscall"
)

// sysProcAttr puts the plugin in a process group of its own, so that Close
// can kill it with everything it started. These systems have no
// parent-death signal: the SDK exits a plugin whose parent changed instead.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killGroup SIGKILLs the process group led by p.
func killGroup(p *os.Process) error {
	err := syscall.Kill(-p.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// canWatchExit is false: there is no portable wait-without-reaping here, so
// the group is killed only until the plugin has been reaped.
const canWatchExit = false

func waitExit(int) error { return errors.ErrUnsupported }
