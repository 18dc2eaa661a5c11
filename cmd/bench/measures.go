package main

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// group is one `go test -bench` invocation: the benchmarks of one package
// that share a -benchtime.
type group struct {
	Name      string // for progress lines and -only
	Pkg       string // package path relative to the module root
	Benchtime string // -benchtime of a full run
	Short     string // -benchtime with -short
	// ShortOnce runs the group once with -short whatever -count says: its
	// benchmarks are long and report medians of their own.
	ShortOnce bool
	// SkipShort leaves the group out of -short runs unless -only names it.
	SkipShort bool
}

// groups are run in this order. Each runs the top-level benchmarks its
// selected measures need.
var groups = []group{
	{Name: "wasm", Pkg: "./host/wasm", Benchtime: "2s", Short: "300ms"},
	{Name: "plugin", Pkg: "./host/plugin", Benchtime: "2s", Short: "300ms"},
	{Name: "resolver", Pkg: "./resolver", Benchtime: "1s", Short: "100ms"},
	{Name: "install", Pkg: "./marketplace/install", Benchtime: "2s", Short: "300ms"},
	{Name: "agent", Pkg: "./agent", Benchtime: "1s", Short: "200ms"},
	{Name: "audit", Pkg: "./audit", Benchtime: "1s", Short: "200ms"},
	// An uncached reload compiles for seconds on a loaded 2-core machine:
	// with -short, one run of 6 reloads of each kind.
	{Name: "reload", Pkg: "./reload", Benchtime: "10x", Short: "6x", ShortOnce: true},
	{Name: "reload-load", Pkg: "./reload", Benchtime: "1x", Short: "1x", ShortOnce: true, SkipShort: true},
	{Name: "manifest", Pkg: "./sdk/manifest", Benchtime: "1s", Short: "100ms"},
}

// getter reads one number out of the parsed results.
type getter func(results) (float64, error)

// med is the median over the runs of unit reported by bench.
func med(bench, unit string) getter {
	return func(r results) (float64, error) {
		v, ok := r.median(bench, unit)
		if !ok {
			if r.runs(bench) == 0 {
				return 0, fmt.Errorf("%s: no result in the output", bench)
			}
			return 0, fmt.Errorf("%s: no %q metric in the output", bench, unit)
		}
		return v, nil
	}
}

// ratioOf is a / b, each a median.
func ratioOf(a, b getter) getter {
	return func(r results) (float64, error) {
		x, err := a(r)
		if err != nil {
			return 0, err
		}
		y, err := b(r)
		if err == nil && y == 0 {
			err = errors.New("ratio over a zero baseline")
		}
		if err != nil {
			return 0, err
		}
		return x / y, nil
	}
}

// scaled multiplies what g reads by k (milliseconds to nanoseconds).
func scaled(g getter, k float64) getter {
	return func(r results) (float64, error) {
		v, err := g(r)
		return v * k, err
	}
}

// minus is a - b, each a median.
func minus(a, b getter) getter {
	return func(r results) (float64, error) {
		x, err := a(r)
		if err != nil {
			return 0, err
		}
		y, err := b(r)
		return x - y, err
	}
}

// target is what a measure must meet. Zero fields are unset; a target
// with none set is report-only.
type target struct {
	Text      string
	MaxValue  float64 // value <= MaxValue (ns, or the measure's unit)
	MaxRatio  float64 // ratio <= MaxRatio
	MinRatio  float64 // ratio >= MinRatio
	ZeroValue bool    // value == 0 (a count of failures)
}

func (t target) reportOnly() bool {
	return t.MaxValue == 0 && t.MaxRatio == 0 && t.MinRatio == 0 && !t.ZeroValue
}

// measure is one row of the table.
type measure struct {
	ID    string // stable short name; -only matches it and the group name
	Group string
	// Needs are the top-level benchmarks (with their sub-benchmarks) the
	// measure reads, all in Group's package.
	Needs []string
	Title string
	What  string // one line: exactly what is timed
	Value getter
	Fmt   func(float64) string // formats Value and Base; nil means a duration in ns
	Base  getter               // the baseline measured in the same run; nil if none
	// BaseName names the baseline in the table.
	BaseName string
	// Ratio overrides value/base (for ratios the benchmark reports per run,
	// or computed from other metrics).
	Ratio getter
	// MedianRun, when set, makes every getter read the one run of
	// MedianRun.Bench whose MedianRun.Unit is the median: a paired
	// benchmark's value, baseline and ratio then come from the same run and
	// agree with each other, as medians taken one by one would not.
	MedianRun pairing
	Target    target
	Notes     func(results) []string
}

// pairing names the per-run ratio that picks a paired benchmark's run.
type pairing struct{ Bench, Unit string }

// ms and us are nanoseconds, for targets.
const (
	us = float64(time.Microsecond)
	ms = float64(time.Millisecond)
)

// resolverCase is one of resolver/bench_test.go's benchCases.
type resolverCase struct{ name, title string }

var resolverCases = []resolverCase{
	{"ChainMissing200x99", "chain 200 levels x 99 versions, last level missing"},
	{"ChainMissingDistinct200x99", "chain 200 x 99, distinct requirement per version (extra shape, not in the issue)"},
	{"SingletonsFlat100x500", "100 x 500 singletons, no dependencies (extra shape)"},
	{"BacktrackingSingletons100x500", "100 x 500 backtracking singletons (pubgrub-rs)"},
	{"DisjointVersions300x200", "300 x 200 disjoint versions (pubgrub-rs)"},
	{"Random2000x20", "random registry 2,000 skills x 20 versions"},
}

func measures() []measure {
	list := []measure{
		{
			ID: "wasm-call/bare", Group: "wasm", Needs: []string{"BenchmarkPairedCall"},
			Title: "warm wasm call, 1 KiB in/out (engine Call)",
			What: "host/wasm BenchmarkPairedCall: per iteration, a bare wazero ABI round trip (alloc, write, call, read), the engine's Skill.Call " +
				"and an Extism Go SDK call on echo modules, each timed; per-call medians of the run with the median ratio",
			Value: med("BenchmarkPairedCall", "skill-ns"), Base: med("BenchmarkPairedCall", "bare-ns"), BaseName: "bare wazero",
			Ratio: med("BenchmarkPairedCall", "x-bare"), MedianRun: pairing{"BenchmarkPairedCall", "x-bare"},
			Target: target{Text: "<= 1.5x bare", MaxRatio: 1.5},
		},
		{
			ID: "wasm-call/extism", Group: "wasm", Needs: []string{"BenchmarkPairedCall"},
			Title: "warm wasm call vs Extism Go SDK",
			What:  "same BenchmarkPairedCall iterations: engine call median over the Extism call median (same work, same wazero)",
			Value: med("BenchmarkPairedCall", "skill-ns"), Base: med("BenchmarkPairedCall", "extism-ns"), BaseName: "Extism",
			Ratio: med("BenchmarkPairedCall", "x-extism"), MedianRun: pairing{"BenchmarkPairedCall", "x-extism"},
			Target: target{Text: "<= 0.333x Extism", MaxRatio: 1.0 / 3},
		},
		{
			ID: "wasm-parallel8", Group: "wasm", Needs: []string{"BenchmarkParallel8"},
			Title: "8 concurrent callers of one wasm skill (GOMAXPROCS 2)",
			What: "host/wasm BenchmarkParallel8: b.N echo calls by 1 goroutine, then by 8; value and baseline are wall time per call, " +
				"ratio is the throughput gain (the run with the median gain)",
			Value: med("BenchmarkParallel8", "ns/call-8"), Base: med("BenchmarkParallel8", "ns/call-1"), BaseName: "1 caller",
			Ratio: med("BenchmarkParallel8", "speedup"), MedianRun: pairing{"BenchmarkParallel8", "speedup"},
			Target: target{Text: ">= 1.6x throughput of 1 caller", MinRatio: 1.6},
			Notes: func(r results) []string {
				if v, ok := r.median("BenchmarkParallel8", "machine-speedup"); ok {
					return []string{fmt.Sprintf("plain Go arithmetic got %.2fx from 8 goroutines at the same time (the machine's ceiling)", v)}
				}
				return nil
			},
		},
		{
			ID: "wasm-load-cached", Group: "wasm", Needs: []string{"BenchmarkLoadCached", "BenchmarkLoadCachedBare"},
			Title: "load a compiled wasm skill (cache warm) + first call",
			What: "host/wasm BenchmarkLoadCached: new engine, Load from the on-disk compilation cache, instantiate, first call (Close excluded); " +
				"baseline BenchmarkLoadCachedBare: wazero alone doing the same from its own cache (decode, validate, hash, load code, instantiate, call)",
			Value: med("BenchmarkLoadCached", "ns/op"), Base: med("BenchmarkLoadCachedBare", "ns/op"), BaseName: "wazero alone",
			Target: target{Text: "<= 30 ms", MaxValue: 30 * ms},
			Notes:  cpuNote("BenchmarkLoadCached"),
		},
		{
			ID: "wasm-runaway/meter", Group: "wasm", Needs: []string{"BenchmarkRunaway"},
			Title: "runaway guard, chosen method (engine instrumentation)",
			What: "host/wasm BenchmarkRunaway/meter vs /none: CPU time per call of the compute guest (hash and count words of 1 MiB) " +
				"through the engine vs bare wazero with no guard",
			Value: med("BenchmarkRunaway/meter", "cpu-ns/op"), Base: med("BenchmarkRunaway/none", "cpu-ns/op"), BaseName: "no guard",
			Target: target{Text: "report"},
		},
		{
			ID: "wasm-runaway/wazero", Group: "wasm", Needs: []string{"BenchmarkRunaway"},
			Title: "runaway guard, alternative (wazero WithCloseOnContextDone)",
			What:  "host/wasm BenchmarkRunaway/wazero vs /none: same guest and work, engine with WazeroChecks (CPU time per call)",
			Value: med("BenchmarkRunaway/wazero", "cpu-ns/op"), Base: med("BenchmarkRunaway/none", "cpu-ns/op"), BaseName: "no guard",
			Target: target{Text: "report"},
		},
		{
			ID: "wasm-runaway/overshoot", Group: "wasm", Needs: []string{"BenchmarkRunaway"},
			Title:  "runaway guest stopped: time past its 20 ms deadline",
			What:   "host/wasm BenchmarkRunaway/overshoot: an endless loop guest called with a 20 ms timeout; how late the timeout error returns",
			Value:  scaled(med("BenchmarkRunaway/overshoot", "µs-late/op"), us),
			Target: target{Text: "report"},
		},
		{
			ID: "plugin-call", Group: "plugin", Needs: []string{"BenchmarkPaired"},
			Title: "warm plugin call, 1 KiB in/out",
			What: "host/plugin BenchmarkPaired: per iteration, a bare gRPC unary call to an SDK-less plugin, an engine call to the echo plugin " +
				"and an engine call making one host callback, each timed; per-call medians of the run with the median ratio",
			Value: med("BenchmarkPaired", "skill-ns"), Base: med("BenchmarkPaired", "bare-ns"), BaseName: "bare gRPC unary",
			Ratio: med("BenchmarkPaired", "skill/bare"), MedianRun: pairing{"BenchmarkPaired", "skill/bare"},
			Target: target{Text: "<= 1.2x bare", MaxRatio: 1.2},
		},
		{
			ID: "plugin-callback", Group: "plugin", Needs: []string{"BenchmarkPaired"},
			Title: "plugin -> host callback, 1 KiB",
			What:  "same BenchmarkPaired: median of the call with one callback minus median of the plain call, over the bare unary median (the run with the median ratio)",
			Value: minus(med("BenchmarkPaired", "callback-ns"), med("BenchmarkPaired", "skill-ns")),
			Base:  med("BenchmarkPaired", "bare-ns"), BaseName: "bare gRPC unary",
			Ratio: med("BenchmarkPaired", "callback/bare"), MedianRun: pairing{"BenchmarkPaired", "callback/bare"},
			Target: target{Text: "<= 2x bare", MaxRatio: 2},
		},
		{
			ID: "plugin-first-call", Group: "plugin", Needs: []string{"BenchmarkFirstCall"},
			Title:  "first plugin call after spawn",
			What:   "host/plugin BenchmarkFirstCall: Load of a stored binary pinned by digest, spawn, handshake, Setup, first call (Close excluded)",
			Value:  med("BenchmarkFirstCall", "ns/op"),
			Target: target{Text: "<= 30 ms", MaxValue: 30 * ms},
		},
	}
	for _, c := range resolverCases {
		pub, naive := "BenchmarkResolve/"+c.name+"/pubgrub", "BenchmarkResolve/"+c.name+"/naive"
		list = append(list, measure{
			ID: "resolver/" + c.name, Group: "resolver", Needs: []string{"BenchmarkResolve"},
			Title: "resolve: " + c.title,
			What: "resolver BenchmarkResolve/" + c.name + ": Resolve (PubGrub) on a frozen in-memory source vs the naive backtracking solver " +
				"of the resolver tests on the same input (pubgrub-go cannot be fetched here); wall time per solve, ratio of CPU times",
			Value: med(pub, "ns/op"), Base: med(naive, "ns/op"), BaseName: "naive backtracking",
			// Both solvers are single-threaded and run one after the other,
			// not interleaved: CPU time compares them under a changing load
			// better than wall time does.
			Ratio: ratioOf(med(pub, "cpu-ns/op"), med(naive, "cpu-ns/op")),

			Target: target{Text: "< 100 ms and <= 1x naive", MaxValue: 100 * ms, MaxRatio: 1},
			Notes: func(r results) []string {
				var n []string
				if v, ok := r.median(naive, "gave-up"); ok && v > 0 {
					n = append(n, "naive gave up at its 300,000-node budget with no answer: its time is a lower bound")
				}
				p, ok1 := r.median(pub, "cpu-ns/op")
				q, ok2 := r.median(naive, "cpu-ns/op")
				if ok1 && ok2 {
					n = append(n, fmt.Sprintf("ratio of CPU times (%s vs %s)", fmtDur(p), fmtDur(q)))
				}
				return n
			},
		})
	}
	list = append(list, []measure{
		{
			ID: "install50", Group: "install", Needs: []string{"BenchmarkInstall50", "BenchmarkDownload50", "BenchmarkDownloadToFile50", "BenchmarkUnpackFloor50"},
			Title: "install a 50-skill plan from HTTP (127.0.0.1)",
			What: "marketplace/install BenchmarkInstall50 vs BenchmarkDownload50: fetch+verify index, resolve, download 4 at a time with " +
				"streaming sha256, unpack to the store, write the lock, vs GET + sha256 of the same 50 x 256 KiB packages, 4 at a time",
			Value: med("BenchmarkInstall50", "ns/op"), Base: med("BenchmarkDownload50", "ns/op"), BaseName: "download+sha256",

			Target: target{Text: "<= 1.5x download+sha256", MaxRatio: 1.5},
			Notes: func(r results) []string {
				var n []string
				i, ok1 := r.median("BenchmarkInstall50", "ns/op")
				if f, ok := r.median("BenchmarkDownloadToFile50", "ns/op"); ok1 && ok && f > 0 {
					n = append(n, fmt.Sprintf("%.2fx download+sha256 written to files (curl -o + sha256sum, %s)", i/f, fmtDur(f)))
				}
				if f, ok := r.median("BenchmarkUnpackFloor50", "ns/op"); ok1 && ok && f > 0 {
					n = append(n, fmt.Sprintf("%.2fx the floor without per-file hashes in the index: download+sha256, gunzip, untar to files hashing each (%s)", i/f, fmtDur(f)))
				}
				return n
			},
		},
		{
			ID: "agent-turn", Group: "agent", Needs: []string{"BenchmarkTurn"},
			Title: "agent loop overhead per turn",
			What: "agent BenchmarkTurn: 11-turn runs with the scripted model and a no-op tool; wall time per turn (snapshot, request, " +
				"dispatch, argument check, hashed events)",
			Value:  med("BenchmarkTurn", "ns/turn"),
			Target: target{Text: "<= 50 µs/turn", MaxValue: 50 * us},
		},
		{
			ID: "audit-append", Group: "audit", Needs: []string{"BenchmarkAppend", "BenchmarkSHA256Line"},
			Title: "hash chain cost per event",
			What: "audit BenchmarkAppend: canonical encoding, SHA-256, hex, write to a discarding sink; baseline BenchmarkSHA256Line " +
				"is SHA-256 alone of a line of the same size",
			Value: med("BenchmarkAppend", "ns/op"), Base: med("BenchmarkSHA256Line", "ns/op"), BaseName: "SHA-256 of the line",

			Target: target{Text: "<= 2 µs/event", MaxValue: 2 * us},
		},
		{
			ID: "reload/cached", Group: "reload", Needs: []string{"BenchmarkReloadLatency"},
			Title: "reload, compile cached: write -> first call on new code (p50)",
			What: "reload BenchmarkReloadLatency/cached: write a module over a watched skill's artifact, poll calls until the new " +
				"version answers (file event, quiet window, hash, cached compile, instantiate, warm, swap); p50 per run, median over runs",
			Value:  scaled(med("BenchmarkReloadLatency/cached", "p50-ms"), ms),
			Target: target{Text: "p50 <= 150 ms", MaxValue: 150 * ms},
			Notes:  p90Note("BenchmarkReloadLatency/cached"),
		},
		{
			ID: "reload/uncached", Group: "reload", Needs: []string{"BenchmarkReloadLatency"},
			Title:  "reload, compile not cached (p50)",
			What:   "reload BenchmarkReloadLatency/uncached: as above with a module no cache has seen (a fresh custom section), so it compiles",
			Value:  scaled(med("BenchmarkReloadLatency/uncached", "p50-ms"), ms),
			Target: target{Text: "report"},
			Notes:  p90Note("BenchmarkReloadLatency/uncached"),
		},
		{
			ID: "reload/under-load", Group: "reload-load", Needs: []string{"BenchmarkReloadUnderLoad"},
			Title: "100 reloads under ~500 calls/s: failed calls",
			What: "reload BenchmarkReloadUnderLoad: one caller every 2 ms while the module is swapped 100 times (cached compiles); " +
				"counts failed calls (the benchmark fails on any)",
			Value: med("BenchmarkReloadUnderLoad", "failed-calls"), Fmt: func(v float64) string { return fmt.Sprintf("%.0f failed", v) },
			Target: target{Text: "0 failed", ZeroValue: true},
			Notes: func(r results) []string {
				var n []string
				if v, ok := r.median("BenchmarkReloadUnderLoad", "calls/s"); ok {
					n = append(n, fmt.Sprintf("%.0f calls/s reached", v))
				}
				if v, ok := r.median("BenchmarkReloadUnderLoad", "p50-ms"); ok {
					n = append(n, fmt.Sprintf("reload p50 %.1f ms under load", v))
				}
				return n
			},
		},
	}...)
	for _, c := range []struct{ name, title string }{
		{"text1KiB", `{"text": string}`},
		{"wordcount1KiB", "wordcount's schema (string, bounded integer, boolean)"},
	} {
		fast, slow := "BenchmarkValidateInputPaths/"+c.name+"/fast", "BenchmarkValidateInputPaths/"+c.name+"/jsonschema"
		list = append(list, measure{
			ID: "validate/" + c.name, Group: "manifest", Needs: []string{"BenchmarkValidateInputPaths"},
			Title: "validate a 1 KiB input: " + c.title,
			What: "sdk/manifest BenchmarkValidateInputPaths/" + c.name + ": Manifest.ValidateInput with its compiled fast path vs the " +
				"jsonschema-go path it replaced (decode + validate), same 1 KiB input",
			Value: med(fast, "ns/op"), Base: med(slow, "ns/op"), BaseName: "jsonschema-go path",
			Target: target{Text: "report (paid on every call)"},
		})
	}
	return list
}

// cpuNote reports bench's process CPU time per op next to its wall time.
func cpuNote(bench string) func(results) []string {
	return func(r results) []string {
		if v, ok := r.median(bench, "cpu-ns/op"); ok {
			return []string{"CPU " + fmtDur(v)}
		}
		return nil
	}
}

func p90Note(bench string) func(results) []string {
	return func(r results) []string {
		if v, ok := r.median(bench, "p90-ms"); ok {
			return []string{fmt.Sprintf("p90 %.1f ms", v)}
		}
		return nil
	}
}

// fmtDur formats nanoseconds with three significant digits.
func fmtDur(ns float64) string {
	d := []struct {
		unit string
		size float64
	}{{"s", 1e9}, {"ms", 1e6}, {"µs", 1e3}, {"ns", 1}}
	for _, u := range d {
		if ns >= u.size || u.size == 1 {
			v := ns / u.size
			switch {
			case v >= 100:
				return fmt.Sprintf("%.0f %s", v, u.unit)
			case v >= 10:
				return fmt.Sprintf("%.1f %s", v, u.unit)
			default:
				return fmt.Sprintf("%.2f %s", v, u.unit)
			}
		}
	}
	return strings.TrimSpace(fmt.Sprint(ns))
}
