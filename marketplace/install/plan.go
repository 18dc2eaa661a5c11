package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/skillsdev/skills/marketplace/catalog"
	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/lock"
	"github.com/skillsdev/skills/marketplace/registry"
	"github.com/skillsdev/skills/marketplace/store"
	"github.com/skillsdev/skills/resolver"
)

// goal is what a change asks the resolver for.
type goal struct {
	requested map[string]string    // root skills -> constraint; "" for a new bare name
	pins      map[string]*lock.Pin // pinned skills (always roots)
	unlock    map[string]bool      // names whose locked version is not preferred
}

func goalFrom(cur *lock.Lock) *goal {
	g := &goal{requested: map[string]string{}, pins: map[string]*lock.Pin{}, unlock: map[string]bool{}}
	for n, e := range cur.Skills {
		if e.Requested != "" {
			g.requested[n] = e.Requested
		}
		if e.Pinned != nil {
			p := *e.Pinned
			g.pins[n] = &p
		}
	}
	return g
}

// planned is a resolved change, ready to download and commit.
type planned struct {
	next   *lock.Lock
	jobs   []*job
	result *Result
}

// job is one package to download and unpack.
type job struct {
	name, version string
	reg           *registry.Registry
	art           index.Artifact
	want          store.Want
	entry         *lock.Entry // completed with the store's hashes
}

func (m *Manager) plan(ctx context.Context, cur *lock.Lock, cat *catalog.Catalog, g *goal, f Flags) (*planned, error) {
	now := m.o.Now()
	names := map[string]bool{}
	for n := range g.requested {
		names[n] = true
	}
	for n := range g.pins {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var roots []resolver.Requirement
	for _, n := range sorted {
		c := g.requested[n]
		if c == "" {
			// The pin itself holds the version, and a conflict is then
			// explained as "x is pinned to 1.0.0"; only a prerelease pin
			// needs a constraint that admits prereleases.
			c = "*"
			if p := g.pins[n]; p != nil && strings.Contains(p.Version, "-") {
				c = "=" + p.Version
			}
		}
		roots = append(roots, resolver.Requirement{Name: n, Raw: c})
	}
	opts := resolver.Options{Locked: map[string]*semver.Version{}, Pinned: map[string]*semver.Version{}, Now: now}
	for n, e := range cur.Skills {
		if g.unlock[n] {
			continue
		}
		if v, err := semver.StrictNewVersion(e.Version); err == nil {
			opts.Locked[n] = v
		}
	}
	for n, p := range g.pins {
		v, err := semver.StrictNewVersion(p.Version)
		if err != nil {
			return nil, fmt.Errorf("pin of %s: %q is not a version", n, p.Version)
		}
		opts.Pinned[n] = v
	}
	plan, err := resolver.Resolve(ctx, cat.Source(), roots, opts)
	if err != nil {
		var ns *resolver.NoSolutionError
		if errors.As(err, &ns) {
			return nil, fmt.Errorf("no set of versions satisfies the requirements:\n%w", err)
		}
		return nil, err
	}

	res := &Result{Warnings: append([]string(nil), plan.Warnings...)}
	next := lock.New()
	var jobs []*job
	var sunset []string
	for _, d := range plan.Order {
		ver := d.Version.Original()
		r, rel, err := cat.Release(d.Name, ver)
		if err != nil {
			return nil, err
		}
		art, key, err := rel.ArtifactFor(m.o.GOOS, m.o.GOARCH)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", d.Name, ver, err)
		}
		old := cur.Skills[d.Name]
		step := Step{Name: d.Name, Version: ver, SHA256: art.SHA256, Runtime: rel.Runtime}
		var e *lock.Entry
		switch {
		case old != nil && old.Version == ver && old.Platform == key:
			e = old.Clone()
			step.SHA256, step.Action = old.SHA256, ActionKeep
			if old.SHA256 != art.SHA256 {
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s %s: registry %s now lists sha256 %s, but %s is installed; published versions must not change: keeping the installed package", d.Name, ver, r.Name(), art.SHA256, old.SHA256))
			}
			if !m.store.Has(old.SHA256) {
				if old.SHA256 != art.SHA256 {
					return nil, fmt.Errorf("%s %s: its store entry is missing and registry %s no longer lists the installed package (sha256 %s, now %s)", d.Name, ver, r.Name(), old.SHA256, art.SHA256)
				}
				step.Action = ActionFetch
				jobs = append(jobs, &job{name: d.Name, version: ver, reg: r.Registry, art: art, want: wantOf(d.Name, ver, rel), entry: e})
			}
		default:
			e = &lock.Entry{
				Version: ver, Runtime: rel.Runtime, Platform: key, SHA256: art.SHA256, Size: art.Size,
				Requires: map[string]string{}, Registry: r.Name(), IndexVersion: r.Fetched.Index.Version,
				Installed: now.UTC(),
			}
			for _, q := range rel.Requirements {
				e.Requires[q.Name] = q.Constraint
			}
			step.Action = ActionInstall
			if old != nil {
				step.From = old.Version
				step.Action = ActionUpgrade
				if ov, err := semver.StrictNewVersion(old.Version); err == nil && d.Version.LessThan(ov) {
					step.Action = ActionDowngrade
				}
			}
			if catalog.SunsetPassed(rel.Deprecated, now) && !f.AllowDeprecated {
				sunset = append(sunset, sunsetProblem(d.Name, ver, rel.Deprecated))
			}
			jobs = append(jobs, &job{name: d.Name, version: ver, reg: r.Registry, art: art, want: wantOf(d.Name, ver, rel), entry: e})
		}
		e.Requested = ""
		if _, ok := g.requested[d.Name]; ok {
			e.Requested = g.requested[d.Name]
			if e.Requested == "" {
				e.Requested = "^" + ver
			}
		}
		e.Pinned = g.pins[d.Name]
		next.Skills[d.Name] = e
		res.Order = append(res.Order, step)
	}
	if len(sunset) > 0 {
		return nil, fmt.Errorf("%s\npass --allow-deprecated to install it anyway", strings.Join(sunset, "\n"))
	}
	for _, n := range cur.Names() {
		if _, ok := next.Skills[n]; !ok {
			res.Removed = append(res.Removed, n+" "+cur.Skills[n].Version)
		}
	}
	sort.Strings(res.Warnings)
	res.Changed = !sameLock(cur, next)
	return &planned{next: next, jobs: jobs, result: res}, nil
}

func sunsetProblem(name, ver string, d *index.Deprecation) string {
	msg := fmt.Sprintf("%s %s is deprecated (%s) and its sunset %s has passed", name, ver, d.Message, d.Sunset)
	if r := catalog.Replacement(d); r != "" {
		msg += "; use " + r + " instead"
	}
	return msg
}

func wantOf(name, ver string, rel *index.Release) store.Want {
	return store.Want{Name: name, Version: ver, Runtime: rel.Runtime, Requirements: rel.Requirements}
}

// sameLock reports whether two locks encode alike (install times included).
func sameLock(a, b *lock.Lock) bool {
	x, errA := lock.Encode(a)
	y, errB := lock.Encode(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}
