package wasm

import "syscall"

// threadCPU returns the CPU time of the calling thread. Benchmarks report
// it beside wall time because this machine is shared: CPU time per call
// moves far less when other processes compete for the cores.
func threadCPU() (int64, bool) {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), true
}

// processCPU returns the CPU time of the whole process, for work spread
// over several threads (compilation workers, the garbage collector).
func processCPU() (int64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), true
}
