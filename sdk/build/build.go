// Package build compiles a skill's Go source into the artifact its SKILL.md
// names: a wasip1 reactor module for wasm skills, a native executable for
// plugin skills. Builds are reproducible (-trimpath, no build id, no VCS
// stamp, CGO off) so that the same source gives the same SHA-256, which is
// what the marketplace pins.
package build

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
	"time"

	"github.com/skillsdev/skills/sdk/manifest"
)

// Options says what to build.
type Options struct {
	Dir     string           // the skill's folder (holds SKILL.md and package main)
	Runtime manifest.Runtime // wasm or plugin
	Output  string           // artifact path; relative paths are taken from Dir
	GOOS    string           // plugin target; defaults to the host's
	GOARCH  string           // plugin target; defaults to the host's
	Go      string           // go command; defaults to "go" on PATH
}

// Build compiles the skill and writes the artifact atomically (temp file,
// rename), so a running host never sees half an artifact. It returns the
// absolute artifact path. A compile failure returns the compiler's output.
func Build(ctx context.Context, o Options) (string, error) {
	if o.Dir == "" {
		return "", errors.New("build: no skill folder given")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return "", fmt.Errorf("build %s: %w", o.Dir, err)
	}
	if o.Output == "" {
		return "", fmt.Errorf("build %s: no output path (metadata.entry)", o.Dir)
	}
	out := o.Output
	if !filepath.IsAbs(out) {
		out = filepath.Join(dir, out)
	}
	env := append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	args := []string{"build", "-trimpath", "-ldflags=-s -w -buildid="}
	switch o.Runtime {
	case manifest.RuntimeWasm:
		env = append(env, "GOOS=wasip1", "GOARCH=wasm")
		args = append(args, "-buildmode=c-shared")
	case manifest.RuntimePlugin:
		goos, goarch := o.GOOS, o.GOARCH
		if goos == "" {
			goos = runtime.GOOS
		}
		if goarch == "" {
			goarch = runtime.GOARCH
		}
		env = append(env, "GOOS="+goos, "GOARCH="+goarch)
	case manifest.RuntimeInstructions:
		return "", fmt.Errorf("build %s: an instructions skill has nothing to build", o.Dir)
	default:
		return "", fmt.Errorf("build %s: unknown runtime %q", o.Dir, o.Runtime)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", o.Dir, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("build %s: %w", o.Dir, err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName) // no-op after the rename

	goCmd := o.Go
	if goCmd == "" {
		goCmd = "go"
	}
	cmd := exec.CommandContext(ctx, goCmd, append(args, "-o", tmpName, ".")...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("build %s (%s): %s", o.Dir, o.Runtime, msg)
	}
	// go build may reuse a cached link whose mtime predates the sources;
	// Stale compares mtimes, so the artifact is stamped with the build time.
	now := time.Now()
	if err := os.Chtimes(tmpName, now, now); err != nil {
		return "", fmt.Errorf("build %s: %w", o.Dir, err)
	}
	if o.Runtime == manifest.RuntimePlugin {
		if err := os.Chmod(tmpName, 0o755); err != nil {
			return "", fmt.Errorf("build %s: %w", o.Dir, err)
		}
	}
	if err := os.Rename(tmpName, out); err != nil {
		return "", fmt.Errorf("build %s: %w", o.Dir, err)
	}
	return out, nil
}

// Stale reports whether the artifact at output is missing or older than any
// Go source, go.mod or go.sum file in dir (not recursing into sub-folders that
// hold their own SKILL.md). Callers use it to rebuild before running.
func Stale(dir, output string) (bool, error) {
	if !filepath.IsAbs(output) {
		output = filepath.Join(dir, output)
	}
	st, err := os.Stat(output)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("check %s: %w", output, err)
	}
	stale := false
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir {
				if _, err := os.Stat(filepath.Join(p, "SKILL.md")); err == nil {
					return filepath.SkipDir
				}
				if n := d.Name(); n == "testdata" || strings.HasPrefix(n, ".") {
					return filepath.SkipDir
				}
			}
			return nil
		}
		n := d.Name()
		if strings.HasSuffix(n, ".go") || n == "go.mod" || n == "go.sum" {
			info, err := d.Info()
			if err != nil {
				return err
			}
			if info.ModTime().After(st.ModTime()) {
				stale = true
				return filepath.SkipAll
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("check %s: %w", dir, err)
	}
	return stale, nil
}
