package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/skillsdev/skills/sdk/build"
	"github.com/skillsdev/skills/sdk/manifest"
	"github.com/skillsdev/skills/sdk/scaffold"
	"github.com/spf13/cobra"
)

func newInitCmd(a *app) *cobra.Command {
	var runtime, sdkDir string
	cmd := &cobra.Command{
		Use:   "init NAME|DIR --runtime wasm|plugin",
		Short: "Create a new skill folder that builds and runs as it is",
		Long: `init creates a folder with SKILL.md and main.go. The folder's base name is the
skill's name. The same main.go builds for either runtime; --runtime sets
metadata.runtime and the artifact name in SKILL.md.

Outside a Go module that provides the SDK, init also writes a go.mod; pass
--sdk DIR (a checkout of github.com/skillsdev/skills) when it cannot find one.`,
		Example: "  skills init hello --runtime wasm\n  skills build hello && skills run hello --input '{\"text\":\"world\"}'",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt := manifest.Runtime(runtime)
			if rt != manifest.RuntimeWasm && rt != manifest.RuntimePlugin {
				return usageError{fmt.Errorf("--runtime must be wasm or plugin, not %q", runtime)}
			}
			files, err := scaffold.Create(cmd.Context(), scaffold.Options{Dir: args[0], Runtime: rt, SDKDir: sdkDir})
			for _, f := range files {
				fmt.Fprintf(a.stdout, "created %s\n", f)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "next: skills build %s && skills run %s --input '{\"text\":\"world\"}'\n", args[0], args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&runtime, "runtime", "wasm", "wasm or plugin")
	cmd.Flags().StringVar(&sdkDir, "sdk", "", "checkout of the SDK module to build against (when outside one)")
	return cmd
}

func newValidateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "validate DIR...",
		Short: "Check SKILL.md files: frontmatter, metadata, ## Requires, ## Input",
		Args:  args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			failed := 0
			for _, dir := range args {
				m, err := manifest.Load(dir)
				if err != nil {
					fmt.Fprintf(a.stderr, "%v\n", err)
					failed++
					continue
				}
				fmt.Fprintf(a.stdout, "ok %s: %s %s (%s)\n", dir, m.Name, versionString(m), m.Runtime)
			}
			if failed > 0 {
				return exitError{code: 1, err: fmt.Errorf("%d of %d skills are invalid", failed, len(args))}
			}
			return nil
		},
	}
}

func newBuildCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "build DIR...",
		Short: "Compile skills into the artifact their SKILL.md names (metadata.entry)",
		Long: `build compiles each skill for its runtime: GOOS=wasip1 GOARCH=wasm c-shared for wasm,
a native executable for plugin. Builds are reproducible (-trimpath, no build id,
no VCS stamp, CGO off): the same source gives the same SHA-256.`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, dir := range args {
				m, err := manifest.Load(dir)
				if err != nil {
					return err
				}
				if m.Runtime == manifest.RuntimeInstructions {
					fmt.Fprintf(a.stdout, "skip %s: instructions skill, nothing to build\n", dir)
					continue
				}
				fmt.Fprintf(a.stderr, "building %s (%s)...\n", m.Name, m.Runtime)
				out, err := build.Build(cmd.Context(), build.Options{Dir: dir, Runtime: m.Runtime, Output: m.Entry})
				if err != nil {
					return err
				}
				sum, size, err := fileDigest(out)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "built %s  %d bytes  sha256:%s\n", out, size, sum)
			}
			return nil
		},
	}
}

func versionString(m *manifest.Manifest) string {
	if m.Version == nil {
		return "(no version)"
	}
	return m.Version.String()
}

func fileDigest(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

var errNoInput = errors.New("no input: pass --input JSON or --input @FILE")
