package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sample is real go test output (host/plugin and resolver), with a log
// line that split a result line after the name, and a failed benchmark.
const sample = `goos: linux
goarch: amd64
pkg: github.com/skillsdev/skills/host/plugin
cpu: Intel(R) Xeon(R) Processor @ 2.50GHz
BenchmarkFirstCall-2   	     200	   9407540 ns/op
BenchmarkPaired-2      	     200	    878651 ns/op	    178541 bare-ns	    409616 callback-ns	         1.290 callback/bare	    179210 skill-ns	         1.004 skill/bare
BenchmarkPaired-2      	     300	    800000 ns/op	    170000 bare-ns	    400000 callback-ns	         1.300 callback/bare	    190000 skill-ns	         1.100 skill/bare
BenchmarkPaired-2      	     250	    850000 ns/op	    175000 bare-ns	    405000 callback-ns	         1.250 callback/bare	    185000 skill-ns	         1.050 skill/bare
BenchmarkResolve/Random2000x20/naive-2
2026/11/21 00:40:00 INFO a log line in the middle
           	       3	1125540313 ns/op	1073224000 cpu-ns/op	         1.000 gave-up	        16.90 naive/pubgrub
BenchmarkRunaway/overshoot-2         	       5	  45688942 ns/op	      1184 µs-late/op
BenchmarkBroken-2 	--- FAIL: BenchmarkBroken-2
    bench_test.go:10: boom
PASS
ok  	github.com/skillsdev/skills/host/plugin	13.643s
`

func TestParseBench(t *testing.T) {
	r, err := parseBench(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		bench, unit string
		want        float64
		ok          bool
	}{
		{"BenchmarkFirstCall", "ns/op", 9407540, true},
		{"BenchmarkPaired", "skill/bare", 1.05, true}, // median of three
		{"BenchmarkPaired", "bare-ns", 175000, true},
		{"BenchmarkResolve/Random2000x20/naive", "gave-up", 1, true}, // joined across the log line
		{"BenchmarkRunaway/overshoot", "µs-late/op", 1184, true},
		{"BenchmarkPaired", "no-such-unit", 0, false},
		{"BenchmarkBroken", "ns/op", 0, false},
		{"BenchmarkMissing", "ns/op", 0, false},
	}
	for _, tt := range tests {
		got, ok := r.median(tt.bench, tt.unit)
		if ok != tt.ok || got != tt.want {
			t.Errorf("median(%s, %s) = %v, %v; want %v, %v", tt.bench, tt.unit, got, ok, tt.want, tt.ok)
		}
	}
	if n := r.runs("BenchmarkPaired"); n != 3 {
		t.Errorf("BenchmarkPaired: %d runs, want 3", n)
	}
	if n := r.runs("BenchmarkBroken"); n != 0 {
		t.Errorf("BenchmarkBroken: %d runs, want 0", n)
	}
}

func TestParseBenchErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"odd fields", "BenchmarkX-2 10 5 ns/op 7\n", "line 1"},
		{"bad value", "BenchmarkX-2 10 5 ns/op abc B/op\n", `value "abc" of BenchmarkX-2`},
	}
	for _, tt := range tests {
		_, err := parseBench(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

// TestMedianRun checks that a paired measure reads value, baseline and
// ratio from one run: the one with the median ratio.
func TestMedianRun(t *testing.T) {
	r, err := parseBench(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	m := measure{
		Value: med("BenchmarkPaired", "skill-ns"), Base: med("BenchmarkPaired", "bare-ns"),
		Ratio: med("BenchmarkPaired", "skill/bare"), MedianRun: pairing{"BenchmarkPaired", "skill/bare"},
		Target: target{MaxRatio: 1.2},
	}
	rw := evaluate(m, r)
	if rw.Value != 185000 || rw.Base != 175000 || rw.Ratio != 1.05 || rw.Result != resultPass {
		t.Errorf("got value %v base %v ratio %v %s; want the third run: 185000 175000 1.05 PASS", rw.Value, rw.Base, rw.Ratio, rw.Result)
	}
	if n := r.runs("BenchmarkPaired"); n != 3 {
		t.Errorf("atMedianRun changed its input: %d runs left", n)
	}
	even := results{"B": {{Values: map[string]float64{"x": 4}}, {Values: map[string]float64{"x": 1}}, {Values: map[string]float64{"y": 9}}, {Values: map[string]float64{"x": 2}}}}
	if got := even.atMedianRun("B", "x")["B"]; len(got) != 1 || got[0].Values["x"] != 2 {
		t.Errorf("even count: got %v, want the lower middle run (x=2)", got)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
		ok   bool
	}{
		{nil, 0, false},
		{[]float64{3}, 3, true},
		{[]float64{5, 1, 3}, 3, true},
		{[]float64{4, 1, 3, 2}, 2.5, true},
	}
	for _, tt := range tests {
		if got, ok := median(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("median(%v) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestEvaluate(t *testing.T) {
	r := results{
		"BenchmarkA": {{N: 1, Values: map[string]float64{"ns/op": 120, "x": 1.2}}},
		"BenchmarkB": {{N: 1, Values: map[string]float64{"ns/op": 100}}},
	}
	tests := []struct {
		name   string
		m      measure
		result string
		ratio  float64
	}{
		{"ratio pass", measure{Value: med("BenchmarkA", "ns/op"), Base: med("BenchmarkB", "ns/op"), Target: target{MaxRatio: 1.5}}, resultPass, 1.2},
		{"ratio miss", measure{Value: med("BenchmarkA", "ns/op"), Base: med("BenchmarkB", "ns/op"), Target: target{MaxRatio: 1.1}}, resultMiss, 1.2},
		{"reported ratio", measure{Value: med("BenchmarkA", "ns/op"), Base: med("BenchmarkB", "ns/op"), Ratio: med("BenchmarkA", "x"), Target: target{MinRatio: 1.3}}, resultMiss, 1.2},
		{"value pass", measure{Value: med("BenchmarkA", "ns/op"), Target: target{MaxValue: 120}}, resultPass, 0},
		{"value and ratio", measure{Value: med("BenchmarkA", "ns/op"), Base: med("BenchmarkB", "ns/op"), Target: target{MaxValue: 200, MaxRatio: 1}}, resultMiss, 1.2},
		{"zero", measure{Value: minus(med("BenchmarkA", "ns/op"), med("BenchmarkA", "ns/op")), Target: target{ZeroValue: true}}, resultPass, 0},
		{"report", measure{Value: med("BenchmarkA", "ns/op"), Base: med("BenchmarkB", "ns/op"), Target: target{Text: "report"}}, resultReport, 1.2},
		{"missing bench", measure{Value: med("BenchmarkC", "ns/op"), Target: target{MaxValue: 1}}, resultError, 0},
		{"missing unit", measure{Value: med("BenchmarkA", "B/op"), Target: target{MaxValue: 1}}, resultError, 0},
		{"ratio without base", measure{Value: med("BenchmarkA", "ns/op"), Target: target{MaxRatio: 1}}, resultError, 0},
	}
	for _, tt := range tests {
		rw := evaluate(tt.m, r)
		if rw.Result != tt.result || rw.Ratio != tt.ratio {
			t.Errorf("%s: result %s ratio %v (err %v); want %s %v", tt.name, rw.Result, rw.Ratio, rw.Err, tt.result, tt.ratio)
		}
	}
}

// TestMeasures checks the table's own consistency: unique ids, a known
// group for each, benchmarks named, and -only selecting by id or group.
func TestMeasures(t *testing.T) {
	known := map[string]bool{}
	for _, g := range groups {
		if known[g.Name] {
			t.Errorf("group %s twice", g.Name)
		}
		known[g.Name] = true
		if g.Pkg == "" || g.Benchtime == "" || g.Short == "" {
			t.Errorf("group %s: package or benchtime missing", g.Name)
		}
	}
	ids := map[string]bool{}
	all := measures()
	for _, m := range all {
		if ids[m.ID] {
			t.Errorf("measure %s twice", m.ID)
		}
		ids[m.ID] = true
		if !known[m.Group] {
			t.Errorf("%s: unknown group %q", m.ID, m.Group)
		}
		if len(m.Needs) == 0 || m.Value == nil || m.Title == "" || m.What == "" || m.Target.Text == "" {
			t.Errorf("%s: incomplete", m.ID)
		}
		for _, n := range m.Needs {
			if !strings.HasPrefix(n, "Benchmark") || strings.Contains(n, "/") {
				t.Errorf("%s: need %q is not a top-level benchmark", m.ID, n)
			}
		}
	}
	sel := selectMeasures(all, regexp.MustCompile(`^wasm-call`))
	if len(sel) != 2 {
		t.Fatalf("-only ^wasm-call selected %d measures", len(sel))
	}
	if got, want := benchRegexp(groups[0], sel), "^Benchmark(PairedCall)$"; got != want {
		t.Errorf("benchRegexp = %s, want %s", got, want)
	}
	if sel := selectMeasures(all, regexp.MustCompile(`^audit$`)); len(sel) != 1 || sel[0].ID != "audit-append" {
		t.Errorf("-only ^audit$ selected %v", sel)
	}
}

func TestSpliceSection(t *testing.T) {
	sec := beginMarker + "\nNEW\n" + endMarker + "\n"
	tests := []struct{ name, doc, want, err string }{
		{"empty", "", "# Benchmarks\n\n" + sec, ""},
		{"no markers", "# B\n\nprose\n", "# B\n\nprose\n\n" + sec, ""},
		{"replace", "# B\n\n" + beginMarker + "\nOLD\n" + endMarker + "\n\n## Misses\n", "# B\n\n" + sec + "\n## Misses\n", ""},
		{"unpaired", "# B\n" + beginMarker + "\n", "", "unpaired"},
		{"reversed", endMarker + "\n" + beginMarker + "\n", "", "unpaired"},
	}
	for _, tt := range tests {
		got, err := spliceSection(tt.doc, sec)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestUpdateMarkdownKeepsProse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	if err := os.WriteFile(path, []byte("# Benchmarks\n\nintro\n\n"+beginMarker+"\nold\n"+endMarker+"\n\n## Misses and why\n\nprose\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rows := []row{evaluate(measure{ID: "x", Title: "a | b", What: "w", Value: med("BenchmarkA", "ns/op"), Target: target{Text: "<= 2 µs", MaxValue: 2000}},
		results{"BenchmarkA": {{N: 1, Values: map[string]float64{"ns/op": 1500}}}})}
	if err := updateMarkdown(path, markdownSection(rows, machine{CPUs: 2}, runInfo{Cmd: "go run ./cmd/bench", Count: 3})); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, want := range []string{"intro", "## Misses and why\n\nprose", "| `x` a \\| b | 1.50 µs |", "**PASS**"} {
		if !strings.Contains(doc, want) {
			t.Errorf("updated file lacks %q:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "old") {
		t.Errorf("old section kept:\n%s", doc)
	}
}

func TestFmtDur(t *testing.T) {
	tests := []struct {
		ns   float64
		want string
	}{
		{0, "0.00 ns"}, {512, "512 ns"}, {1500, "1.50 µs"}, {23_400_000, "23.4 ms"}, {2.5e9, "2.50 s"},
	}
	for _, tt := range tests {
		if got := fmtDur(tt.ns); got != tt.want {
			t.Errorf("fmtDur(%v) = %q, want %q", tt.ns, got, tt.want)
		}
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		args []string
		err  string
	}{
		{[]string{"-short", "-count", "5", "-only", "wasm"}, ""},
		{[]string{"-count", "0"}, "at least 1"},
		{[]string{"-only", "("}, "-only"},
		{[]string{"extra"}, "unexpected argument"},
	}
	for _, tt := range tests {
		_, err := parseFlags(tt.args, &strings.Builder{})
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.err)
		}
	}
}

// FuzzParseBench checks that no output, however mangled, makes the parser
// panic, and that whatever it accepts has a unit for every value.
func FuzzParseBench(f *testing.F) {
	f.Add(sample)
	f.Add("BenchmarkX-2\n")
	f.Add("BenchmarkX-2 1 NaN ns/op\n")
	f.Add("BenchmarkX 1\n 2 3 ns/op\n")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseBench(strings.NewReader(s))
		if err != nil {
			return
		}
		for name, runs := range r {
			if !strings.HasPrefix(name, "Benchmark") {
				t.Errorf("result under %q", name)
			}
			for _, rn := range runs {
				for unit := range rn.Values {
					if unit == "" {
						t.Errorf("%s: empty unit", name)
					}
				}
			}
		}
	})
}

// TestRunAudit runs the command end to end on the cheapest group: a real
// go test of ./audit, parsed into the table and a markdown file. It checks
// the wiring, not the numbers.
func TestRunAudit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test on ./audit")
	}
	md := filepath.Join(t.TempDir(), "B.md")
	var out, errOut strings.Builder
	code := run(t.Context(), []string{"-short", "-count", "1", "-only", "^audit-append$", "-o", md}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	if !regexp.MustCompile(`audit-append\s+[0-9.]+ (ns|µs)`).MatchString(out.String()) || !strings.Contains(out.String(), "SHA-256 of the line") {
		t.Errorf("table lacks the audit row:\n%s", out.String())
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "`audit-append` hash chain cost per event") {
		t.Errorf("markdown lacks the audit row:\n%s", b)
	}
	if code := run(t.Context(), []string{"-only", "no-such-measure"}, &out, &errOut); code != 2 {
		t.Errorf("-only matching nothing: exit %d, want 2", code)
	}
}
