// Command bench runs the project's paired benchmarks (Go testing.B, in
// their packages) and prints each measure next to a baseline measured in
// the same run, the ratio, the target from the issues and PASS or MISS.
//
//	go run ./cmd/bench [-short] [-count N] [-only REGEX] [-o BENCHMARKS.md] [-raw FILE] [-v]
//
// It reports; it is not a test: a missed target still exits 0. It exits 1
// when a benchmark fails to run or its numbers are missing from the
// output, and 2 on a usage error. The machines are shared and noisy, so
// targets are never checked by timed unit tests: the ratios, measured side
// by side in one process, are what to read.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	short bool
	count int
	only  *regexp.Regexp
	out   string // markdown file to update, "" for none
	raw   string // file for the raw go test output, "" for none
	verbo bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: parse flags, run the selected groups,
// print the table, write the files; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	sel := selectMeasures(measures(), cfg.only)
	if len(sel) == 0 {
		fmt.Fprintf(stderr, "bench: -only %q matches no measure\n", cfg.only)
		return 2
	}
	load := startLoadSampler(2 * time.Second)
	start := time.Now()
	var raw bytes.Buffer
	byGroup := map[string]results{}
	groupErr := map[string]error{}
	var once []string // groups run once although -count asked for more
	for _, g := range groups {
		if !wanted(g, sel) || cfg.short && g.SkipShort && cfg.only.String() == "" {
			continue
		}
		count := cfg.count
		if cfg.short && g.ShortOnce && count > 1 {
			count = 1
			once = append(once, g.Name)
		}
		res, out, err := runGroup(ctx, root, g, benchRegexp(g, sel), cfg.short, count, cfg.verbo, stderr)
		fmt.Fprintf(&raw, "# group %s\n%s\n", g.Name, out)
		if err != nil {
			groupErr[g.Name] = err
			fmt.Fprintf(stderr, "bench: %v\n", err)
		}
		byGroup[g.Name] = res
		if ctx.Err() != nil {
			break
		}
	}
	elapsed := time.Since(start)
	loads := load()

	var rows []row
	failed := len(groupErr) > 0
	for _, m := range sel {
		if _, ran := byGroup[m.Group]; !ran && ctx.Err() == nil {
			continue // a group left out of -short runs
		}
		// Results a failed group did print are still measurements.
		rw := evaluate(m, byGroup[m.Group])
		if groupErr[m.Group] != nil {
			rw.Notes = append(rw.Notes, "go test failed in group "+m.Group+" (its error is on stderr)")
		}
		if rw.Err != nil {
			failed = true
		}
		rows = append(rows, rw)
	}
	m := collectMachine(ctx, loads)
	info := runInfo{Cmd: commandLine(args), Count: cfg.count, Once: once, Short: cfg.short, Elapsed: elapsed}
	writeText(stdout, rows, m, info)

	if cfg.raw != "" {
		if err := os.WriteFile(cfg.raw, raw.Bytes(), 0o644); err != nil {
			fmt.Fprintf(stderr, "bench: write raw output: %v\n", err)
			failed = true
		}
	}
	if cfg.out != "" && ctx.Err() == nil { // an interrupted run leaves the file alone
		section := markdownSection(rows, m, info)
		if err := updateMarkdown(cfg.out, section); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			failed = true
		} else {
			fmt.Fprintf(stderr, "bench: wrote %s\n", cfg.out)
		}
	}
	if failed || ctx.Err() != nil {
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./cmd/bench [-short] [-count N] [-only REGEX] [-o BENCHMARKS.md] [-raw FILE] [-v]")
		fs.PrintDefaults()
	}
	fs.BoolVar(&cfg.short, "short", false, "shorter -benchtime, one run of the reload latencies, no reload-under-load run (unless -only selects it)")
	fs.IntVar(&cfg.count, "count", 3, "runs of each benchmark; the table shows medians")
	only := fs.String("only", "", "run only the measures whose id or group matches this regexp (ids: see the table)")
	fs.StringVar(&cfg.out, "o", "", "update this markdown file: replace the part between the bench markers (or append it)")
	fs.StringVar(&cfg.raw, "raw", "", "write the raw go test output to this file (benchstat reads it)")
	fs.BoolVar(&cfg.verbo, "v", false, "stream go test output to stderr")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.count < 1 {
		return cfg, fmt.Errorf("-count %d: must be at least 1", cfg.count)
	}
	var err error
	if cfg.only, err = regexp.Compile(*only); err != nil {
		return cfg, fmt.Errorf("-only: %w", err)
	}
	return cfg, nil
}

// commandLine is how this run was invoked, for the markdown file.
func commandLine(args []string) string {
	s := "go run ./cmd/bench"
	for _, a := range args {
		if strings.ContainsAny(a, " '\"*?|()[]$^\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		s += " " + a
	}
	return s
}

// selectMeasures keeps the measures whose id or group matches re.
func selectMeasures(all []measure, re *regexp.Regexp) []measure {
	var out []measure
	for _, m := range all {
		if re.MatchString(m.ID) || re.MatchString(m.Group) {
			out = append(out, m)
		}
	}
	return out
}

// wanted reports whether a selected measure reads g's results.
func wanted(g group, sel []measure) bool {
	for _, m := range sel {
		if m.Group == g.Name {
			return true
		}
	}
	return false
}

// benchRegexp is the -bench pattern for the benchmarks that the selected
// measures of g need.
func benchRegexp(g group, sel []measure) string {
	var names []string
	for _, m := range sel {
		if m.Group != g.Name {
			continue
		}
		for _, n := range m.Needs {
			if n := strings.TrimPrefix(n, "Benchmark"); !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return "^Benchmark(" + strings.Join(names, "|") + ")$"
}

// moduleRoot is the folder of the go.mod go would use here: go test runs
// from there, so package paths like ./host/wasm resolve.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("find the module: not inside a Go module; run from the skills checkout")
	}
	return filepath.Dir(gomod), nil
}

// runGroup runs one go test invocation and parses its output. The error
// is set when go test fails (a benchmark failed, or did not build).
func runGroup(ctx context.Context, root string, g group, bench string, short bool, count int, verbose bool, stderr io.Writer) (results, []byte, error) {
	bt := g.Benchtime
	if short {
		bt = g.Short
	}
	args := []string{"test", "-run", "^$", "-bench", bench, "-benchtime", bt, "-count", strconv.Itoa(count), "-timeout", "30m", g.Pkg}
	fmt.Fprintf(stderr, "bench: %s: go %s\n", g.Name, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	var out bytes.Buffer
	var w io.Writer = &out
	if verbose {
		w = io.MultiWriter(&out, stderr)
	}
	cmd.Stdout, cmd.Stderr = w, w
	t0 := time.Now()
	runErr := cmd.Run()
	fmt.Fprintf(stderr, "bench: %s: done in %s\n", g.Name, time.Since(t0).Round(100*time.Millisecond))
	res, perr := parseBench(bytes.NewReader(out.Bytes()))
	if res == nil {
		res = results{}
	}
	switch {
	case runErr != nil:
		return res, out.Bytes(), fmt.Errorf("%s: go test %s: %w\n%s", g.Name, g.Pkg, runErr, tail(out.Bytes(), 25))
	case perr != nil:
		return res, out.Bytes(), fmt.Errorf("%s: parse go test output: %w", g.Name, perr)
	case bytes.Contains(out.Bytes(), []byte("--- FAIL")):
		return res, out.Bytes(), fmt.Errorf("%s: a benchmark failed:\n%s", g.Name, tail(out.Bytes(), 25))
	}
	return res, out.Bytes(), nil
}

// tail is the last n lines of b, indented, for error messages.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// machine describes where the numbers were measured.
type machine struct {
	CPUs      int
	CPUModel  string
	GoVersion string
	OSArch    string
	Load      loadStats
	Date      time.Time
}

func collectMachine(ctx context.Context, load loadStats) machine {
	m := machine{CPUs: runtime.NumCPU(), CPUModel: "unknown", OSArch: runtime.GOOS + "/" + runtime.GOARCH, Load: load, Date: time.Now().UTC()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	m.GoVersion = runtime.Version()
	if out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out)) // the toolchain that built the benchmarks
	}
	return m
}
