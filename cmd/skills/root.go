package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// app is the state shared by the commands of one invocation.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	home           string
	verbose        bool
}

// homeDir returns the skills home: --home, $SKILLS_HOME, or ~/.skills.
func (a *app) homeDir() (string, error) {
	if a.home != "" {
		return filepath.Abs(a.home)
	}
	if h := os.Getenv("SKILLS_HOME"); h != "" {
		return filepath.Abs(h)
	}
	u, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the skills home: %w (set --home or SKILLS_HOME)", err)
	}
	return filepath.Join(u, ".skills"), nil
}

// logger logs to stderr: warnings and up, or everything with --verbose.
func (a *app) logger() *slog.Logger {
	level := slog.LevelWarn
	if a.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
}

func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "skills",
		Short: "Build, run, install and serve agent skills",
		Long: `skills builds, runs, installs and serves agent skills: small programs an AI agent
calls as tools, shipped as WebAssembly modules (run in-process by wazero) or as
go-plugin binaries (child processes over gRPC), each described by a SKILL.md.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&a.home, "home", "", "skills home (default $SKILLS_HOME or ~/.skills)")
	root.PersistentFlags().BoolVarP(&a.verbose, "verbose", "v", false, "log debug details to stderr")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newInitCmd(a), newValidateCmd(a), newBuildCmd(a), newRunCmd(a),
		newKeygenCmd(a), newPublishCmd(a), newRegistryCmd(a),
		newDeprecateCmd(a), newUndeprecateCmd(a), newYankCmd(a), newUnyankCmd(a),
		newInstallCmd(a), newUninstallCmd(a), newUpgradeCmd(a), newPinCmd(a), newUnpinCmd(a),
		newListCmd(a), newInfoCmd(a), newSearchCmd(a), newOutdatedCmd(a), newVerifyCmd(a),
		newMCPCmd(a), newDemoCmd(a),
		newAgentCmd(a), newDevCmd(a), newAuditCmd(a),
	)
	return root
}

// args wraps a cobra positional-argument check so that its failure is a usage error.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return usageError{err}
		}
		return nil
	}
}
