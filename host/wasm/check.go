package wasm

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/skillsdev/skills/sdk/wire"
)

type signature struct {
	params, results []api.ValueType
}

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// The exports of ABI version 1, in the order a reader of an error expects.
var requiredExports = []struct {
	name string
	sig  signature
}{
	{wire.ExportABIVersion, signature{nil, []api.ValueType{i32}}},
	{wire.ExportInit, signature{nil, nil}},
	{wire.ExportAlloc, signature{[]api.ValueType{i32}, []api.ValueType{i32}}},
	{wire.ExportFree, signature{[]api.ValueType{i32}, nil}},
	{wire.ExportCall, signature{[]api.ValueType{i32, i32}, []api.ValueType{i64}}},
}

// The host functions a guest may import from wire.HostModule.
var hostImports = map[string]signature{
	wire.ImportCall:   {[]api.ValueType{i32, i32, i32, i32, i32}, []api.ValueType{i32}},
	wire.ImportResult: {[]api.ValueType{i32}, nil},
	wire.ImportLog:    {[]api.ValueType{i32, i32, i32}, nil},
}

// checkModule refuses, with a message naming the culprit, a module that
// does not implement the ABI: a missing or mistyped export, an import the
// host does not provide, no exported memory, or one that starts above the
// cap.
func checkModule(m wazero.CompiledModule, metered bool, memLimit uint64) error {
	exports := m.ExportedFunctions()
	for _, want := range requiredExports {
		def, ok := exports[want.name]
		if !ok {
			return fmt.Errorf("module lacks export %q (skill ABI version %d; is it built with the skills sdk and does main call sdk.Serve?)", want.name, wire.ABIVersion)
		}
		if got := (signature{def.ParamTypes(), def.ResultTypes()}); !got.equal(want.sig) {
			return fmt.Errorf("export %q has type %s, want %s", want.name, got, want.sig)
		}
	}
	for _, def := range m.ImportedFunctions() {
		mod, name, _ := def.Import()
		got := signature{def.ParamTypes(), def.ResultTypes()}
		switch mod {
		case wasi_snapshot_preview1.ModuleName:
			// wazero checks these against its WASI at instantiation.
		case wire.HostModule:
			want, ok := hostImports[name]
			if !ok {
				return fmt.Errorf("module imports %s.%s, which the host does not provide", mod, name)
			}
			if !got.equal(want) {
				return fmt.Errorf("import %s.%s has type %s, want %s", mod, name, got, want)
			}
		case tickModule:
			if !metered || name != tickFunc || !got.equal(signature{}) {
				return fmt.Errorf("module imports %s.%s: that module is reserved for the host", mod, name)
			}
		default:
			return fmt.Errorf("module imports %s.%s, which the host does not provide", mod, name)
		}
	}
	if len(m.ImportedMemories()) > 0 {
		return fmt.Errorf("module imports a memory; a skill must define and export its own")
	}
	mem, ok := m.ExportedMemories()["memory"]
	if !ok {
		return fmt.Errorf(`module does not export its memory as "memory"`)
	}
	if start := uint64(mem.Min()) << 16; start > memLimit {
		return fmt.Errorf("module needs %s of memory at start, above its cap of %s", formatBytes(start), formatBytes(memLimit))
	}
	return nil
}

func (s signature) equal(o signature) bool {
	return slices.Equal(s.params, o.params) && slices.Equal(s.results, o.results)
}

func (s signature) String() string {
	names := func(ts []api.ValueType) string {
		out := make([]string, len(ts))
		for i, t := range ts {
			out[i] = api.ValueTypeName(t)
		}
		return "(" + strings.Join(out, ", ") + ")"
	}
	return names(s.params) + " -> " + names(s.results)
}
