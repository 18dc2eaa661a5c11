package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/sdk/build"
	"github.com/skillsdev/skills/sdk/manifest"
	"github.com/skillsdev/skills/sdk/wire"
	"github.com/spf13/cobra"
)

func newRunCmd(a *app) *cobra.Command {
	var (
		input, workspace string
		maxDepth         int
		timeout          time.Duration
		asJSON           bool
		allowHosts       []string
	)
	cmd := &cobra.Command{
		Use:   "run DIR|NAME --input JSON|@FILE",
		Short: "Call a skill once and print its JSON output",
		Long: `run loads a skill and calls it once. DIR is a skill folder: it is rebuilt first when
its Go sources are newer than its artifact, and the skills it requires are loaded
from folders beside it. NAME is an installed skill.

With --json, the result is printed as {"output": ...} or {"error": {"code", "message", ...}}.
Exit status: 0 when the skill returned output, 1 when it returned an error.`,
		Example: `  skills run skills/wordcount --input '{"text":"to be or not to be","top":3}'
  skills run skills/report --input '{"path":"notes.md","sentences":2}' --workspace .`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			in, err := readInput(input, a.stdin)
			if err != nil {
				return usageError{err}
			}
			home, err := a.homeDir()
			if err != nil {
				return err
			}
			srcs, name, err := runSources(ctx, a, args[0])
			if err != nil {
				return err
			}
			h, err := host.New(ctx, host.Options{
				Home: home, Workspace: workspace, MaxDepth: maxDepth, DefaultTimeout: timeout,
				AllowHosts: allowHosts, Logger: a.logger(),
			})
			if err != nil {
				return err
			}
			defer h.Close(context.WithoutCancel(ctx))
			res, err := h.Apply(ctx, srcs)
			if err != nil {
				return err
			}
			if err := res.Err(); err != nil {
				return err
			}
			out, callErr := h.Call(ctx, name, in)
			return printResult(a, out, callErr, asJSON)
		},
	}
	cmd.Flags().StringVar(&input, "input", "", "input JSON, @FILE to read it from a file, or @- for stdin")
	cmd.Flags().StringVar(&workspace, "workspace", ".", "the only folder read_file and write_file may touch")
	cmd.Flags().IntVar(&maxDepth, "max-depth", host.DefaultMaxDepth, "maximum depth of nested skill calls")
	cmd.Flags().DurationVar(&timeout, "timeout", host.DefaultTimeout, "deadline of the whole call tree when the skill sets no metadata.timeout")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {\"output\":...} or {\"error\":...} as JSON")
	cmd.Flags().StringSliceVar(&allowHosts, "allow-host", nil, "host names http_get may reach (repeatable)")
	return cmd
}

// runSources finds the skills to load for `skills run TARGET`: a folder and
// what it requires beside it (rebuilt when stale), or an installed skill.
func runSources(ctx context.Context, a *app, target string) ([]host.Source, string, error) {
	if _, err := os.Stat(filepath.Join(target, "SKILL.md")); err != nil {
		if !index.ValidName(target) {
			return nil, "", fmt.Errorf("run %s: no skill folder %s (no SKILL.md there); installed skills are run by name once `skills install` has installed them", target, target)
		}
		return runInstalled(ctx, a, target)
	}
	srcs, err := host.DirSources(target)
	if err != nil {
		return nil, "", err
	}
	for _, s := range srcs {
		m := s.Manifest
		if m.Runtime == manifest.RuntimeInstructions {
			continue
		}
		if _, err := os.Stat(filepath.Join(s.Dir, "main.go")); err != nil {
			continue // a prebuilt artifact without source
		}
		stale, err := build.Stale(s.Dir, m.Entry)
		if err != nil {
			return nil, "", err
		}
		if stale {
			fmt.Fprintf(a.stderr, "building %s (%s)...\n", m.Name, m.Runtime)
			if _, err := build.Build(ctx, build.Options{Dir: s.Dir, Runtime: m.Runtime, Output: m.Entry}); err != nil {
				return nil, "", err
			}
		}
	}
	return srcs, srcs[0].Manifest.Name, nil
}

// runInstalled loads the whole installed set (so that the skill's
// dependencies are there) from the store, as skills.lock records it.
func runInstalled(ctx context.Context, a *app, name string) ([]host.Source, string, error) {
	home, err := a.homeDir()
	if err != nil {
		return nil, "", err
	}
	srcs, err := installedSources(ctx, a, home)
	if err != nil {
		return nil, "", fmt.Errorf("run %s: %w", name, err)
	}
	var names []string
	for _, s := range srcs {
		if s.Manifest.Name == name {
			return srcs, name, nil
		}
		names = append(names, s.Manifest.Name)
	}
	have := "none"
	if len(names) > 0 {
		have = strings.Join(names, ", ")
	}
	return nil, "", fmt.Errorf("run %s: no skill folder %s here, and no installed skill %s (installed: %s); install it with `skills install %s`", name, name, name, have, name)
}

// readInput reads --input: inline JSON, @FILE, or @- for stdin.
func readInput(spec string, stdin io.Reader) (json.RawMessage, error) {
	var b []byte
	switch {
	case spec == "":
		return nil, errNoInput
	case spec == "@-":
		var err error
		if b, err = io.ReadAll(io.LimitReader(stdin, 64<<20)); err != nil {
			return nil, fmt.Errorf("read input from stdin: %w", err)
		}
	case strings.HasPrefix(spec, "@"):
		var err error
		if b, err = os.ReadFile(spec[1:]); err != nil {
			return nil, fmt.Errorf("read input: %w", err)
		}
	default:
		b = []byte(spec)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("--input is not valid JSON: %s", abbreviate(string(b), 80))
	}
	return b, nil
}

func printResult(a *app, out json.RawMessage, callErr error, asJSON bool) error {
	if asJSON {
		var env any
		if callErr != nil {
			env = map[string]any{"error": wire.AsError(callErr)}
		} else {
			env = map[string]any{"output": out}
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(env); err != nil {
			return err
		}
		if callErr != nil {
			return exitError{code: 1}
		}
		return nil
	}
	if callErr != nil {
		return callErr
	}
	var b bytes.Buffer
	if err := json.Indent(&b, out, "", "  "); err != nil {
		return fmt.Errorf("the skill returned invalid JSON: %w", err)
	}
	b.WriteByte('\n')
	_, err := a.stdout.Write(b.Bytes())
	return err
}

func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
