package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/skillsdev/skills/reload"
	"github.com/skillsdev/skills/reload/overlay"
	"github.com/skillsdev/skills/sdk/manifest"
)

func newDevCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "dev DIR...",
		Short: "Rebuild skill folders as they change, and serve them to a watching agent",
		Long: `dev is the edit loop of a skill author. It registers each DIR (a skill folder
with a SKILL.md) in the dev overlay of the skills home, builds it when its
module is older than its Go sources, and then watches it: every save is rebuilt
(a burst of saves is one build) and the module is written atomically.

The dev overlay: each registration is a file $SKILLS_HOME/dev/NAME.json naming
the folder and this process. ` + "`skills agent --watch`" + ` on the same home watches
$SKILLS_HOME/dev/ and the registered folders and loads each dev skill in place
of the installed skill of the same name (or next to the installed ones), so an
edit lands in the running agent's next turn. A version that does not build or
does not load is reported (here, and by the agent as skill.reload_failed) and
the version before it keeps serving. A dev skill's ## Requires are served by the
installed skills, or by other folders given to the same ` + "`skills dev`" + `.

dev runs until Ctrl-C; on exit it removes its registrations, and the agent goes
back to the installed versions. Only the folder itself is watched, not
packages it imports from elsewhere.`,
		Example: `  skills dev skills/wordcount
  skills dev skills/report skills/summarize   # and, elsewhere: skills agent --watch`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDev(cmd.Context(), a, args)
		},
	}
}

func runDev(ctx context.Context, a *app, dirs []string) (err error) {
	home, err := a.homeDir()
	if err != nil {
		return err
	}
	var entries []overlay.Entry
	defer func() {
		for _, e := range entries {
			if uerr := overlay.Unregister(home, e.Name, e.Dir); uerr != nil && err == nil {
				err = uerr
			}
		}
	}()
	names := map[string]string{}
	for _, d := range dirs {
		m, err := manifest.Load(d)
		if err != nil {
			return fmt.Errorf("dev: %w", err)
		}
		if other, dup := names[m.Name]; dup {
			return usageError{fmt.Errorf("dev: %s and %s are both the skill %s", other, d, m.Name)}
		}
		names[m.Name] = d
	}
	for _, d := range dirs {
		e, err := overlay.Register(home, d, os.Getpid())
		if err != nil {
			return err
		}
		entries = append(entries, e)
	}
	w, err := reload.NewWatcher(reload.WatcherOptions{Logger: a.logger()})
	if err != nil {
		return err
	}
	defer w.Close()
	watched := make([]string, len(entries))
	for i, e := range entries {
		watched[i] = e.Dir
	}
	if _, err := w.Set(watched); err != nil {
		return err
	}
	for _, e := range entries {
		devBuild(ctx, a, e.Dir)
	}
	fmt.Fprintf(a.stderr, "watching %d skill folder(s) in the dev overlay of %s; `skills agent --watch` loads them. Ctrl-C to stop.\n", len(entries), home)
	for {
		select {
		case <-ctx.Done():
			return nil
		case ch, ok := <-w.Changes():
			if !ok {
				return errors.New("dev: file watcher stopped")
			}
			for _, d := range ch.Dirs {
				devBuild(ctx, a, d)
			}
		}
	}
}

// devBuild rebuilds a registered folder if it is stale and says what
// happened: errors on stderr, builds on stdout (and, with --verbose, the
// changes that needed no build, such as a SKILL.md edit or the build's own
// output appearing).
func devBuild(ctx context.Context, a *app, dir string) {
	t0 := time.Now()
	m, built, err := reload.Rebuild(ctx, dir)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		fmt.Fprintf(a.stderr, "%s: %v\n", filepath.Base(dir), err)
	case built:
		fmt.Fprintf(a.stdout, "built %s %s in %s\n", m.Name, versionString(m), time.Since(t0).Round(time.Millisecond))
	case a.verbose:
		fmt.Fprintf(a.stdout, "%s %s: up to date\n", m.Name, versionString(m))
	}
}
