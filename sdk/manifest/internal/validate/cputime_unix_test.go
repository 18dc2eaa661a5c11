//go:build unix

package validate

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used. Benchmarks report it per
// op besides wall time because the build machines are shared: wall time
// swings with other people's load, CPU time much less.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
