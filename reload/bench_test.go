package reload_test

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/reload"
	"github.com/skillsdev/skills/reload/reloadtest"
)

// prebuilt writes a tick folder holding SKILL.md and a module but no
// sources, as `skills build` leaves it for a watcher: the benchmarks
// measure loading, not the Go compiler.
func prebuilt(b *testing.B, module string) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "tick")
	reloadtest.Write(b, root, dir, reloadtest.Tick{Name: "tick", Version: "1.0.0"})
	for _, f := range []string{"main.go", "go.mod", "go.sum"} {
		os.Remove(filepath.Join(dir, f))
	}
	reloadtest.Install(b, module, dir)
	return dir
}

// withSection returns a module with an extra custom section holding n:
// the same code under another digest, which no cache has seen.
func withSection(module []byte, n uint64) []byte {
	name := "bench"
	payload := binary.AppendUvarint(nil, uint64(len(name)))
	payload = append(payload, name...)
	payload = binary.AppendUvarint(payload, n)
	out := append(slices.Clone(module), 0)
	out = binary.AppendUvarint(out, uint64(len(payload)))
	return append(out, payload...)
}

// reloadTo writes module over dir's artifact, as a build does, and returns
// how long it took until a call was served by code reporting want.
func reloadTo(b *testing.B, h *host.Host, dir string, module []byte, want string) time.Duration {
	b.Helper()
	t0 := time.Now()
	if err := reloadtest.WriteAtomic(reloadtest.Artifact(dir), module); err != nil {
		b.Fatal(err)
	}
	deadline := t0.Add(time.Minute)
	for {
		if v, err := version(context.Background(), h); err == nil && v == want {
			return time.Since(t0)
		}
		if time.Now().After(deadline) {
			b.Fatalf("version %s not served within a minute", want)
		}
		time.Sleep(time.Millisecond)
	}
}

func reportLatencies(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*9/10]), "p90-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
}

// BenchmarkReloadLatency measures, per reload, the time from the write of
// a skill's module to the first call served by the new code: the file
// event, the quiet window (DefaultQuiet), hashing, compiling (or reading
// the compilation cache), instantiating, warming and the swap.
//
//	go test -run '^$' -bench ReloadLatency -benchtime 20x ./reload/
func BenchmarkReloadLatency(b *testing.B) {
	v1, err := os.ReadFile(mods["v1"])
	if err != nil {
		b.Fatal(err)
	}
	v2, err := os.ReadFile(mods["v2"])
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		cached bool
	}{{"cached", true}, {"uncached", false}} {
		b.Run(bc.name, func(b *testing.B) {
			home := hostHome
			if !bc.cached {
				home = b.TempDir() // new digests must not pile up in the lasting cache
			}
			h, err := host.New(context.Background(), host.Options{Home: home})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close(context.Background())
			dir := prebuilt(b, mods["v1"])
			benchReloader(b, h, dir)
			var lat []time.Duration
			b.ResetTimer()
			for i := range b.N {
				mod, want := v2, "2"
				if i%2 == 1 {
					mod, want = v1, "1"
				}
				if !bc.cached {
					mod = withSection(mod, uint64(time.Now().UnixNano()))
				}
				lat = append(lat, reloadTo(b, h, dir, mod, want))
			}
			b.StopTimer()
			reportLatencies(b, lat)
		})
	}
}

// BenchmarkReloadUnderLoad calls a skill about 500 times a second while
// swapping its module 100 times (compiles cached), and fails if a single
// call fails. It reports the call rate reached and the reload latency.
//
//	go test -run '^$' -bench ReloadUnderLoad -benchtime 1x ./reload/
func BenchmarkReloadUnderLoad(b *testing.B) {
	const reloads = 100
	v1, err := os.ReadFile(mods["v1"])
	if err != nil {
		b.Fatal(err)
	}
	v2, err := os.ReadFile(mods["v2"])
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		h, err := host.New(context.Background(), host.Options{Home: hostHome})
		if err != nil {
			b.Fatal(err)
		}
		dir := prebuilt(b, mods["v1"])
		benchReloader(b, h, dir)
		c := startCaller(h, 500)
		t0 := time.Now()
		var lat []time.Duration
		for i := range reloads {
			mod, want := v2, "2"
			if i%2 == 1 {
				mod, want = v1, "1"
			}
			lat = append(lat, reloadTo(b, h, dir, mod, want))
		}
		elapsed := time.Since(t0)
		calls, failures, _ := c.finish()
		h.Close(context.Background())
		if len(failures) > 0 {
			b.Fatalf("%d of %d calls failed during %d reloads; first: %v", len(failures), calls, reloads, failures[0])
		}
		b.ReportMetric(float64(calls)/elapsed.Seconds(), "calls/s")
		b.ReportMetric(float64(len(failures)), "failed-calls")
		b.ReportMetric(reloads, "reloads")
		reportLatencies(b, lat)
	}
}

// benchReloader runs a Reloader with the default timings on dir.
func benchReloader(b *testing.B, h *host.Host, dir string) *reload.Reloader {
	b.Helper()
	r, err := reload.New(reload.Options{Host: h, Sources: func(context.Context) ([]host.Source, error) {
		return []host.Source{{Dir: dir, Origin: "dev"}}, nil
	}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := r.Reload(ctx); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-done
		r.Close()
	})
	settle(b, r, dir)
	return r
}
