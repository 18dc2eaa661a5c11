package meter_test

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/skillsdev/skills/host/wasm/internal/meter"
	w "github.com/skillsdev/skills/host/wasm/internal/wasmtest"
)

var cfg = meter.Config{Module: "meter", Name: "tick", Interval: 10}

// loopModule counts to its argument in a loop. It has no () -> () type, so
// the instrumentation must add one, and no imports or globals.
func loopModule() []byte {
	return w.Module(
		w.Section(w.SecType, w.FuncType([]byte{w.I32}, []byte{w.I32})),
		w.Section(w.SecFunction, w.U32(0)),
		w.Section(w.SecExport, w.Export("count", w.KindFunc, 0)),
		w.Section(w.SecCode, w.Body([]byte{1, 1, w.I32},
			w.Block(0x03),
			w.LocalGet(1), w.I32Const(1), w.I32Add, w.LocalTee(1),
			w.LocalGet(0), []byte{0x49}, w.BrIf(0), // i32.lt_u
			w.End,
			w.LocalGet(1))),
	)
}

// richModule has what renumbering must get right: an imported function
// before the defined ones, calls, call_indirect through active element
// segments (plain indices and expressions), ref.func in a global, a start
// function, exports and a name section.
//
// Functions: 0 env.double (import), 1 count, 2 viaTable, 3 viaImport, 4 fib,
// 5 start, 6 getG, 7 viaGlobal.
func richModule() []byte {
	return w.Module(
		w.Section(w.SecType,
			w.FuncType([]byte{w.I32}, []byte{w.I32}), // 0
			w.FuncType(nil, []byte{w.I32}),           // 1
			w.FuncType(nil, nil),                     // 2
		),
		w.Section(w.SecImport, w.ImportFunc("env", "double", 0)),
		w.Section(w.SecFunction, w.U32(0), w.U32(1), w.U32(0), w.U32(0), w.U32(2), w.U32(1), w.U32(0)),
		w.Section(w.SecTable, []byte{w.FuncRef, 0x00, 2}),
		w.Section(w.SecGlobal,
			w.Cat([]byte{w.I32, 0x01}, w.I32Const(0), w.End),
			w.Cat([]byte{w.FuncRef, 0x00}, w.RefFunc(3), w.End),
		),
		w.Section(w.SecExport,
			w.Export("count", w.KindFunc, 1),
			w.Export("viaTable", w.KindFunc, 2),
			w.Export("viaImport", w.KindFunc, 3),
			w.Export("fib", w.KindFunc, 4),
			w.Export("getG", w.KindFunc, 6),
			w.Export("viaGlobal", w.KindFunc, 7),
		),
		w.Raw(w.SecStart, w.U32(5)),
		w.Section(w.SecElement,
			w.Cat(w.U32(0), w.I32Const(0), w.End, w.U32(1), w.U32(1)),            // table[0] = count
			w.Cat(w.U32(4), w.I32Const(1), w.End, w.U32(1), w.RefFunc(3), w.End), // table[1] = viaImport
		),
		w.Section(w.SecCode,
			// count(n): i = 0; do i++ while i < n
			w.Body([]byte{1, 1, w.I32}, w.Block(0x03),
				w.LocalGet(1), w.I32Const(1), w.I32Add, w.LocalTee(1),
				w.LocalGet(0), []byte{0x49}, w.BrIf(0), w.End, w.LocalGet(1)),
			// viaTable() = table[0](5)
			w.Body(nil, w.I32Const(5), w.I32Const(0), w.CallIndirect(0)),
			// viaImport(n) = double(n)
			w.Body(nil, w.LocalGet(0), w.Call(0)),
			// fib(n), recursive, no loop
			w.Body(nil, w.LocalGet(0), w.I32Const(2), []byte{0x49}, []byte{0x04, w.I32},
				w.LocalGet(0),
				[]byte{0x05},
				w.LocalGet(0), w.I32Const(1), w.I32Sub, w.Call(4),
				w.LocalGet(0), w.I32Const(2), w.I32Sub, w.Call(4), w.I32Add,
				w.End),
			// start: g0 = 42
			w.Body(nil, w.I32Const(42), w.Op1(0x24, 0)),
			// getG() = g0
			w.Body(nil, w.Op1(0x23, 0)),
			// viaGlobal(n): table[1] = g1; return table[1](n)
			w.Body(nil, w.I32Const(1), w.Op1(0x23, 1), []byte{0x26, 0x00},
				w.LocalGet(0), w.I32Const(1), w.CallIndirect(0)),
		),
		w.Custom("name", w.Cat(
			[]byte{1}, // function names
			func() []byte {
				names := w.Cat(w.U32(8),
					w.U32(0), w.Name("double"), w.U32(1), w.Name("count"), w.U32(2), w.Name("viaTable"),
					w.U32(3), w.Name("viaImport"), w.U32(4), w.Name("fib"), w.U32(5), w.Name("start"),
					w.U32(6), w.Name("getG"), w.U32(7), w.Name("viaGlobal"))
				return append(w.U32(uint32(len(names))), names...)
			}(),
		)),
		w.Custom(".debug_info", []byte{1, 2, 3}),
	)
}

type run struct {
	fn   string
	args []uint64
	want uint64
}

// instantiate runs bin in a fresh runtime with env.double and meter.tick.
func instantiate(t testing.TB, bin []byte, ticks *atomic.Int64) api.Module {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	t.Cleanup(func() { r.Close(ctx) })
	_, err := r.NewHostModuleBuilder("env").NewFunctionBuilder().
		WithGoFunction(api.GoFunc(func(_ context.Context, s []uint64) { s[0] = uint64(uint32(s[0]) * 2) }),
			[]api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}).
		Export("double").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.NewHostModuleBuilder(cfg.Module).NewFunctionBuilder().
		WithGoFunction(api.GoFunc(func(context.Context, []uint64) { ticks.Add(1) }), nil, nil).
		Export(cfg.Name).Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Instantiate(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInstrumentKeepsBehaviour(t *testing.T) {
	tests := []struct {
		name      string
		bin       []byte
		runs      []run
		wantTicks bool
	}{
		{"loop", loopModule(), []run{{"count", []uint64{1000}, 1000}}, true},
		{"rich", richModule(), []run{
			{"count", []uint64{1000}, 1000},
			{"viaTable", nil, 5},
			{"viaImport", []uint64{21}, 42},
			{"fib", []uint64{15}, 610},
			{"getG", nil, 42},
			{"viaGlobal", []uint64{4}, 8},
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := meter.Instrument(tt.bin, cfg)
			if err != nil {
				t.Fatalf("Instrument: %v", err)
			}
			var origTicks, ticks atomic.Int64
			orig := instantiate(t, tt.bin, &origTicks)
			inst := instantiate(t, out, &ticks)
			for _, r := range tt.runs {
				a, err := orig.ExportedFunction(r.fn).Call(context.Background(), r.args...)
				if err != nil {
					t.Fatalf("original %s: %v", r.fn, err)
				}
				b, err := inst.ExportedFunction(r.fn).Call(context.Background(), r.args...)
				if err != nil {
					t.Fatalf("instrumented %s: %v", r.fn, err)
				}
				if a[0] != r.want || b[0] != r.want {
					t.Errorf("%s: original %d, instrumented %d, want %d", r.fn, a[0], b[0], r.want)
				}
			}
			if got := ticks.Load(); (got > 0) != tt.wantTicks {
				t.Errorf("ticks = %d, want some: %v", got, tt.wantTicks)
			}
		})
	}
}

// TestInstrumentChecksRecursion makes sure a call tree without loops still
// reaches the host: fib has only calls.
func TestInstrumentChecksRecursion(t *testing.T) {
	out, err := meter.Instrument(richModule(), meter.Config{Module: cfg.Module, Name: cfg.Name, Interval: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ticks atomic.Int64
	m := instantiate(t, out, &ticks)
	if _, err := m.ExportedFunction("fib").Call(context.Background(), 20); err != nil {
		t.Fatal(err)
	}
	// fib(20) makes 21891 calls: one check each, one tick per 100.
	if got := ticks.Load(); got < 200 || got > 230 {
		t.Errorf("ticks = %d, want about 219", got)
	}
}

func TestInstrumentDropsDebugInfo(t *testing.T) {
	out, err := meter.Instrument(richModule(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte(".debug_info")) {
		t.Error("DWARF section kept although every code offset moved")
	}
	if !bytes.Contains(out, []byte("viaGlobal")) {
		t.Error("name section lost")
	}
}

func TestInstrumentRefuses(t *testing.T) {
	good := loopModule()
	tests := []struct {
		name string
		bin  []byte
		cfg  meter.Config
		want string
	}{
		{"empty", nil, cfg, "not a WebAssembly"},
		{"text", []byte("(module)"), cfg, "not a WebAssembly"},
		{"truncated", good[:len(good)-3], cfg, "exceeds the data"},
		{"unknown opcode", w.Module(
			w.Section(w.SecType, w.FuncType(nil, nil)),
			w.Section(w.SecFunction, w.U32(0)),
			w.Section(w.SecCode, w.Body(nil, []byte{0xff})),
		), cfg, "unknown opcode 0xff"},
		{"sections out of order", w.Module(
			w.Section(w.SecFunction, w.U32(0)),
			w.Section(w.SecType, w.FuncType(nil, nil)),
		), cfg, "out of order"},
		{"huge vector", w.Module(w.Raw(w.SecType, w.U32(1<<30))), cfg, "exceeds the data"},
		{"zero interval", good, meter.Config{Module: "m", Name: "t"}, "interval"},
		{"no import name", good, meter.Config{Interval: 1}, "no import name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := meter.Instrument(tt.bin, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// FuzzInstrument feeds arbitrary bytes: Instrument must never panic, and
// whenever it accepts a module that wazero accepts, wazero must accept the
// result too.
func FuzzInstrument(f *testing.F) {
	f.Add(loopModule())
	f.Add(richModule())
	f.Add(w.Module())
	f.Add([]byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f})
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	f.Fuzz(func(t *testing.T, bin []byte) {
		out, err := meter.Instrument(bin, cfg)
		if err != nil {
			return
		}
		orig, err := r.CompileModule(ctx, bin)
		if err != nil {
			return
		}
		orig.Close(ctx)
		got, err := r.CompileModule(ctx, out)
		if err != nil {
			t.Fatalf("wazero accepts the input but not its instrumented form: %v", err)
		}
		got.Close(ctx)
	})
}
