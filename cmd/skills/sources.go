package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/skillsdev/skills/marketplace/catalog"
	"github.com/skillsdev/skills/marketplace/install"
	"github.com/skillsdev/skills/marketplace/registry"
	"github.com/skillsdev/skills/marketplace/sign"
	bundled "github.com/skillsdev/skills/registry"
)

// sourceFlags are the flags of every command that reads registries.
type sourceFlags struct {
	registry string
	key      []string
}

func (f *sourceFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.registry, "registry", "", `read only this registry: a configured NAME, "bundled", a URL or a folder`)
	cmd.Flags().StringArrayVar(&f.key, "key", nil, "verifier key, or a .pub file, for a --registry URL or folder (default: the keys in $SKILLS_HOME/trust/)")
}

// registries returns the registries a command reads, highest priority
// first: the configured ones and then the bundled one, or only the one named
// by --registry.
func (a *app) registries(home string, f sourceFlags) ([]*registry.Registry, error) {
	opts := registry.Options{StateDir: filepath.Join(home, "registries"), Logger: a.logger()}
	configured, err := registry.List(home)
	if err != nil {
		return nil, err
	}
	for _, c := range configured {
		if c.Name == bundled.Name {
			return nil, fmt.Errorf("%s: the registry name %q is reserved for the registry built into skills; remove it with `skills registry remove %s` and add it under another name",
				filepath.Join(home, registry.ConfigFile), bundled.Name, bundled.Name)
		}
	}
	builtin := func() (*registry.Registry, error) {
		return registry.NewFS(bundled.Name, bundled.Keys(), bundled.FS(), opts)
	}
	if len(f.key) > 0 && f.registry == "" {
		return nil, usageError{errors.New("--key needs --registry URL or folder")}
	}
	if f.registry == "" {
		var out []*registry.Registry
		for _, c := range configured {
			r, err := registry.New(c, opts)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		b, err := builtin()
		if err != nil {
			return nil, err
		}
		return append(out, b), nil
	}
	if f.registry == bundled.Name {
		b, err := builtin()
		if err != nil {
			return nil, err
		}
		return []*registry.Registry{b}, nil
	}
	loc, locErr := registry.ParseLocation(f.registry)
	for _, c := range configured {
		if c.Name == f.registry {
			r, err := registry.New(c, opts)
			return []*registry.Registry{r}, err
		}
		if u, err := registry.ParseLocation(c.URL); err == nil && locErr == nil && u.String() == loc.String() {
			r, err := registry.New(c, opts)
			return []*registry.Registry{r}, err
		}
	}
	isURL := strings.Contains(f.registry, "://")
	if !isURL {
		if fi, err := os.Stat(f.registry); err != nil || !fi.IsDir() {
			names := []string{bundled.Name}
			for _, c := range configured {
				names = append(names, c.Name)
			}
			return nil, usageError{fmt.Errorf("--registry %s: not a configured registry (%s), a URL, or a folder", f.registry, strings.Join(names, ", "))}
		}
	}
	if locErr != nil {
		return nil, usageError{fmt.Errorf("--registry: %w", locErr)}
	}
	keys, err := a.adhocKeys(home, f)
	if err != nil {
		return nil, err
	}
	// A name derived from the location keeps one freshness record per
	// location, and finds the same registry again for `install --frozen`.
	sum := sha256.Sum256([]byte(loc.String()))
	kind := "dir"
	if loc.Scheme == "http" || loc.Scheme == "https" {
		kind = "url"
	}
	r, err := registry.New(registry.Config{Name: kind + "-" + hex.EncodeToString(sum[:4]), URL: loc.String(), Keys: keys}, opts)
	if err != nil {
		return nil, err
	}
	return []*registry.Registry{r}, nil
}

// adhocKeys are the keys trusted for a --registry URL or folder: --key, or
// else every key in $SKILLS_HOME/trust/.
func (a *app) adhocKeys(home string, f sourceFlags) ([]string, error) {
	var keys []string
	for _, k := range f.key {
		ks, err := readVerifierKeys(k)
		if err != nil {
			return nil, err
		}
		keys = append(keys, ks...)
	}
	if len(keys) > 0 {
		return keys, nil
	}
	trustDir := filepath.Join(home, "trust")
	t, err := sign.LoadTrust(trustDir)
	if err != nil {
		return nil, err
	}
	if t.Len() == 0 {
		return nil, usageError{fmt.Errorf("--registry %s: no key to verify its index: pass --key KEY|FILE.pub, or put the registry's .pub file in %s", f.registry, trustDir)}
	}
	return t.Keys(), nil
}

// manager returns an install.Manager for the home, reading the registries
// chosen by f, reporting progress on stderr.
func (a *app) manager(home string, f sourceFlags) (*install.Manager, *installProgress, error) {
	regs, err := a.registries(home, f)
	if err != nil {
		return nil, nil, err
	}
	p := newInstallProgress(a.stderr)
	m, err := install.New(install.Options{Home: home, Registries: regs, Events: p.event})
	if err != nil {
		return nil, nil, err
	}
	return m, p, nil
}

// bestEffortCatalog fetches the default registries for information that is
// nice to have (deprecations shown to the model), giving up quietly, and
// returning nil, after a few seconds or on any error.
func (a *app) bestEffortCatalog(ctx context.Context, home string) *catalog.Catalog {
	regs, err := a.registries(home, sourceFlags{})
	if err != nil {
		a.logger().Debug("registries unavailable", "error", err)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := catalog.Fetch(ctx, regs)
	if err != nil {
		a.logger().Debug("registries unavailable", "error", err)
		return nil
	}
	return c
}
