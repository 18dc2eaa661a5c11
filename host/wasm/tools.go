//go:build tools

package wasm

// The Extism guest in testdata/extism-echo, a benchmark fixture, imports the
// Extism Go PDK. go mod tidy does not look into testdata, so this import
// (never built: "tools" is not a real build tag) keeps the PDK required.
import _ "github.com/extism/go-pdk"
