package wasm

import (
	"context"
	"slices"
	"testing"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
)

// BenchmarkPairedCall runs a bare wazero round trip, the engine's Call and
// an Extism call (1 KiB in and out, echo modules) back to back in every
// iteration, and reports the median of each and the ratios cmd/bench
// checks. On a shared, loaded machine BenchmarkBareRoundTrip,
// BenchmarkSkillCall and BenchmarkExtism drift apart between runs;
// interleaved, the three see the same load.
//
//	x-bare    engine call / bare round trip  (target <= 1.5)
//	x-extism  engine call / Extism call      (target <= 1/3)
func BenchmarkPairedCall(b *testing.B) {
	ctx := context.Background()
	bare := newBareCall(bareModule(b, guests["echo"], false))
	s := load(b, newEngine(b, Options{}), "echo", nil)
	path, err := extismGuest()
	if err != nil {
		b.Fatal(err)
	}
	cache, err := wazero.NewCompilationCacheWithDir(cacheDir)
	if err != nil {
		b.Fatal(err)
	}
	defer cache.Close(ctx)
	p, err := extism.NewPlugin(ctx,
		extism.Manifest{Wasm: []extism.Wasm{extism.WasmFile{Path: path}}},
		extism.PluginConfig{EnableWasi: true, RuntimeConfig: wazero.NewRuntimeConfig().WithCompilationCache(cache)},
		nil)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(ctx)
	var tBare, tSkill, tExtism []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if out, err := bare.do(ctx, kib); err != nil || len(out) != len(kib) {
			b.Fatal(len(out), err)
		}
		t1 := time.Now()
		if out, err := s.Call(ctx, kib); err != nil || len(out) != len(kib) {
			b.Fatal(len(out), err)
		}
		t2 := time.Now()
		if rc, out, err := p.Call("echo", kib); err != nil || rc != 0 || len(out) != len(kib) {
			b.Fatal(rc, len(out), err)
		}
		t3 := time.Now()
		tBare, tSkill, tExtism = append(tBare, t1.Sub(t0)), append(tSkill, t2.Sub(t1)), append(tExtism, t3.Sub(t2))
	}
	mb, ms, me := medianDuration(tBare), medianDuration(tSkill), medianDuration(tExtism)
	b.ReportMetric(float64(mb.Nanoseconds()), "bare-ns")
	b.ReportMetric(float64(ms.Nanoseconds()), "skill-ns")
	b.ReportMetric(float64(me.Nanoseconds()), "extism-ns")
	b.ReportMetric(float64(ms)/float64(mb), "x-bare")
	b.ReportMetric(float64(ms)/float64(me), "x-extism")
}

func medianDuration(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}
