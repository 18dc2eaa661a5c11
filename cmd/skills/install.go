package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/skillsdev/skills/marketplace/install"
	"github.com/skillsdev/skills/sdk/manifest"
)

// installFlags are the flags shared by install, upgrade and pin.
type installFlags struct {
	src    sourceFlags
	flags  install.Flags
	asJSON bool
}

func (f *installFlags) add(cmd *cobra.Command, frozen bool) {
	f.src.add(cmd)
	cmd.Flags().BoolVar(&f.flags.DryRun, "dry-run", false, "resolve and show what would be installed; change nothing")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, `print {"install":[{"name","version","sha256","runtime"}]} in install order`)
	cmd.Flags().BoolVar(&f.flags.AllowDeprecated, "allow-deprecated", false, "install deprecated versions even after their sunset date")
	if frozen {
		cmd.Flags().BoolVar(&f.flags.Frozen, "frozen", false, "install exactly the versions in skills.lock (fetching missing store entries), or fail without writing")
	}
}

func newInstallCmd(a *app) *cobra.Command {
	var f installFlags
	cmd := &cobra.Command{
		Use:   "install [NAME[@CONSTRAINT]...]",
		Short: "Install skills and their dependencies from the registries",
		Long: `install resolves the named skills together with everything already installed,
downloads what is missing (verifying each package's length and SHA-256 against
the signed index while it streams), unpacks it into the store
($SKILLS_HOME/store/<sha256>/) and then writes skills.lock, the single commit
point: an install that fails or is killed leaves the previous state as it was.

CONSTRAINT is a semver range (^1.2, ~1.2.3, >=1.0.0 <2.0.0) or an exact
version. A NAME without one is recorded as ^VERSION of the version chosen.
Versions already installed are kept when they still fit (upgrade moves them).
With no NAME, install installs what skills.lock requests.

Registries: those in $SKILLS_HOME/registries.json by priority, then the
bundled one; --registry uses one alone.`,
		Example: `  skills install report
  skills install 'summarize@^1.2' --dry-run --json
  skills install --frozen
  skills install report --registry ./registry --key ops.pub`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var wants []install.Want
			for _, s := range args {
				w, err := install.ParseWant(s)
				if err != nil {
					return usageError{err}
				}
				wants = append(wants, w)
			}
			home, err := a.homeDir()
			if err != nil {
				return err
			}
			m, p, err := a.manager(home, f.src)
			if err != nil {
				return err
			}
			res, err := m.Install(cmd.Context(), wants, f.flags)
			p.done()
			if err != nil {
				return err
			}
			return a.report(res, f)
		},
	}
	f.add(cmd, true)
	return cmd
}

func newUpgradeCmd(a *app) *cobra.Command {
	var f installFlags
	cmd := &cobra.Command{
		Use:   "upgrade [NAME...]",
		Short: "Move installed skills to the newest versions their constraints allow",
		Long: `upgrade re-resolves without preferring the installed versions of the named
skills (of every skill when none is named). Requested constraints and pins
hold: a pinned skill stays at its pinned version.`,
		Example: "  skills upgrade\n  skills upgrade wordcount --dry-run",
		RunE: func(cmd *cobra.Command, args []string) error {
			home, err := a.homeDir()
			if err != nil {
				return err
			}
			m, p, err := a.manager(home, f.src)
			if err != nil {
				return err
			}
			res, err := m.Upgrade(cmd.Context(), args, f.flags)
			p.done()
			if err != nil {
				return err
			}
			return a.report(res, f)
		},
	}
	f.add(cmd, false)
	return cmd
}

func newPinCmd(a *app) *cobra.Command {
	var (
		f      installFlags
		reason string
	)
	cmd := &cobra.Command{
		Use:   "pin NAME@VERSION [--reason TEXT]",
		Short: "Hold a skill at exactly one version (installing it if needed)",
		Long: `pin records in skills.lock that NAME stays at VERSION, with the time and the
reason, and installs that version if another one (or none) is installed.
install and upgrade keep a pinned skill exactly where it is until unpin.
A version that does not exist is refused with the list of versions; a pin that
another installed skill's constraint excludes is explained by the resolver.`,
		Example: `  skills pin summarize@1.0.0 --reason "1.1 changes the output format"`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, version, ok := strings.Cut(args[0], "@")
			if !ok || name == "" || version == "" {
				return usageError{fmt.Errorf("pin %q: want NAME@VERSION, e.g. summarize@1.0.0", args[0])}
			}
			home, err := a.homeDir()
			if err != nil {
				return err
			}
			m, p, err := a.manager(home, f.src)
			if err != nil {
				return err
			}
			res, err := m.Pin(cmd.Context(), name, version, reason, f.flags)
			p.done()
			if err != nil {
				return err
			}
			if err := a.report(res, f); err != nil {
				return err
			}
			if !f.flags.DryRun && !f.asJSON {
				fmt.Fprintf(a.stdout, "pinned %s at %s\n", name, version)
			}
			return nil
		},
	}
	f.add(cmd, false)
	cmd.Flags().StringVar(&reason, "reason", "", "why it is pinned (shown by list and outdated)")
	return cmd
}

func newUnpinCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "unpin NAME",
		Short: "Remove a pin (the installed version stays until the next upgrade)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			home, err := a.homeDir()
			if err != nil {
				return err
			}
			m, err := install.New(install.Options{Home: home, Events: newInstallProgress(a.stderr).event})
			if err != nil {
				return err
			}
			pin, err := m.Unpin(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "unpinned %s (was pinned at %s since %s)\n", args[0], pin.Version, pin.Time.UTC().Format("2006-01-02"))
			return nil
		},
	}
}

func newUninstallCmd(a *app) *cobra.Command {
	var withDependents bool
	cmd := &cobra.Command{
		Use:   "uninstall NAME [--with-dependents]",
		Short: "Remove an installed skill and the dependencies nothing else needs",
		Long: `uninstall removes NAME from skills.lock, with the dependencies no remaining skill
needs, and then their store entries. It refuses while other installed skills
require NAME, naming them, unless --with-dependents, which removes those too.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			home, err := a.homeDir()
			if err != nil {
				return err
			}
			m, err := install.New(install.Options{Home: home, Events: newInstallProgress(a.stderr).event})
			if err != nil {
				return err
			}
			res, err := m.Uninstall(cmd.Context(), args[0], withDependents)
			if err != nil {
				return err
			}
			for _, r := range res.Removed {
				fmt.Fprintf(a.stdout, "removed %s\n", r)
			}
			a.warn(res.Warnings)
			return nil
		},
	}
	cmd.Flags().BoolVar(&withDependents, "with-dependents", false, "also remove the installed skills that require NAME")
	return cmd
}

// planJSON is the --json shape of install, upgrade and pin.
type planJSON struct {
	Install []planStep `json:"install"`
}

type planStep struct {
	Name    string           `json:"name"`
	Version string           `json:"version"`
	SHA256  string           `json:"sha256"`
	Runtime manifest.Runtime `json:"runtime"`
}

// report prints what a change did (or, for a dry run, would do): the steps
// in install order, removals, and warnings on stderr.
func (a *app) report(res *install.Result, f installFlags) error {
	a.warn(res.Warnings)
	steps := res.Installs()
	if f.asJSON {
		out := planJSON{Install: []planStep{}}
		for _, s := range steps {
			out.Install = append(out.Install, planStep{Name: s.Name, Version: s.Version, SHA256: s.SHA256, Runtime: s.Runtime})
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	verb := func(s string) string { return s }
	if f.flags.DryRun {
		verb = func(s string) string { return "would " + s }
	}
	for _, s := range steps {
		switch s.Action {
		case install.ActionUpgrade, install.ActionDowngrade:
			fmt.Fprintf(a.stdout, "%s %s %s -> %s\n", verb(string(s.Action)), s.Name, s.From, s.Version)
		case install.ActionFetch:
			fmt.Fprintf(a.stdout, "%s %s %s (store entry restored)\n", verb("fetch"), s.Name, s.Version)
		default:
			fmt.Fprintf(a.stdout, "%s %s %s\n", verb("install"), s.Name, s.Version)
		}
	}
	for _, r := range res.Removed {
		fmt.Fprintf(a.stdout, "%s %s\n", verb("remove"), r)
	}
	if len(steps) == 0 && len(res.Removed) == 0 {
		if res.Changed && !f.flags.DryRun {
			fmt.Fprintln(a.stdout, "updated skills.lock; nothing to download")
		} else if !res.Changed {
			fmt.Fprintf(a.stdout, "nothing to do: %d skill(s) installed and up to date with the lock\n", len(res.Order))
		}
	}
	return nil
}

// warn prints warnings on stderr.
func (a *app) warn(ws []string) {
	for _, w := range ws {
		fmt.Fprintf(a.stderr, "warning: %s\n", w)
	}
}
