package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/skillsdev/skills/registry"
	"github.com/skillsdev/skills/sdk/scaffold"
	"github.com/spf13/cobra"
)

// The demo drives the CLI in-process with the same commands a person would
// type, so what it shows is what the product does: nothing here is a
// shortcut around install, the agent or reload.

const demoNotes = `# Quarterly notes

The team shipped the new skills platform this quarter. The platform runs
WebAssembly skills in process and plugin skills as child processes. Users
praised the verified marketplace because every artifact is pinned by its hash.
The agent loop reloads skills without a restart. Performance work cut the call
overhead by half. Next quarter the team will focus on the MCP server and on
documentation.
`

const demoCountTask = `word frequencies and statistics of the text "the quick brown fox jumps over the lazy dog and the dog sleeps"`

func newDemoCmd(a *app) *cobra.Command {
	var keep bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the end-to-end demo: install, agent, publish a new version, hot reload",
		Long: `demo runs offline against the bundled registry, in a fresh temporary skills home:

  1. skills install report            (a plugin, with summarize and wordcount: wasm)
  2. skills agent --watch ...         (the offline model; tasks fed one by one)
       task: write a report on notes.md
       task: count the words in "..."
  3. while the agent runs: wordcount 1.1.0 (a new "unique" field) is built and
     published into a temporary copy of the registry, signed with a new key, and
     skills upgrade installs it; the agent's watcher reloads it between turns
  4. the same counting task again: served by wordcount 1.1.0
  5. skills audit verify on the run's hash-chained audit log

It builds wordcount 1.1.0 from this repository's skills/wordcount, so run it from
a checkout (go run ./cmd/skills demo). The first build of a wasm skill on a
machine compiles Go's runtime for wasip1 and takes longer.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), a, keep)
		},
	}
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary folder (home, workspace, registry copy, audit log)")
	return cmd
}

func runDemo(ctx context.Context, a *app, keep bool) error {
	start := time.Now()
	repo, err := repoRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "skills-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if keep {
		defer fmt.Fprintf(a.stdout, "\nkept %s (home/, workspace/, registry/, audit.jsonl)\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	home := filepath.Join(dir, "home")
	ws := filepath.Join(dir, "workspace")
	reg := filepath.Join(dir, "registry")
	auditFile := filepath.Join(dir, "audit.jsonl")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := os.WriteFile(filepath.Join(ws, "notes.md"), []byte(demoNotes), 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d := &demo{a: a, ctx: ctx, home: home, start: start}

	d.step("1. install report from the bundled registry (offline, verified)")
	if err := d.cli("install", "report"); err != nil {
		return err
	}
	if err := d.cli("list"); err != nil {
		return err
	}

	d.step("2. start the agent: skills agent --watch --audit audit.jsonl (offline model)")
	ag, err := d.startAgent(ws, auditFile)
	if err != nil {
		return err
	}
	defer ag.stop()
	if err := ag.task("write a report on notes.md"); err != nil {
		return err
	}
	if err := ag.task(demoCountTask); err != nil {
		return err
	}

	d.step("3. while the agent runs: publish wordcount 1.1.0 into a copy of the registry, then upgrade")
	src, cleanup, err := demoWordcount(repo)
	if err != nil {
		return err
	}
	defer cleanup()
	if err := copyFS(registry.FS(), reg); err != nil {
		return fmt.Errorf("demo: copy the bundled registry: %w", err)
	}
	key := filepath.Join(dir, "demo.key")
	steps := [][]string{
		{"keygen", "demo", "--out", dir},
		{"registry", "sign", reg, "--key", key, "--rotate-key"},
		{"registry", "add", "demo", reg, "--key", filepath.Join(dir, "demo.pub"), "--priority", "10"},
		{"publish", src, "--registry", reg, "--key", key},
		{"upgrade", "wordcount"},
	}
	for _, s := range steps {
		if err := d.cli(s...); err != nil {
			return err
		}
	}
	if err := ag.waitReload("wordcount", "1.1.0", 2*time.Minute); err != nil {
		return err
	}

	d.step("4. the next turn uses the new version (note \"unique\")")
	if err := ag.task(demoCountTask); err != nil {
		return err
	}
	if err := ag.stop(); err != nil {
		return err
	}

	d.step("5. verify the run's audit chain")
	if err := d.cli("audit", "verify", auditFile); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\ndemo finished in %s\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// demo prints the steps and runs CLI commands in-process.
type demo struct {
	a     *app
	ctx   context.Context
	home  string
	start time.Time
}

func (d *demo) step(title string) {
	fmt.Fprintf(d.a.stdout, "\n== %s  [%s]\n", title, time.Since(d.start).Round(100*time.Millisecond))
}

func (d *demo) cli(args ...string) error {
	fmt.Fprintf(d.a.stdout, "$ skills %s\n", strings.Join(args, " "))
	full := append([]string{"--home", d.home}, args...)
	if code := run(d.ctx, full, strings.NewReader(""), d.a.stdout, d.a.stderr); code != 0 {
		return exitError{code: 1, err: fmt.Errorf("demo: `skills %s` failed (exit %d)", strings.Join(args, " "), code)}
	}
	return nil
}

// agentRun is a running `skills agent --watch --json`: tasks go to its stdin,
// its JSON lines come back on a channel.
type agentRun struct {
	d      *demo
	in     *io.PipeWriter
	lines  chan map[string]any
	done   chan int
	once   sync.Once
	result int
}

func (d *demo) startAgent(ws, auditFile string) (*agentRun, error) {
	pr, pw := io.Pipe()
	outR, outW := io.Pipe()
	ag := &agentRun{d: d, in: pw, lines: make(chan map[string]any, 256), done: make(chan int, 1)}
	args := []string{"--home", d.home, "agent", "--watch", "--json", "--workspace", ws,
		"--audit", auditFile, "--allow-tool", "read_file,now"}
	fmt.Fprintf(d.a.stdout, "$ skills %s\n", strings.Join(args[2:], " "))
	go func() {
		code := run(d.ctx, args, pr, outW, d.a.stderr)
		outW.Close()
		ag.done <- code
	}()
	go func() {
		defer close(ag.lines)
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				ag.lines <- m
			}
		}
	}()
	return ag, nil
}

// task sends one task and prints its events and answer until the run ends.
func (ag *agentRun) task(t string) error {
	out := ag.d.a.stdout
	fmt.Fprintf(out, "> %s\n", t)
	if _, err := io.WriteString(ag.in, t+"\n"); err != nil {
		return fmt.Errorf("demo: agent: %w", err)
	}
	return ag.until(func(m map[string]any) bool { return m["type"] == "result" }, 2*time.Minute)
}

// waitReload waits for the agent to report that skill now serves version.
func (ag *agentRun) waitReload(skill, version string, limit time.Duration) error {
	return ag.until(func(m map[string]any) bool {
		data, _ := m["data"].(map[string]any)
		return m["type"] == "skill.reloaded" && data["skill"] == skill && data["to"] == version
	}, limit)
}

func (ag *agentRun) until(stop func(map[string]any) bool, limit time.Duration) error {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		select {
		case m, ok := <-ag.lines:
			if !ok {
				return errors.New("demo: the agent stopped early (see its errors above)")
			}
			ag.show(m)
			if stop(m) {
				return nil
			}
		case <-timer.C:
			return fmt.Errorf("demo: nothing happened for %s", limit)
		case <-ag.d.ctx.Done():
			return ag.d.ctx.Err()
		}
	}
}

// show prints the events a person wants to see, compactly.
func (ag *agentRun) show(m map[string]any) {
	out := ag.d.a.stdout
	data, _ := m["data"].(map[string]any)
	switch m["type"] {
	case "tool.start":
		fmt.Fprintf(out, "  tool.start   %v %s\n", data["name"], compact(data["input"], 100))
	case "tool.end":
		fmt.Fprintf(out, "  tool.end     %v %vms %s\n", data["name"], data["ms"], compact(data["output"], 100))
	case "tool.error", "tool.denied", "skill.reload_failed", "budget.exceeded":
		fmt.Fprintf(out, "  %-12v %s\n", m["type"], compact(data, 200))
	case "skill.reloaded", "skill.removed", "skill.deprecated_call":
		fmt.Fprintf(out, "  %-12v %s\n", m["type"], compact(data, 200))
	case "result":
		content, _ := m["content"].(string)
		fmt.Fprintf(out, "  answer:\n%s\n", indent(content, "    "))
	}
}

func (ag *agentRun) stop() error {
	ag.once.Do(func() {
		ag.in.Close()
		for range ag.lines {
		}
		select {
		case ag.result = <-ag.done:
		case <-time.After(30 * time.Second):
			ag.result = -1
		}
	})
	if ag.result != 0 {
		return fmt.Errorf("demo: the agent exited with status %d", ag.result)
	}
	return nil
}

func compact(v any, n int) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return abbreviate(string(b), n)
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 40 {
		lines = append(lines[:40], "…")
	}
	return prefix + strings.Join(lines, "\n"+prefix)
}

// repoRoot finds the checkout of this module above the working folder.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(b), "module "+scaffold.ModulePath+"\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("demo: run it from a checkout of " + scaffold.ModulePath + " (it builds wordcount 1.1.0 from skills/wordcount)")
		}
	}
}

// demoWordcount writes wordcount 1.1.0 (1.0.0 plus a "unique" field) to
// skills/_demo/wordcount, inside the module so it builds against this
// checkout (the leading underscore keeps it out of ./... and git ignores it).
func demoWordcount(repo string) (string, func(), error) {
	src := filepath.Join(repo, "skills", "wordcount")
	dst := filepath.Join(repo, "skills", "_demo", "wordcount")
	cleanup := func() { os.RemoveAll(filepath.Dir(dst)) }
	cleanup()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return "", cleanup, fmt.Errorf("demo: %w", err)
	}
	edits := map[string][][2]string{
		"SKILL.md": {{"  version: 1.0.0\n", "  version: 1.1.0\n"}},
		"main.go": {
			{"\tTop        []wordCount `json:\"top\"`\n", "\tTop        []wordCount `json:\"top\"`\n\tUnique     int         `json:\"unique\"` // new in 1.1.0\n"},
			{"\t\tTop:        topWords(freq, top, dropStopwords),\n", "\t\tTop:        topWords(freq, top, dropStopwords),\n\t\tUnique:     len(freq),\n"},
		},
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return "", cleanup, fmt.Errorf("demo: %w", err)
	}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasSuffix(n, "_test.go") || !(strings.HasSuffix(n, ".go") || n == "SKILL.md") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			return "", cleanup, fmt.Errorf("demo: %w", err)
		}
		s := string(b)
		for _, ed := range edits[n] {
			if !strings.Contains(s, ed[0]) {
				return "", cleanup, fmt.Errorf("demo: skills/wordcount/%s changed; the demo's edit %q no longer applies", n, strings.TrimSpace(ed[0]))
			}
			s = strings.Replace(s, ed[0], ed[1], 1)
		}
		if err := os.WriteFile(filepath.Join(dst, n), []byte(s), 0o644); err != nil {
			return "", cleanup, fmt.Errorf("demo: %w", err)
		}
	}
	return dst, cleanup, nil
}

// copyFS writes the files of fsys under dst.
func copyFS(fsys fs.FS, dst string) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dst, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
