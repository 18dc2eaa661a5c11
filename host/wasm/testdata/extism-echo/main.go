// Command extism-echo is the Extism counterpart of the echo test skill: the
// same work (return the input) behind Extism's ABI, built with its Go PDK, so
// BenchmarkExtism compares like with like. It is a benchmark fixture only.
package main

import "github.com/extism/go-pdk"

//go:wasmexport echo
func echo() int32 {
	pdk.Output(pdk.Input())
	return 0
}

func main() {}
