package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/skillsdev/skills/marketplace/publish"
	"github.com/skillsdev/skills/marketplace/registry"
	"github.com/spf13/cobra"
)

func newRegistryCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Configure registries (add, list, remove) and sign a registry folder",
		Long: `registry manages the registries this skills home installs from
($SKILLS_HOME/registries.json: name, URL, verifier keys, priority; higher
priority first) and signs a registry folder's index.`,
	}
	cmd.AddCommand(newRegistryAddCmd(a), newRegistryListCmd(a), newRegistryRemoveCmd(a), newRegistrySignCmd(a))
	return cmd
}

func newRegistryAddCmd(a *app) *cobra.Command {
	var (
		keys     []string
		priority int
		noVerify bool
	)
	cmd := &cobra.Command{
		Use:   "add NAME URL --key KEY [--priority N]",
		Short: "Add a registry: a folder, file:// or http(s):// URL, and its verifier key",
		Long: `add records a registry in $SKILLS_HOME/registries.json. URL is a folder path, a
file:// URL or an http(s):// URL of the folder holding index.json and
index.json.sig. --key is the verifier key (name+hash+data) or a .pub file holding
it; repeat it to trust several keys (during a key rotation). Only these keys are
trusted for this registry.

Before adding, add fetches the index once and verifies its signature and expiry,
so that a wrong URL or key is caught now rather than at install time
(--no-verify skips this, e.g. for a registry not reachable yet).`,
		Example: `  skills registry add team https://skills.example.com/ --key team.pub --priority 10
  skills registry add local ./registry --key 'ops+1a2b3c4d+AbC...'`,
		Args: args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(keys) == 0 {
				return usageError{errors.New("--key is required: the registry's verifier key, or a .pub file holding it")}
			}
			home, err := a.homeDir()
			if err != nil {
				return err
			}
			c := registry.Config{Name: args[0], URL: args[1], Priority: priority}
			for _, k := range keys {
				ks, err := readVerifierKeys(k)
				if err != nil {
					return err
				}
				for _, k := range ks {
					if !slices.Contains(c.Keys, k) {
						c.Keys = append(c.Keys, k)
					}
				}
			}
			if err := c.Validate(); err != nil {
				return err
			}
			if !noVerify {
				// A throwaway state folder: this check must not write the
				// freshness record that real installs rely on.
				state, err := os.MkdirTemp("", "skills-registry-check-*")
				if err != nil {
					return err
				}
				defer os.RemoveAll(state)
				r, err := registry.New(c, registry.Options{StateDir: state})
				if err != nil {
					return err
				}
				f, err := r.Fetch(cmd.Context())
				if err != nil {
					return fmt.Errorf("add registry %s: %w (fix the URL or key, or pass --no-verify)", c.Name, err)
				}
				fmt.Fprintf(a.stderr, "verified %s: index version %d, %d skills, signed by %s\n", r.Location(), f.Index.Version, len(f.Index.Skills), f.Signed.Key())
			}
			if err := registry.Add(home, c); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "added registry %s (%s, priority %d, %d key(s))\n", c.Name, c.URL, c.Priority, len(c.Keys))
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&keys, "key", nil, "verifier key, or a .pub file holding verifier keys (repeatable; required)")
	cmd.Flags().IntVar(&priority, "priority", 0, "higher is consulted first when several registries offer a skill")
	cmd.Flags().BoolVar(&noVerify, "no-verify", false, "add without fetching and verifying the index now")
	return cmd
}

// readVerifierKeys takes a verifier key itself, or the path of a file
// holding verifier keys one per line (blank lines and # comments ignored),
// as in $SKILLS_HOME/trust/*.pub.
func readVerifierKeys(arg string) ([]string, error) {
	if strings.HasPrefix(arg, "PRIVATE+KEY+") {
		return nil, errors.New("--key: this is a secret signer key; give the verifier key (the .pub file) instead, and keep the signer key private")
	}
	st, err := os.Stat(arg)
	if err != nil {
		if looksLikePath(arg) {
			return nil, fmt.Errorf("--key %s: %w", arg, err)
		}
		return []string{arg}, nil // a key; Config.Validate checks its form
	}
	if !st.Mode().IsRegular() || st.Size() > 64<<10 {
		return nil, fmt.Errorf("--key %s: not a key file", arg)
	}
	data, err := os.ReadFile(arg)
	if err != nil {
		return nil, fmt.Errorf("--key %s: %w", arg, err)
	}
	var keys []string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if strings.HasPrefix(s, "PRIVATE+KEY+") {
			return nil, fmt.Errorf("--key %s:%d: a secret signer key; give the .pub file instead", arg, line)
		}
		keys = append(keys, s)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("--key %s: no verifier key in the file", arg)
	}
	return keys, nil
}

// looksLikePath tells a mistyped file name from a key: keys have no path
// separators or .pub suffix (their base64 part may contain '/', but always
// after two '+').
func looksLikePath(s string) bool {
	if strings.HasSuffix(s, ".pub") {
		return true
	}
	return strings.Count(s, "+") < 2 && strings.ContainsRune(s, filepath.Separator)
}

func newRegistryListCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the configured registries, highest priority first",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			home, err := a.homeDir()
			if err != nil {
				return err
			}
			cs, err := registry.List(home)
			if err != nil {
				return err
			}
			if asJSON {
				if cs == nil {
					cs = []registry.Config{}
				}
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Registries []registry.Config `json:"registries"`
				}{cs})
			}
			if len(cs) == 0 {
				fmt.Fprintf(a.stdout, "no registries configured in %s\n", filepath.Join(home, registry.ConfigFile))
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tPRIORITY\tURL\tKEYS")
			for _, c := range cs {
				ids := make([]string, len(c.Keys))
				for i, k := range c.Keys {
					ids[i] = verifierKeyID(k)
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", c.Name, c.Priority, c.URL, strings.Join(ids, ", "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {\"registries\": [{name, url, keys, priority}]}")
	return cmd
}

// verifierKeyID shortens a verifier key "name+hash+data" to "name+hash".
func verifierKeyID(vkey string) string {
	if i := strings.LastIndexByte(vkey, '+'); i > 0 {
		return vkey[:i]
	}
	return vkey
}

func newRegistryRemoveCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a configured registry",
		Long: `remove deletes the registry from registries.json. Installed skills stay installed.
Its freshness record is kept, so adding it again cannot reopen the door to an
index rollback.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			home, err := a.homeDir()
			if err != nil {
				return err
			}
			if err := registry.Remove(home, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "removed registry %s\n", args[0])
			return nil
		},
	}
}

func newRegistrySignCmd(a *app) *cobra.Command {
	var sf signingFlags
	cmd := &cobra.Command{
		Use:   "sign DIR --key FILE",
		Short: "Sign DIR/index.json as it is (after editing it by hand)",
		Long: `sign writes DIR/index.json.sig for DIR/index.json without changing the index: not
its version, not its expiry. Use it after editing index.json by hand. The index
must parse and validate, its artifacts in DIR must match their sizes and hashes,
"expires" must be in the future, and if the bytes changed since the last
signature its "version" must be higher than the signed one (clients refuse new
bytes under a version they have seen). The key must be the one that signed the
index before, unless --rotate-key.`,
		Example: "  skills registry sign ./registry --key ops.key",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := sf.options(cmd, false)
			if err != nil {
				return err
			}
			res, err := publish.Sign(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(a.stderr, "skills: %s\n", w)
			}
			if res.Changed {
				fmt.Fprintf(a.stdout, "signed %s: index version %d, expires %s, by %s\n",
					filepath.Join(args[0], publish.IndexFile), res.Version, res.Expires.UTC().Format("2006-01-02T15:04:05Z07:00"), res.KeyID)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&sf.key, "key", "", "the registry's signer key file (required)")
	cmd.Flags().BoolVar(&sf.rotate, "rotate-key", false, "allow signing an index last signed by another key")
	return cmd
}
