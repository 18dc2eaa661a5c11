package wasm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/skillsdev/skills/sdk/build"
	"github.com/skillsdev/skills/sdk/manifest"
)

// The test guests, built once per test binary from testdata/<name>.
var guestNames = []string{"echo", "callback", "trap", "loop", "membomb", "errcode", "compute"}

var (
	guestDir string            // where the built modules are
	guests   map[string]string // guest name -> module path
	cacheDir string            // one compilation cache for every engine of the run, kept across runs
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "wasm-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	guestDir = filepath.Join(tmp, "guests")
	cacheDir = filepath.Join(tmp, "cache")
	if dir, err := os.UserCacheDir(); err == nil {
		// Entries are keyed by module digest and wazero version, so keeping
		// them across runs is safe, and saves compiling every guest again.
		cacheDir = filepath.Join(dir, "skills", "host-wasm-test")
	}
	ctx := context.Background()
	guests, err = buildGuests(ctx, guestNames...)
	if err == nil {
		err = precompile(ctx, guestNames...)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// precompile compiles the guests into cacheDir with testdata/precompile, a
// program built without the race detector: wazero's compiler, instrumented
// by -race, needs over a minute per module. The loop guest is compiled for
// both ways of stopping runaway guests.
//
// wazero keeps cache entries per wazero version, which it reads from the
// binary's build information: test binaries carry none and say "dev", so
// the helper is told to say what this binary says.
func precompile(ctx context.Context, names ...string) error {
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
		"./testdata/precompile", "-cache", cacheDir}
	for _, name := range names {
		args = append(args, guests[name])
	}
	args = append(args, "wazero:"+guests["loop"])
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("precompile test guests: %v\n%s", err, out)
	}
	return nil
}

// buildGuests compiles test guests with sdk/build, two at a time.
func buildGuests(ctx context.Context, names ...string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	sem := make(chan struct{}, 2)
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			path, err := build.Build(ctx, build.Options{
				Dir:     filepath.Join("testdata", name),
				Runtime: manifest.RuntimeWasm,
				Output:  filepath.Join(guestDir, name+".wasm"),
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			out[name] = path
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, fmt.Errorf("build test guests: %v", errs)
	}
	return out, nil
}
