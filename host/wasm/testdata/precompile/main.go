// Command precompile fills a wasm engine's compilation cache ahead of the
// package's tests. Under the race detector wazero's compiler is itself
// instrumented and takes minutes per Go module; built normally, this
// program takes a second or so, and the tests then load from the cache.
//
// Usage: precompile -cache DIR module.wasm... [wazero:module.wasm...]
// A "wazero:" prefix compiles for Options.WazeroChecks instead.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

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
	engines := map[bool]*wasm.Engine{}
	for _, checks := range []bool{false, true} {
		e, err := wasm.New(ctx, wasm.Options{CacheDir: cache, WazeroChecks: checks, MaxInstances: 1})
		if err != nil {
			return err
		}
		defer e.Close(ctx)
		engines[checks] = e
	}
	for _, m := range modules {
		path, checks := strings.CutPrefix(m, "wazero:")
		s, err := engines[checks].Load(ctx, engine.Spec{Artifact: path})
		if err != nil {
			return err
		}
		if err := s.Close(ctx); err != nil {
			return err
		}
	}
	return nil
}
