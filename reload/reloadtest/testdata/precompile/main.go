// Command precompile fills a wasm compilation cache ahead of tests that run
// under the race detector, where wazero's compiler is itself instrumented
// and takes minutes per Go module; built normally, this program takes a
// second or so per module. It uses the host's engine with the host's
// options, so the cache entries are the ones a host looks for.
//
// Usage: precompile -cache DIR module.wasm...
//
// A module that compiles but fails to start (a test module that traps on
// purpose) is reported and skipped: its compiled code is cached anyway.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/skillsdev/skills/host/engine"
	"github.com/skillsdev/skills/host/wasm"
)

func main() {
	cache := flag.String("cache", "", "compilation cache directory")
	flag.Parse()
	if err := run(context.Background(), *cache, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "precompile:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cache string, modules []string) error {
	if cache == "" {
		return fmt.Errorf("no -cache folder given")
	}
	e, err := wasm.New(ctx, wasm.Options{CacheDir: cache, MaxInstances: 1})
	if err != nil {
		return err
	}
	defer e.Close(ctx)
	for _, m := range modules {
		s, err := e.Load(ctx, engine.Spec{Artifact: m})
		if err != nil {
			fmt.Fprintf(os.Stderr, "precompile: %s does not start (compiled code cached): %v\n", m, err)
			continue
		}
		if err := s.Close(ctx); err != nil {
			return err
		}
	}
	return nil
}
