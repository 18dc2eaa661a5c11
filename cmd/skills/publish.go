package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/skillsdev/skills/marketplace/publish"
	"github.com/skillsdev/skills/marketplace/sign"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newKeygenCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen NAME [--out DIR]",
		Short: "Create a registry signing key pair: NAME.key (secret) and NAME.pub",
		Long: `keygen writes DIR/NAME.key, the Ed25519 signer key (mode 0600: keep it secret,
ideally offline), and DIR/NAME.pub, the verifier key that clients trust
(skills registry add NAME URL --key NAME.pub). It prints the verifier key. It
never overwrites an existing key. NAME is also the key's name inside signatures;
a registry's host name is a good choice.`,
		Example: "  skills keygen ops --out ~/keys",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			vkey, err := sign.WriteKeyFile(out, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "wrote %s (signer key: secret, mode 0600) and %s (verifier key)\n",
				filepath.Join(out, args[0]+sign.SignerKeySuffix), filepath.Join(out, args[0]+sign.VerifierKeySuffix))
			fmt.Fprintln(a.stdout, vkey)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", ".", "folder to write the key files to")
	return cmd
}

func newPublishCmd(a *app) *cobra.Command {
	var (
		sf           signingFlags
		platforms    []string
		skipExisting bool
	)
	cmd := &cobra.Command{
		Use:   "publish DIR... --registry DIR --key FILE [--expires 720h] [--platform OS/ARCH]...",
		Short: "Build, package, sign and add skill versions to a registry folder",
		Long: `publish validates each skill folder (SKILL.md), builds it (wasm: wasip1 module;
plugin: a static executable for linux/amd64 plus each --platform, cross-compiled
with CGO off; instructions skills have nothing to build), packages it as a
deterministic tar.gz, writes the package to
  REGISTRY/artifacts/NAME/VERSION/NAME-VERSION[-OS-ARCH].tar.gz
adds the version to REGISTRY/index.json with its SHA-256, size and ## Requires,
bumps the index version and signs it. All skills given go into one new index
version. A new folder becomes a new registry.

Published versions are immutable: publishing a version that is already in the
index is refused (--skip-existing skips it instead); bump metadata.version, or
deprecate or yank the old one.

A package holds SKILL.md, the built entry artifact and every other file of the
folder except dot files, testdata/ and vendor/, Go sources (*.go, go.mod,
go.sum, go.work), sub-folders with their own SKILL.md, and build outputs
(*.wasm, *.test, *.exe, *.so, ... and any compiled program found by its magic
bytes). Builds and packages are reproducible: the same sources and Go version
give the same bytes.`,
		Example: `  skills keygen ops
  skills publish skills/summarize --registry ./registry --key ops.key
  skills publish skills/report --platform darwin/arm64 --registry ./registry --key ops.key`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := sf.options(cmd, true)
			if err != nil {
				return err
			}
			po := publish.PublishOptions{Options: o, SkipExisting: skipExisting}
			for _, s := range platforms {
				p, err := publish.ParsePlatform(s)
				if err != nil {
					return usageError{fmt.Errorf("--platform: %w", err)}
				}
				po.Platforms = append(po.Platforms, p)
			}
			bar := newBuildBar(a.stderr)
			po.Progress = bar.update
			res, err := publish.Publish(cmd.Context(), sf.registry, args, po)
			bar.close()
			if err != nil {
				return err
			}
			for _, s := range res.Skipped {
				fmt.Fprintf(a.stdout, "skipped %s: already published\n", s)
			}
			for _, p := range res.Published {
				fmt.Fprintf(a.stdout, "published %s %s (%s)\n", p.Name, p.Version, p.Runtime)
				keys := make([]string, 0, len(p.Artifacts))
				for k := range p.Artifacts {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					art := p.Artifacts[k]
					fmt.Fprintf(a.stdout, "  %-13s %s  %s  sha256:%s\n", k, art.URL, publishSize(art.Size), art.SHA256)
				}
			}
			a.printResult(sf.registry, res)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&platforms, "platform", nil, "also build plugin skills for OS/ARCH (repeatable; linux/amd64 is always built)")
	cmd.Flags().BoolVar(&skipExisting, "skip-existing", false, "skip skills whose version is already published instead of failing")
	sf.add(cmd, true)
	return cmd
}

func publishSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// buildBar shows publish progress on stderr: a bar redrawn in place, with the
// current step's elapsed time, when stderr is a terminal; one plain line per
// step otherwise (logs, CI).
type buildBar struct {
	w   io.Writer
	tty bool

	mu      sync.Mutex
	cur     publish.Progress
	since   time.Time
	drawn   int // width of the last bar, to blank it
	stop    chan struct{}
	stopped sync.WaitGroup
}

func newBuildBar(w io.Writer) *buildBar {
	b := &buildBar{w: w}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b.tty = true
		b.stop = make(chan struct{})
		b.stopped.Add(1)
		go b.tick()
	}
	return b
}

// tick redraws the bar so that the elapsed time moves during a long build.
func (b *buildBar) tick() {
	defer b.stopped.Done()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.mu.Lock()
			if b.cur.Doing != "" {
				b.draw()
			}
			b.mu.Unlock()
		}
	}
}

func (b *buildBar) update(p publish.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cur, b.since = p, time.Now()
	if !b.tty {
		if p.Doing != "" {
			fmt.Fprintf(b.w, "publish: [%d/%d] %s\n", p.Done+1, p.Total, p.Doing)
		}
		return
	}
	b.draw()
}

func (b *buildBar) draw() {
	const width = 24
	p := b.cur
	filled := 0
	if p.Total > 0 {
		filled = width * p.Done / p.Total
	}
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	line := fmt.Sprintf("[%s] %d/%d %s", bar, p.Done, p.Total, p.Doing)
	if p.Doing != "" {
		line += fmt.Sprintf(" (%ds)", int(time.Since(b.since).Seconds()))
	}
	pad := ""
	if n := b.drawn - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(b.w, "\r%s%s", line, pad)
	b.drawn = len(line)
}

// close stops the redraws and blanks the bar.
func (b *buildBar) close() {
	if !b.tty {
		return
	}
	close(b.stop)
	b.stopped.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn > 0 {
		fmt.Fprintf(b.w, "\r%s\r", strings.Repeat(" ", b.drawn))
	}
}
