//go:build race

package main

// raceEnabled is true in -race builds, where compiling a wasm module takes
// tens of seconds.
const raceEnabled = true
