// Package reloadtest builds the real wasm skills that the tests of reload,
// agent/hosttools and the agent CLI reload, swap and delete: "tick", a tiny
// skill whose output names its version, written as a Go module of its own in
// a temporary folder so that a test can edit, break and rebuild it.
//
// Builds are reproducible, so the module a test rebuilds from the same
// source has the same bytes as one built ahead of time: Precompile fills the
// host's compilation cache with those, and a reload under the race detector
// (where wazero's own compiler takes over a minute per module) then loads
// from the cache in milliseconds.
package reloadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/skillsdev/skills/sdk/build"
	"github.com/skillsdev/skills/sdk/manifest"
)

// ModulePath is the module of every tick folder. It must not depend on the
// folder's name: the artifact's bytes would differ.
const ModulePath = "skilltest/tick"

// Tick describes one tick skill folder.
type Tick struct {
	Name     string   // skill name (and folder name)
	Version  string   // metadata.version; also what the skill reports
	Code     string   // the version the code reports; "" means Version
	Trap     bool     // the module traps while it starts (a panic in init)
	Requires []string // "name constraint" lines of ## Requires
	Tools    []string // allowed-tools
	Describe string   // description; "" means a default one
}

// Source returns tick's main.go for code version v. With trap, the module
// panics during its initialization, which a host sees on warm-up.
func Source(v string, trap bool) string {
	var b strings.Builder
	b.WriteString(`// Command tick is a test skill: it reports its version, and can read a
// file through the host's read_file tool and call another skill.
package main

import (
	"encoding/json"

	"github.com/skillsdev/skills/sdk"
)

const version = "` + v + `"

type input struct {
	Read string ` + "`json:\"read\"`" + `
	Call string ` + "`json:\"call\"`" + `
}

func main() { sdk.Serve(handle) }
`)
	if trap {
		b.WriteString(`
func init() { panic("tick: broken on purpose") }
`)
	}
	b.WriteString(`
func handle(ctx sdk.Context, raw json.RawMessage) (any, error) {
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, err
	}
	out := map[string]any{"version": version}
	if in.Read != "" {
		r, err := ctx.CallTool("read_file", map[string]string{"path": in.Read})
		if err != nil {
			return nil, err
		}
		out["read"] = json.RawMessage(r)
	}
	if in.Call != "" {
		r, err := ctx.CallSkill(in.Call, map[string]any{})
		if err != nil {
			return nil, err
		}
		out["called"] = json.RawMessage(r)
	}
	return out, nil
}
`)
	return b.String()
}

// Manifest returns tick's SKILL.md.
func Manifest(t Tick) string {
	desc := t.Describe
	if desc == "" {
		desc = "Reports the version of the tick test skill."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "---\nname: %s\ndescription: %s\n", t.Name, desc)
	if len(t.Tools) > 0 {
		fmt.Fprintf(&b, "allowed-tools: %s\n", strings.Join(t.Tools, " "))
	}
	fmt.Fprintf(&b, "metadata:\n  version: %s\n  runtime: wasm\n  entry: tick.wasm\n  timeout: 10s\n---\n# %s\n\nA test skill.\n\n", t.Version, t.Name)
	if len(t.Requires) > 0 {
		b.WriteString("## Requires\n\n")
		for _, r := range t.Requires {
			fmt.Fprintf(&b, "- %s\n", r)
		}
		b.WriteString("\n")
	}
	b.WriteString("## Input\n\n```json\n" + `{"type": "object", "properties": {"read": {"type": "string"}, "call": {"type": "string"}}, "additionalProperties": false}` + "\n```\n")
	return b.String()
}

// Write creates (or overwrites) the folder dir of the tick skill t: go.mod
// and go.sum (the SDK replaced by the checkout at root), main.go and
// SKILL.md. It builds nothing.
func Write(tb testing.TB, root, dir string, t Tick) {
	tb.Helper()
	if err := write(root, dir, t); err != nil {
		tb.Fatal(err)
	}
}

func write(root, dir string, t Tick) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		return err
	}
	code := t.Code
	if code == "" {
		code = t.Version
	}
	gomod := "module " + ModulePath + "\n\ngo 1.26.0\n\nrequire github.com/skillsdev/skills v0.0.0\n\nreplace github.com/skillsdev/skills => " + root + "\n"
	files := map[string]string{"go.mod": gomod, "go.sum": string(sum), "main.go": Source(code, t.Trap), "SKILL.md": Manifest(t)}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Artifact is the path of a tick folder's module.
func Artifact(dir string) string { return filepath.Join(dir, "tick.wasm") }

// Build builds the tick folder dir and returns its artifact.
func Build(ctx context.Context, dir string) (string, error) {
	return build.Build(ctx, build.Options{Dir: dir, Runtime: manifest.RuntimeWasm, Output: "tick.wasm"})
}

// Install copies a prebuilt module into the tick folder dir, dated an hour
// back so that any later save of its sources makes it stale.
func Install(tb testing.TB, module, dir string) {
	tb.Helper()
	b, err := os.ReadFile(module)
	if err != nil {
		tb.Fatal(err)
	}
	if err := WriteAtomic(Artifact(dir), b); err != nil {
		tb.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(Artifact(dir), old, old); err != nil {
		tb.Fatal(err)
	}
}

// WriteAtomic writes a file the way builds and careful editors do: a
// temporary file in the same folder, renamed over the target.
func WriteAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Root returns the checkout's root: the folder of the go.mod declaring
// github.com/skillsdev/skills, found upwards from the working directory.
func Root() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/skillsdev/skills\n")) {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", fmt.Errorf("no checkout of github.com/skillsdev/skills above the working directory")
		}
		d = p
	}
}

// Precompile compiles modules into the wasm compilation cache under home
// (home/cache/wasm, where host.New looks) with testdata/precompile, a
// program built without the race detector. Modules that fail to start (a
// trap in their initialization) are compiled and cached all the same.
//
// wazero names its cache entries by its own version, which it reads from
// the binary's build information; test binaries have none and say "dev".
// The helper is told to say what this binary says.
func Precompile(ctx context.Context, root, home string, modules ...string) error {
	cacheDir := filepath.Join(home, "cache", "wasm")
	c, err := wazero.NewCompilationCacheWithDir(cacheDir)
	if err != nil {
		return err
	}
	_ = c.Close(ctx)
	suffix := "-" + runtime.GOARCH + "-" + runtime.GOOS
	dirs, _ := filepath.Glob(filepath.Join(cacheDir, "wazero-*"+suffix))
	if len(dirs) != 1 {
		return fmt.Errorf("precompile: cannot tell the cache's wazero version from %v", dirs)
	}
	version := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(dirs[0]), "wazero-"), suffix)
	args := []string{"run", "-ldflags=-X github.com/tetratelabs/wazero/internal/version.version=" + version,
		"./reload/reloadtest/testdata/precompile", "-cache", cacheDir}
	cmd := exec.CommandContext(ctx, "go", append(args, modules...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("precompile: %v\n%s", err, out)
	}
	return nil
}

// Variants are prebuilt tick modules, by name: "v1", "v2" (code reporting
// that version) and "trap" (traps while starting; version "3").
type Variants map[string]string

// BuildVariants builds the named tick variants (all when none are named)
// under dir, two at a time, and precompiles them into home's cache.
func BuildVariants(ctx context.Context, root, dir, home string, names ...string) (Variants, error) {
	all := map[string]Tick{
		"v1":   {Name: "tick", Version: "1.0.0", Code: "1"},
		"v2":   {Name: "tick", Version: "2.0.0", Code: "2"},
		"trap": {Name: "tick", Version: "3.0.0", Code: "3", Trap: true},
	}
	ticks := all
	if len(names) > 0 {
		ticks = map[string]Tick{}
		for _, n := range names {
			t, ok := all[n]
			if !ok {
				return nil, fmt.Errorf("no tick variant %q", n)
			}
			ticks[n] = t
		}
	}
	out := Variants{}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	sem := make(chan struct{}, 2)
	for name, t := range ticks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			d := filepath.Join(dir, name, "tick")
			a, err := "", write(root, d, t)
			if err == nil {
				a, err = Build(ctx, d)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			out[name] = a
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var modules []string
	for _, m := range out {
		modules = append(modules, m)
	}
	if err := Precompile(ctx, root, home, modules...); err != nil {
		return nil, err
	}
	return out, nil
}

// CacheHome returns a host home that outlives the test run, in the user's
// cache folder, so that modules compiled by an earlier run are found
// there; name keeps packages apart. It returns "" when there is no cache
// folder, and the caller uses a temporary one.
func CacheHome(name string) string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	home := filepath.Join(d, "skills", name)
	if err := os.MkdirAll(home, 0o755); err != nil {
		return ""
	}
	return home
}
