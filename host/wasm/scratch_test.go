package wasm

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/skillsdev/skills/host/wasm/internal/meter"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

func scratchInst(b *testing.B, path string, term bool) api.Module {
	ctx := context.Background()
	cache, _ := wazero.NewCompilationCacheWithDir("/tmp/scratch/cache")
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache).WithCloseOnContextDone(term))
	b.Cleanup(func() { r.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	_, err := r.NewHostModuleBuilder("skills").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) { s[0] = 0 }), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}).Export("call").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {}), []api.ValueType{api.ValueTypeI32}, nil).Export("result").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {}), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, nil).Export("log").
		Instantiate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	bin, _ := os.ReadFile(path)
	cm, err := r.CompileModule(ctx, bin)
	if err != nil {
		b.Fatal(err)
	}
	m, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithStartFunctions("_initialize").WithStderr(os.Stderr))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.ExportedFunction("skill_init").Call(ctx); err != nil {
		b.Fatal(err)
	}
	return m
}

var fnCache = map[api.Module][2]api.Function{}

func scratchCall(b *testing.B, m api.Module, in []byte) []byte {
	ctx := context.Background()
	st := []uint64{uint64(len(in)), 0}
	fns, ok := fnCache[m]
	if !ok {
		fns = [2]api.Function{m.ExportedFunction("skill_alloc"), m.ExportedFunction("skill_call")}
		fnCache[m] = fns
	}
	fns[0].CallWithStack(ctx, st)
	p := uint32(st[0])
	m.Memory().Write(p, in)
	st[0], st[1] = uint64(p), uint64(len(in))
	if err := fns[1].CallWithStack(ctx, st); err != nil {
		b.Fatal(err)
	}
	out, _ := m.Memory().Read(uint32(st[0]>>32), uint32(st[0]))
	return out
}

func BenchmarkScratchCompute(b *testing.B) {
	for _, term := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "on"}[term], func(b *testing.B) {
			m := scratchInst(b, "/tmp/compute.wasm", term)
			in := []byte(`{"size":1048576,"rounds":1}`)
			b.Log(string(scratchCall(b, m, in)))
			cpuLoop(b, func() { scratchCall(b, m, in) })
		})
	}
}

func BenchmarkScratchEcho(b *testing.B) {
	for _, term := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "on"}[term], func(b *testing.B) {
			m := scratchInst(b, "/tmp/echo.wasm", term)
			in := make([]byte, 1024)
			for i := range in {
				in[i] = 'a'
			}
			in[0], in[1023] = '"', '"'
			b.ReportAllocs()
			cpuLoop(b, func() { scratchCall(b, m, in) })
		})
	}
}

func scratchMetered(b *testing.B, path string) api.Module {
	ctx := context.Background()
	cache, _ := wazero.NewCompilationCacheWithDir("/tmp/scratch/cache")
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache))
	b.Cleanup(func() { r.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	ticks := 0
	r.NewHostModuleBuilder("skills.internal").NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {
		ticks++
		if err := ctx.Err(); err != nil {
			panic(err)
		}
	}), nil, nil).Export("tick").Instantiate(ctx)
	b.Cleanup(func() { b.Logf("ticks %d", ticks) })
	_, err := r.NewHostModuleBuilder("skills").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) { s[0] = 0 }), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}).Export("call").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {}), []api.ValueType{api.ValueTypeI32}, nil).Export("result").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {}), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, nil).Export("log").
		Instantiate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	bin, _ := os.ReadFile(path)
	t0 := time.Now()
	bin, err = meter.Instrument(bin, meter.Config{Module: "skills.internal", Name: "tick", Interval: 1 << 14})
	b.Logf("instrument %v", time.Since(t0))
	if err != nil {
		b.Fatal(err)
	}
	cm, err := r.CompileModule(ctx, bin)
	if err != nil {
		b.Fatal(err)
	}
	m, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithStartFunctions("_initialize").WithStderr(os.Stderr))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.ExportedFunction("skill_init").Call(ctx); err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkScratchMetered(b *testing.B) {
	m := scratchMetered(b, "/tmp/compute.wasm")
	in := []byte(`{"size":1048576,"rounds":1}`)
	b.Log(string(scratchCall(b, m, in)))
	cpuLoop(b, func() { scratchCall(b, m, in) })
}
