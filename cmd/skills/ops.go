package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/skillsdev/skills/marketplace/publish"
	"github.com/spf13/cobra"
)

// signingFlags are the flags of every command that changes a registry
// folder: where it is, the key that signs it, and the expiry to set.
type signingFlags struct {
	registry string
	key      string
	rotate   bool
	expires  time.Duration
}

func (s *signingFlags) add(cmd *cobra.Command, withRegistry bool) {
	if withRegistry {
		cmd.Flags().StringVar(&s.registry, "registry", "", "registry folder to change (holds index.json; required)")
	}
	cmd.Flags().StringVar(&s.key, "key", "", "the registry's signer key file, NAME.key from skills keygen (required)")
	cmd.Flags().BoolVar(&s.rotate, "rotate-key", false, "allow signing a registry last signed by another key (clients must then trust the new key)")
	cmd.Flags().DurationVar(&s.expires, "expires", 0, "make the new index expire this long from now, e.g. 720h (default: keep the current expiry, but at least 720h from now)")
}

// options checks the flags and reads the key.
func (s *signingFlags) options(cmd *cobra.Command, withRegistry bool) (publish.Options, error) {
	if withRegistry && s.registry == "" {
		return publish.Options{}, usageError{errors.New("--registry DIR is required: the registry folder to change")}
	}
	if s.key == "" {
		return publish.Options{}, usageError{fmt.Errorf("--key FILE is required: %w (the registry's signer key, from skills keygen)", publish.ErrNoKey)}
	}
	k, err := publish.ReadKey(s.key)
	if err != nil {
		return publish.Options{}, err
	}
	o := publish.Options{Key: k, RotateKey: s.rotate}
	if cmd.Flags().Changed("expires") {
		if s.expires <= 0 {
			return publish.Options{}, usageError{fmt.Errorf("--expires %s: want a positive duration such as 720h", s.expires)}
		}
		o.Expires = s.expires
	}
	return o, nil
}

// printResult reports a change: its warnings on stderr, the index version
// and signer on stdout.
func (a *app) printResult(dir string, res *publish.Result) {
	for _, w := range res.Warnings {
		fmt.Fprintf(a.stderr, "skills: warning: %s\n", w)
	}
	if !res.Changed {
		fmt.Fprintf(a.stdout, "registry %s: unchanged (index version %d)\n", dir, res.Version)
		return
	}
	fmt.Fprintf(a.stdout, "registry %s: index version %d -> %d, expires %s, signed by %s\n",
		dir, res.Previous, res.Version, res.Expires.UTC().Format(time.RFC3339), res.KeyID)
}

func newDeprecateCmd(a *app) *cobra.Command {
	var sf signingFlags
	var d publish.Deprecation
	cmd := &cobra.Command{
		Use:   "deprecate NAME[@RANGE] --message M [--replacement NAME[@RANGE]] [--sunset DATE] --registry DIR --key FILE",
		Short: "Mark published versions deprecated in a registry folder (signed)",
		Long: `deprecate marks the versions of a skill that RANGE selects (all of them for a bare
NAME) as deprecated: clients still install them, with a warning naming the
message, the replacement and the sunset date; after the sunset date new installs
are refused unless --allow-deprecated. The replacement must exist in this
registry with an installable version. --sunset takes a date (2027-01-31) or an
RFC 3339 time (stored as its UTC date). The index version is bumped and the index
re-signed; nothing is deleted, and the index keeps a history of every change.`,
		Example: `  skills deprecate summarize@^1 --message "use summarize 2: better sentence splitting" \
      --replacement summarize@^2 --sunset 2027-06-30 --registry ./registry --key ops.key`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := sf.options(cmd, true)
			if err != nil {
				return err
			}
			if strings.TrimSpace(d.Message) == "" {
				return usageError{errors.New("--message is required: say why, and what to use instead")}
			}
			res, err := publish.Deprecate(cmd.Context(), sf.registry, args[0], d, o)
			if err != nil {
				return err
			}
			extra := ""
			if d.Replacement != "" {
				extra += ", replacement " + d.Replacement
			}
			if d.Sunset != "" {
				sunset, _ := publish.ParseSunset(d.Sunset)
				extra += ", sunset " + sunset
			}
			fmt.Fprintf(a.stdout, "deprecated %s%s\n", strings.Join(res.Releases, ", "), extra)
			a.printResult(sf.registry, res)
			return nil
		},
	}
	cmd.Flags().StringVar(&d.Message, "message", "", "why, and what to do instead (required)")
	cmd.Flags().StringVar(&d.Replacement, "replacement", "", "skill to use instead, NAME or NAME@RANGE; must exist in this registry")
	cmd.Flags().StringVar(&d.Sunset, "sunset", "", "date after which new installs are refused: YYYY-MM-DD or RFC 3339")
	sf.add(cmd, true)
	return cmd
}

func newUndeprecateCmd(a *app) *cobra.Command {
	var sf signingFlags
	var reason string
	cmd := &cobra.Command{
		Use:   "undeprecate NAME[@RANGE] --registry DIR --key FILE [--reason TEXT]",
		Short: "Remove the deprecation of published versions (signed)",
		Long: `undeprecate removes the deprecation of the versions RANGE selects that are
deprecated (all versions for a bare NAME). The index keeps the deprecation and
its removal in each version's history.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := sf.options(cmd, true)
			if err != nil {
				return err
			}
			res, err := publish.Undeprecate(cmd.Context(), sf.registry, args[0], reason, o)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "undeprecated %s\n", strings.Join(res.Releases, ", "))
			a.printResult(sf.registry, res)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the history)")
	sf.add(cmd, true)
	return cmd
}

func newYankCmd(a *app) *cobra.Command {
	return yankCmd(a, true)
}

func newUnyankCmd(a *app) *cobra.Command {
	return yankCmd(a, false)
}

func yankCmd(a *app, yank bool) *cobra.Command {
	var sf signingFlags
	var reason string
	cmd := &cobra.Command{
		Use:   "yank NAME@VERSION --registry DIR --key FILE [--reason TEXT]",
		Short: "Withdraw a published version: new resolutions skip it (signed)",
		Long: `yank withdraws one version: new resolutions skip it, while installs that pin it
exactly or already have it locked keep working (install --frozen still works).
The version is not deleted; unyank restores it. The index version is bumped and
the index re-signed.`,
		Example: `  skills yank report@1.0.1 --reason "crashes on empty files" --registry ./registry --key ops.key`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := sf.options(cmd, true)
			if err != nil {
				return err
			}
			op, verb := publish.Yank, "yanked"
			if !yank {
				op, verb = publish.Unyank, "unyanked"
			}
			res, err := op(cmd.Context(), sf.registry, args[0], reason, o)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s %s\n", verb, strings.Join(res.Releases, ", "))
			a.printResult(sf.registry, res)
			return nil
		},
	}
	if !yank {
		cmd.Use = "unyank NAME@VERSION --registry DIR --key FILE [--reason TEXT]"
		cmd.Short = "Restore a yanked version (signed)"
		cmd.Long = `unyank makes a yanked version resolvable again. The yank and its removal stay in
the version's history. The index version is bumped and the index re-signed.`
		cmd.Example = ""
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the index)")
	sf.add(cmd, true)
	return cmd
}
