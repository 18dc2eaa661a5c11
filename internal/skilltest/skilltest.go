// Package skilltest stages real skills for tests: it builds each skill from
// its source folder with sdk/build into a folder of its own (the source tree
// gets no build output), and compiles the wasm ones ahead of time into the
// compilation cache that a host with a given home will use.
//
// The compiling is the point. Under the race detector wazero's compiler is
// itself instrumented and takes over a minute per Go module; Precompile runs
// host/wasm/testdata/precompile, a program built without the race
// detector, which compiles a module in a second or so, and a race-enabled
// test process then loads every module from the cache in milliseconds.
// Compiled modules are also kept in the user's cache folder
// (skills/skilltest), so a later run with the same modules skips compiling.
//
// Typical use, in a test:
//
//	home := t.TempDir()
//	dirs := skilltest.Stage(t, home, t.TempDir(), "../skills/wordcount", "../host/testdata/deep")
//	h, _ := host.New(ctx, host.Options{Home: home})
//	h.LoadDir(ctx, dirs...)
//
// or StageContext from a TestMain, which has no testing.TB.
package skilltest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/skillsdev/skills/sdk/build"
	"github.com/skillsdev/skills/sdk/manifest"
)

// modulePath is the module whose checkout holds the precompile program.
const modulePath = "github.com/skillsdev/skills"

// precompileCmd is the precompile program, relative to the checkout's root.
const precompileCmd = "./host/wasm/testdata/precompile"

// Stage is StageContext for a test: a failure fails tb, and the builds stop
// when tb's context ends.
func Stage(tb testing.TB, home, dst string, dirs ...string) []string {
	tb.Helper()
	staged, err := StageContext(tb.Context(), home, dst, dirs...)
	if err != nil {
		tb.Fatal(err)
	}
	return staged
}

// StageContext copies the SKILL.md of each skill folder in dirs into
// dst/<name>/ and builds the skill's artifact there (metadata.entry), two
// builds at a time. When home is not empty, the wasm artifacts are then
// compiled into CacheDir(home), the cache of host.New(host.Options{Home:
// home}). It returns the staged folders, in the order of dirs. Relative
// dirs are taken from the working directory (a test's package folder).
// Instructions skills get their SKILL.md and nothing else.
func StageContext(ctx context.Context, home, dst string, dirs ...string) ([]string, error) {
	staged := make([]string, len(dirs))
	artifacts := make([]string, len(dirs)) // wasm artifacts only
	errs := make([]error, len(dirs))
	sem := make(chan struct{}, 2) // the machines have two cores
	var wg sync.WaitGroup
	for i, src := range dirs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			staged[i], artifacts[i], errs[i] = stage(ctx, dst, src)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("stage skills: %w", err)
	}
	if home == "" {
		return staged, nil
	}
	var modules []string
	for _, a := range artifacts {
		if a != "" {
			modules = append(modules, a)
		}
	}
	if err := Precompile(ctx, CacheDir(home), modules...); err != nil {
		return nil, err
	}
	return staged, nil
}

// stage stages one skill and returns its folder, and its artifact if it is
// a wasm module.
func stage(ctx context.Context, dst, src string) (dir, wasm string, err error) {
	m, err := manifest.Load(src)
	if err != nil {
		return "", "", err
	}
	dir = filepath.Join(dst, m.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	data, err := os.ReadFile(filepath.Join(src, "SKILL.md"))
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "SKILL.md"), data, 0o644); err != nil {
		return "", "", err
	}
	if m.Runtime == manifest.RuntimeInstructions {
		return dir, "", nil
	}
	out, err := build.Build(ctx, build.Options{Dir: src, Runtime: m.Runtime, Output: filepath.Join(dir, filepath.FromSlash(m.Entry))})
	if err != nil {
		return "", "", err
	}
	if m.Runtime == manifest.RuntimeWasm {
		wasm = out
	}
	return dir, wasm, nil
}

// CacheDir returns the folder of the wasm compilation cache of a host whose
// home is home.
func CacheDir(home string) string { return filepath.Join(home, "cache", "wasm") }

// Precompile fills the compilation cache in cacheDir with wasm modules
// compiled the way a wasm engine with default options on that cache
// compiles them.
//
// The compiling is done by host/wasm/testdata/precompile, run with `go run`
// (so a changed engine is rebuilt, an unchanged one comes from the build
// cache), into a store in the user's cache folder that outlives the test
// run, one folder per set of modules: a later run with the same modules
// finds them compiled there, and only links the files into cacheDir
// (hard links, or copies across file systems). cacheDir gets files of
// its own, so a test may do what it likes to it. Sets unused for a
// fortnight are removed. Without a user cache folder, the modules are
// compiled straight into cacheDir.
func Precompile(ctx context.Context, cacheDir string, modules ...string) error {
	if len(modules) == 0 {
		return nil
	}
	cacheDir, err := filepath.Abs(cacheDir)
	if err != nil {
		return fmt.Errorf("precompile: %w", err)
	}
	version, err := wazeroVersion(ctx)
	if err != nil {
		return fmt.Errorf("precompile: %w", err)
	}
	abs := make([]string, len(modules))
	for i, m := range modules {
		if abs[i], err = filepath.Abs(m); err != nil {
			return fmt.Errorf("precompile: %w", err)
		}
	}
	set, err := storeSet(version, abs)
	if err != nil {
		// No store: compile where the host will look.
		return compile(ctx, version, cacheDir, abs)
	}
	if err := compile(ctx, version, set, abs); err != nil {
		return err
	}
	if err := linkTree(set, cacheDir); err != nil {
		return fmt.Errorf("precompile: %w", err)
	}
	return nil
}

// storeSet returns the store's folder for the modules (made if needed),
// marks it used now, and removes the sets unused for storeTTL.
func storeSet(version string, modules []string) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	base = filepath.Join(base, "skills", "skilltest")
	sums := make([]string, len(modules))
	for i, m := range modules {
		b, err := os.ReadFile(m)
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(b)
		sums[i] = hex.EncodeToString(sum[:])
	}
	slices.Sort(sums)
	key := sha256.Sum256([]byte(version + "\n" + strings.Join(sums, "\n")))
	dir := filepath.Join(base, hex.EncodeToString(key[:12]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	now := time.Now()
	if err := os.WriteFile(filepath.Join(dir, usedFile), nil, 0o644); err != nil {
		return "", err
	}
	if err := os.Chtimes(filepath.Join(dir, usedFile), now, now); err != nil {
		return "", err
	}
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		st, err := os.Stat(filepath.Join(base, e.Name(), usedFile))
		if err == nil && now.Sub(st.ModTime()) > storeTTL {
			os.RemoveAll(filepath.Join(base, e.Name()))
		}
	}
	return dir, nil
}

// usedFile marks, by its modification time, when a store set was last used.
const usedFile = ".used"

// storeTTL is how long an unused store set is kept.
const storeTTL = 14 * 24 * time.Hour

// linkTree links every regular file under src into the same place under
// dst, keeping files dst has already. Names starting with "." (the store's
// mark, files being written) are left out.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != src || strings.HasSuffix(d.Name(), ".tmp") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if _, err := os.Lstat(target); err == nil {
			return nil
		}
		if err := os.Link(p, target); err == nil || errors.Is(err, os.ErrExist) {
			return nil
		}
		return copyFile(p, target)
	})
}

// copyFile copies src to dst through a temporary file and a rename.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(dst), ".copy-*")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name()) // no-op after the rename
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(out.Name(), dst)
}

// compile runs the precompile program on modules (absolute paths) into
// cacheDir.
//
// wazero keeps its cache entries per wazero version, which it reads from
// the binary's build information. Test binaries carry none and say "dev";
// the helper is linked to say whatever this binary says, so that the
// entries it writes are the ones this process looks for.
func compile(ctx context.Context, version, cacheDir string, modules []string) error {
	root, err := Root()
	if err != nil {
		return fmt.Errorf("precompile: %w", err)
	}
	args := []string{"run", "-ldflags=-X github.com/tetratelabs/wazero/internal/version.version=" + version,
		precompileCmd, "-cache", cacheDir}
	cmd := exec.CommandContext(ctx, "go", append(args, modules...)...)
	cmd.Dir = root
	// A -race in GOFLAGS would instrument the helper, which is what it is
	// there to avoid.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS="+withoutRace(os.Getenv("GOFLAGS")))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("precompile %d modules: %v\n%s", len(modules), err, out)
	}
	return nil
}

// wazeroVersion returns the version this process's wazero files its cache
// entries under, read from the folder it makes in an empty cache.
func wazeroVersion(ctx context.Context) (string, error) {
	tmp, err := os.MkdirTemp("", "skilltest-wazero-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	c, err := wazero.NewCompilationCacheWithDir(tmp)
	if err != nil {
		return "", err
	}
	_ = c.Close(ctx)
	suffix := "-" + runtime.GOARCH + "-" + runtime.GOOS
	dirs, _ := filepath.Glob(filepath.Join(tmp, "wazero-*"+suffix))
	if len(dirs) != 1 {
		return "", fmt.Errorf("cannot tell wazero's cache version from %v", dirs)
	}
	return strings.TrimSuffix(strings.TrimPrefix(filepath.Base(dirs[0]), "wazero-"), suffix), nil
}

func withoutRace(goflags string) string {
	var keep []string
	for _, f := range strings.Fields(goflags) {
		if f != "-race" && f != "--race" && f != "-race=true" {
			keep = append(keep, f)
		}
	}
	return strings.Join(keep, " ")
}

// Root returns the root of the checkout of github.com/skillsdev/skills
// that holds the working directory: the folder of its go.mod.
func Root() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module "+modulePath+"\n")) {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", fmt.Errorf("no checkout of %s above the working directory", modulePath)
		}
		d = p
	}
}
