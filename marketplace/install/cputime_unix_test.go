//go:build unix

package install

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+system CPU time. The benchmarks report it
// per op next to wall time because the shared machine is often
// oversubscribed, which inflates wall time but not CPU time. The HTTP
// server runs in this process too, so both benchmarks count its work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
