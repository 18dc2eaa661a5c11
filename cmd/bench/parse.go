package main

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// benchRun is one result line of a benchmark: its iteration count and every
// value it reported, keyed by unit ("ns/op", "cpu-ns/op", "skill/bare").
type benchRun struct {
	N      int64
	Values map[string]float64
}

// results holds every run of every benchmark parsed from `go test -bench`
// output, keyed by the benchmark's name without the GOMAXPROCS suffix
// ("BenchmarkRunaway/meter").
type results map[string][]benchRun

// procsSuffix is the "-2" go test appends to a benchmark's name when
// GOMAXPROCS is not 1.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseBench reads the standard benchmark format: a line per run, "name
// iterations value unit [value unit ...]". Anything else (logs, PASS, ok,
// goos:) is ignored. A benchmark that writes to stdout or stderr while it
// runs can split its line after the name; such a name is kept and joined
// to the next line that starts with the iteration count.
func parseBench(r io.Reader) (results, error) {
	res := results{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	pending := "" // a name whose result line has not come yet
	lineNo := 0
	for sc.Scan() {
		lineNo++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		name := ""
		switch {
		case strings.HasPrefix(fields[0], "Benchmark"):
			name, fields = fields[0], fields[1:]
			if len(fields) == 0 {
				pending = name
				continue
			}
		case pending != "":
			name = pending
		default:
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			// A log line between a name and its numbers keeps the name
			// waiting; "BenchmarkX --- FAIL", "--- BENCH", PASS or ok
			// end it.
			if name != pending || strings.HasPrefix(fields[0], "---") || fields[0] == "PASS" || fields[0] == "FAIL" || fields[0] == "ok" {
				pending = ""
			}
			continue
		}
		pending = ""
		vals := fields[1:]
		if len(vals)%2 != 0 {
			return nil, fmt.Errorf("line %d: %q: value without a unit", lineNo, sc.Text())
		}
		rn := benchRun{N: n, Values: make(map[string]float64, len(vals)/2)}
		for i := 0; i < len(vals); i += 2 {
			v, err := strconv.ParseFloat(vals[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: value %q of %s: %w", lineNo, vals[i], name, err)
			}
			rn.Values[vals[i+1]] = v
		}
		key := procsSuffix.ReplaceAllString(name, "")
		res[key] = append(res[key], rn)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}
	return res, nil
}

// median is the median of unit over bench's runs: the middle value, or
// the mean of the two middle values. ok is false when no run reported it.
func (r results) median(bench, unit string) (m float64, ok bool) {
	var vs []float64
	for _, rn := range r[bench] {
		if v, ok := rn.Values[unit]; ok {
			vs = append(vs, v)
		}
	}
	return median(vs)
}

// runs is how many runs of bench were parsed.
func (r results) runs(bench string) int { return len(r[bench]) }

func median(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	vs = slices.Clone(vs)
	slices.Sort(vs)
	mid := len(vs) / 2
	if len(vs)%2 == 1 {
		return vs[mid], true
	}
	return (vs[mid-1] + vs[mid]) / 2, true
}

// merge adds the runs of o to r.
func (r results) merge(o results) {
	for k, v := range o {
		r[k] = append(r[k], v...)
	}
}

// atMedianRun is r with bench's runs cut down to the one whose unit is the
// median (the lower of the two middle ones for an even count). Runs
// without unit are dropped; r itself is not changed.
func (r results) atMedianRun(bench, unit string) results {
	var runs []benchRun
	for _, rn := range r[bench] {
		if _, ok := rn.Values[unit]; ok {
			runs = append(runs, rn)
		}
	}
	out := make(results, len(r))
	for k, v := range r {
		out[k] = v
	}
	if len(runs) == 0 {
		return out
	}
	slices.SortStableFunc(runs, func(a, b benchRun) int { return cmp.Compare(a.Values[unit], b.Values[unit]) })
	mid := (len(runs) - 1) / 2
	out[bench] = runs[mid : mid+1]
	return out
}
