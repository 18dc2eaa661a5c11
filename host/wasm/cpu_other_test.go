//go:build !linux

package wasm

// threadCPU is only measured on Linux.
func threadCPU() (int64, bool) { return 0, false }

// processCPU is only measured on Linux.
func processCPU() (int64, bool) { return 0, false }
