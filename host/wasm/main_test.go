package wasm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/skillsdev/skills/sdk/build"
	"github.com/skillsdev/skills/sdk/manifest"
)

// The test guests, built once per test binary from testdata/<name>.
var guestNames = []string{"echo", "callback", "trap", "loop", "membomb", "errcode", "compute"}

var (
	guestDir string            // where the built modules are
	guests   map[string]string // guest name -> module path
	cacheDir string            // one compilation cache for every engine of the run
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
	guests, err = buildGuests(context.Background(), guestNames...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
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
