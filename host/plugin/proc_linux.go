//go:build linux

package plugin

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysProcAttr puts the plugin in a process group of its own, so that Close
// can kill it with everything it started, and asks the kernel to SIGKILL it
// when the host dies, so that a crashed host leaves no orphan.
//
// Pdeathsig fires when the host thread that forked the plugin ends, not the
// host process. Go only ends a thread when a goroutine exits while locked to
// it, which this package never does while spawning; the SDK also exits a
// plugin whose parent changed, so the rare early signal costs a restart at
// worst and a missed one is still caught.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup SIGKILLs the process group led by p.
func killGroup(p *os.Process) error {
	err := syscall.Kill(-p.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// canWatchExit says that waitExit works here.
const canWatchExit = true

// waitExit blocks until the process pid has exited, without reaping it: as
// long as the zombie stays, its pid (and so its process group id) cannot be
// reused, so killing the group afterwards cannot hit a stranger.
func waitExit(pid int) error {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
