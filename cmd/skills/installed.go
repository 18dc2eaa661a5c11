package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/marketplace/catalog"
	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/install"
	"github.com/skillsdev/skills/marketplace/lock"
)

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

type pinJSON struct {
	Version string    `json:"version"`
	Reason  string    `json:"reason,omitempty"`
	Time    time.Time `json:"time"`
}

func pinOf(p *lock.Pin) *pinJSON {
	if p == nil {
		return nil
	}
	return &pinJSON{Version: p.Version, Reason: p.Reason, Time: p.Time.UTC()}
}

func newListCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the installed skills, with their pins",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			home, err := a.homeDir()
			if err != nil {
				return err
			}
			l, err := lock.Load(home)
			if err != nil {
				return err
			}
			if asJSON {
				type item struct {
					Name      string   `json:"name"`
					Version   string   `json:"version"`
					Runtime   string   `json:"runtime"`
					Registry  string   `json:"registry"`
					Requested string   `json:"requested,omitempty"`
					Pinned    *pinJSON `json:"pinned,omitempty"`
					SHA256    string   `json:"sha256"`
					Installed string   `json:"installed"`
				}
				out := struct {
					Skills []item `json:"skills"`
				}{Skills: []item{}}
				for _, n := range l.Names() {
					e := l.Skills[n]
					out.Skills = append(out.Skills, item{Name: n, Version: e.Version, Runtime: string(e.Runtime), Registry: e.Registry,
						Requested: e.Requested, Pinned: pinOf(e.Pinned), SHA256: e.SHA256, Installed: e.Installed.UTC().Format(time.RFC3339)})
				}
				return printJSON(a.stdout, out)
			}
			if len(l.Skills) == 0 {
				fmt.Fprintln(a.stdout, "no skills installed")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tRUNTIME\tREGISTRY\tREQUESTED\tPINNED")
			for _, n := range l.Names() {
				e := l.Skills[n]
				req := e.Requested
				if req == "" {
					req = "(dependency)"
				}
				pin := "-"
				if p := e.Pinned; p != nil {
					pin = p.Version + " since " + p.Time.UTC().Format("2006-01-02")
					if p.Reason != "" {
						pin += ": " + p.Reason
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", n, e.Version, e.Runtime, e.Registry, req, pin)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {\"skills\": [...]}")
	return cmd
}

func newVerifyCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Re-hash the installed files against skills.lock",
		Long: `verify re-hashes every file of every installed skill's store entry and compares
it with the SHA-256 recorded in skills.lock. It names every modified, missing or
unexpected file and exits with status 1 if there is any. ` + "`skills install --frozen`" + `
restores damaged entries from the registries.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			home, err := a.homeDir()
			if err != nil {
				return err
			}
			probs, n, err := install.Verify(home)
			if err != nil {
				return err
			}
			for _, p := range probs {
				fmt.Fprintln(a.stdout, p.String())
			}
			if len(probs) > 0 {
				return exitError{code: 1, err: fmt.Errorf("verify: %d problem(s); run `skills install --frozen` to restore the installed files", len(probs))}
			}
			fmt.Fprintf(a.stdout, "verified %d skill(s): every file matches skills.lock\n", n)
			return nil
		},
	}
}

func newSearchCmd(a *app) *cobra.Command {
	var (
		src    sourceFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "search QUERY",
		Short: "Find skills by name and description in the registries",
		Long:  "search lists the skills whose name or description contains every word of QUERY (case-insensitive).",
		Args:  args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			home, err := a.homeDir()
			if err != nil {
				return err
			}
			regs, err := a.registries(home, src)
			if err != nil {
				return err
			}
			cat, err := catalog.Fetch(cmd.Context(), regs)
			if err != nil {
				return err
			}
			hits := cat.Search(strings.Join(args, " "))
			if asJSON {
				type hit struct {
					Name        string `json:"name"`
					Latest      string `json:"latest"`
					Registry    string `json:"registry"`
					Description string `json:"description"`
				}
				out := struct {
					Skills []hit `json:"skills"`
				}{Skills: []hit{}}
				for _, h := range hits {
					out.Skills = append(out.Skills, hit{h.Name, h.Latest, h.Registry, h.Description})
				}
				return printJSON(a.stdout, out)
			}
			if len(hits) == 0 {
				fmt.Fprintf(a.stdout, "no skill matches %q\n", strings.Join(args, " "))
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tLATEST\tREGISTRY\tDESCRIPTION")
			for _, h := range hits {
				latest := h.Latest
				if latest == "" {
					latest = "(all yanked)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.Name, latest, h.Registry, abbreviate(h.Description, 70))
			}
			return tw.Flush()
		},
	}
	src.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {\"skills\": [{name, latest, registry, description}]}")
	return cmd
}

func newInfoCmd(a *app) *cobra.Command {
	var (
		src    sourceFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "info NAME",
		Short: "Show a skill's versions, requirements, hashes, deprecations and yanks",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			home, err := a.homeDir()
			if err != nil {
				return err
			}
			l, err := lock.Load(home)
			if err != nil {
				return err
			}
			regs, err := a.registries(home, src)
			if err != nil {
				return err
			}
			cat, err := catalog.Fetch(cmd.Context(), regs)
			if err != nil {
				return err
			}
			r, sk := cat.Find(name)
			if sk == nil {
				return cat.Check(name)
			}
			info := infoOf(name, r.Name(), sk, l.Skills[name])
			if asJSON {
				return printJSON(a.stdout, info)
			}
			printInfo(a.stdout, info)
			return nil
		},
	}
	src.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the information as JSON")
	return cmd
}

type (
	infoJSON struct {
		Name        string        `json:"name"`
		Registry    string        `json:"registry"`
		Description string        `json:"description"`
		Installed   *installedRef `json:"installed,omitempty"`
		Versions    []versionJSON `json:"versions"` // newest first
	}
	installedRef struct {
		Version string   `json:"version"`
		SHA256  string   `json:"sha256"`
		Pinned  *pinJSON `json:"pinned,omitempty"`
	}
	versionJSON struct {
		Version      string              `json:"version"`
		Runtime      string              `json:"runtime"`
		Published    time.Time           `json:"published"`
		Requirements []index.Requirement `json:"requirements"`
		Artifacts    []artifactJSON      `json:"artifacts"`
		Deprecated   *deprecationJSON    `json:"deprecated,omitempty"`
		Yanked       *yankJSON           `json:"yanked,omitempty"`
		History      []eventJSON         `json:"history,omitempty"`
	}
	artifactJSON struct {
		Platform string `json:"platform"`
		SHA256   string `json:"sha256"`
		Size     int64  `json:"size"`
		URL      string `json:"url"`
	}
	deprecationJSON struct {
		Message     string     `json:"message"`
		Replacement string     `json:"replacement,omitempty"`
		Sunset      string     `json:"sunset,omitempty"`
		Time        *time.Time `json:"time,omitempty"`
	}
	yankJSON struct {
		Reason string    `json:"reason"`
		Time   time.Time `json:"time"`
	}
	eventJSON struct {
		Action string    `json:"action"`
		Time   time.Time `json:"time"`
		Reason string    `json:"reason,omitempty"`
	}
)

func infoOf(name, reg string, sk *index.Skill, e *lock.Entry) infoJSON {
	out := infoJSON{Name: name, Registry: reg, Description: sk.Description, Versions: []versionJSON{}}
	if e != nil {
		out.Installed = &installedRef{Version: e.Version, SHA256: e.SHA256, Pinned: pinOf(e.Pinned)}
	}
	vs := sk.Sorted()
	for i := len(vs) - 1; i >= 0; i-- {
		rel := sk.Versions[vs[i]]
		v := versionJSON{Version: vs[i], Runtime: string(rel.Runtime), Published: rel.Published.UTC(), Requirements: rel.Requirements}
		if v.Requirements == nil {
			v.Requirements = []index.Requirement{}
		}
		plats := make([]string, 0, len(rel.Artifacts))
		for p := range rel.Artifacts {
			plats = append(plats, p)
		}
		sort.Strings(plats)
		for _, p := range plats {
			art := rel.Artifacts[p]
			v.Artifacts = append(v.Artifacts, artifactJSON{Platform: p, SHA256: art.SHA256, Size: art.Size, URL: art.URL})
		}
		if d := rel.Deprecated; d != nil {
			v.Deprecated = &deprecationJSON{Message: d.Message, Replacement: catalog.Replacement(d), Sunset: d.Sunset}
			if !d.Time.IsZero() {
				t := d.Time.UTC()
				v.Deprecated.Time = &t
			}
		}
		if y := rel.Yanked; y != nil {
			v.Yanked = &yankJSON{Reason: y.Reason, Time: y.Time.UTC()}
		}
		for _, ev := range rel.History {
			v.History = append(v.History, eventJSON{Action: string(ev.Action), Time: ev.Time.UTC(), Reason: ev.Reason})
		}
		out.Versions = append(out.Versions, v)
	}
	return out
}

func printInfo(w io.Writer, info infoJSON) {
	fmt.Fprintf(w, "%s (registry %s)\n%s\n", info.Name, info.Registry, info.Description)
	if in := info.Installed; in != nil {
		fmt.Fprintf(w, "installed: %s (package sha256 %s)", in.Version, in.SHA256)
		if p := in.Pinned; p != nil {
			fmt.Fprintf(w, ", pinned since %s", p.Time.Format("2006-01-02"))
			if p.Reason != "" {
				fmt.Fprintf(w, ": %s", p.Reason)
			}
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintln(w, "installed: no")
	}
	for _, v := range info.Versions {
		mark := ""
		if info.Installed != nil && info.Installed.Version == v.Version {
			mark = "  [installed]"
		}
		fmt.Fprintf(w, "\n%s  %s  published %s%s\n", v.Version, v.Runtime, v.Published.Format("2006-01-02"), mark)
		if len(v.Requirements) > 0 {
			var rs []string
			for _, q := range v.Requirements {
				rs = append(rs, q.Name+" "+q.Constraint)
			}
			fmt.Fprintf(w, "  requires: %s\n", strings.Join(rs, ", "))
		}
		for _, art := range v.Artifacts {
			fmt.Fprintf(w, "  %s: sha256 %s, %s\n", art.Platform, art.SHA256, sizeString(art.Size))
		}
		if d := v.Deprecated; d != nil {
			fmt.Fprintf(w, "  DEPRECATED: %s", d.Message)
			if d.Replacement != "" {
				fmt.Fprintf(w, "; use %s instead", d.Replacement)
			}
			if d.Sunset != "" {
				fmt.Fprintf(w, "; sunset %s", d.Sunset)
			}
			fmt.Fprintln(w)
		}
		if y := v.Yanked; y != nil {
			fmt.Fprintf(w, "  YANKED %s: %s\n", y.Time.Format("2006-01-02"), y.Reason)
		}
		for _, ev := range v.History {
			fmt.Fprintf(w, "  history: %s %s", ev.Time.Format("2006-01-02"), ev.Action)
			if ev.Reason != "" {
				fmt.Fprintf(w, ": %s", ev.Reason)
			}
			fmt.Fprintln(w)
		}
	}
}

func newOutdatedCmd(a *app) *cobra.Command {
	var (
		src    sourceFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "outdated [--json]",
		Short: "Compare installed versions with what the registries offer",
		Long: `outdated shows, for every installed skill: CURRENT, the installed version;
WANTED, the newest version that its requested constraint, the constraints of
the skills requiring it and its pin allow (what ` + "`skills upgrade`" + ` would choose);
LATEST, the newest version published; and its state: pinned (with the reason),
deprecated (with the replacement and sunset) or yanked (with the reason).`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			home, err := a.homeDir()
			if err != nil {
				return err
			}
			l, err := lock.Load(home)
			if err != nil {
				return err
			}
			regs, err := a.registries(home, src)
			if err != nil {
				return err
			}
			cat, err := catalog.Fetch(cmd.Context(), regs)
			if err != nil {
				return err
			}
			rows := install.Outdated(l, cat)
			if asJSON {
				type row struct {
					Name       string           `json:"name"`
					Current    string           `json:"current"`
					Wanted     string           `json:"wanted"`
					Latest     string           `json:"latest"`
					Registry   string           `json:"registry,omitempty"`
					Pinned     *pinJSON         `json:"pinned,omitempty"`
					Deprecated *deprecationJSON `json:"deprecated,omitempty"`
					Yanked     *yankJSON        `json:"yanked,omitempty"`
					Missing    bool             `json:"missing,omitempty"`
				}
				out := struct {
					Skills []row `json:"skills"`
				}{Skills: []row{}}
				for _, s := range rows {
					r := row{Name: s.Name, Current: s.Current, Wanted: s.Wanted, Latest: s.Latest, Registry: s.Registry, Pinned: pinOf(s.Pinned), Missing: s.Missing}
					if d := s.Deprecated; d != nil {
						r.Deprecated = &deprecationJSON{Message: d.Message, Replacement: catalog.Replacement(d), Sunset: d.Sunset}
					}
					if y := s.Yanked; y != nil {
						r.Yanked = &yankJSON{Reason: y.Reason, Time: y.Time.UTC()}
					}
					out.Skills = append(out.Skills, r)
				}
				return printJSON(a.stdout, out)
			}
			if len(rows) == 0 {
				fmt.Fprintln(a.stdout, "no skills installed")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tCURRENT\tWANTED\tLATEST\tSTATE")
			for _, s := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Current, dash(s.Wanted), dash(s.Latest), stateOf(s))
			}
			return tw.Flush()
		},
	}
	src.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {\"skills\": [...]}")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func stateOf(s install.Status) string {
	var parts []string
	if p := s.Pinned; p != nil {
		msg := "pinned"
		if p.Reason != "" {
			msg += " (" + p.Reason + ")"
		}
		parts = append(parts, msg)
	}
	if d := s.Deprecated; d != nil {
		msg := "deprecated: " + d.Message
		if r := catalog.Replacement(d); r != "" {
			msg += "; use " + r
		}
		if d.Sunset != "" {
			msg += "; sunset " + d.Sunset
		}
		parts = append(parts, msg)
	}
	if y := s.Yanked; y != nil {
		parts = append(parts, "yanked: "+y.Reason)
	}
	if s.Missing {
		parts = append(parts, "no longer listed by any registry")
	}
	if len(parts) == 0 {
		if s.Current == s.Latest {
			return "up to date"
		}
		return "-"
	}
	return strings.Join(parts, "; ")
}

// installedSources returns every installed skill as a host source: the
// store entry, its manifest, the artifact digest the lock records (the host
// refuses a file with another), and the registry's deprecation when the
// registries can be read.
func installedSources(ctx context.Context, a *app, home string) ([]host.Source, error) {
	cat := a.bestEffortCatalog(ctx, home)
	skills, err := install.Installed(home, cat)
	if err != nil {
		return nil, err
	}
	out := make([]host.Source, 0, len(skills))
	for _, s := range skills {
		src := host.Source{Dir: s.Dir, Manifest: s.Manifest, SHA256: s.ArtifactSHA256, Origin: s.Registry + " " + s.Version}
		if d := s.Deprecated; d != nil {
			src.Deprecated = &host.Deprecation{Message: d.Message, Replacement: catalog.Replacement(d), Sunset: d.Sunset}
		}
		out = append(out, src)
	}
	return out, nil
}
