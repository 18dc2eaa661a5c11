// Package catalog merges the verified indexes of several registries into
// one view of the skills a client can install: a name is served by the
// highest-priority registry that has it, and every version of that name
// comes from that registry only, so a lower-priority registry cannot
// shadow or mix into a skill of a higher one. The view is the resolver's
// package source, and answers search and info.
package catalog

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/registry"
	"github.com/skillsdev/skills/resolver"
)

// Catalog is the merged view of registries whose indexes were fetched and
// verified.
type Catalog struct {
	regs []*Registry // priority order, highest first

	mu    sync.Mutex
	cands map[string][]resolver.Candidate
	reqs  map[string]map[string][]resolver.Requirement // name -> version -> requirements
}

// Registry is one registry of a catalog with its verified index.
type Registry struct {
	*registry.Registry
	Fetched *registry.Fetched
}

// Fetch fetches and verifies the index of every registry (in parallel) and
// returns their merged view. regs are in priority order, highest first. Any
// failure fails the whole fetch: falling back to a lower-priority registry
// when a higher one cannot be read would let the lower one serve names the
// higher one owns.
func Fetch(ctx context.Context, regs []*registry.Registry) (*Catalog, error) {
	if len(regs) == 0 {
		return nil, fmt.Errorf("no registries configured")
	}
	out := make([]*Registry, len(regs))
	errs := make([]error, len(regs))
	var wg sync.WaitGroup
	for i, r := range regs {
		wg.Go(func() {
			f, err := r.Fetch(ctx)
			out[i], errs[i] = &Registry{Registry: r, Fetched: f}, err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return New(out...), nil
}

// New returns the catalog of already fetched registries, highest priority
// first.
func New(regs ...*Registry) *Catalog {
	return &Catalog{regs: regs, cands: map[string][]resolver.Candidate{}, reqs: map[string]map[string][]resolver.Requirement{}}
}

// Registries returns the registries in priority order.
func (c *Catalog) Registries() []*Registry { return c.regs }

// Registry returns the registry called name, or nil.
func (c *Catalog) Registry(name string) *Registry {
	for _, r := range c.regs {
		if r.Name() == name {
			return r
		}
	}
	return nil
}

// Find returns the skill called name and the registry serving it, or nil
// and nil.
func (c *Catalog) Find(name string) (*Registry, *index.Skill) {
	for _, r := range c.regs {
		if s, ok := r.Fetched.Index.Skills[name]; ok {
			return r, s
		}
	}
	return nil, nil
}

// Release returns release version of name and the registry serving it.
func (c *Catalog) Release(name, version string) (*Registry, *index.Release, error) {
	r, s := c.Find(name)
	if s == nil {
		return nil, nil, c.unknown(name)
	}
	rel, ok := s.Versions[version]
	if !ok {
		return nil, nil, fmt.Errorf("skill %s has no version %s in registry %s (available: %s)", name, version, r.Name(), strings.Join(s.Sorted(), ", "))
	}
	return r, rel, nil
}

// unknown is the error for a name no registry has.
func (c *Catalog) unknown(name string) error {
	names := make([]string, len(c.regs))
	for i, r := range c.regs {
		names[i] = r.Name()
	}
	return fmt.Errorf("unknown skill %q: not in registry %s", name, strings.Join(names, ", "))
}

// Check returns an error naming the registries searched if no registry has
// name.
func (c *Catalog) Check(name string) error {
	if _, s := c.Find(name); s == nil {
		return c.unknown(name)
	}
	return nil
}

// Names returns every skill name in the catalog, sorted.
func (c *Catalog) Names() []string {
	seen := map[string]bool{}
	var names []string
	for _, r := range c.regs {
		for n := range r.Fetched.Index.Skills {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	return names
}

// Hit is one search result.
type Hit struct {
	Name, Description string
	Latest            string // highest installable version; "" when every version is yanked
	Registry          string
}

// Search returns the skills whose name or description contains every word
// of query (case-insensitive), sorted by name; an empty query matches all.
func (c *Catalog) Search(query string) []Hit {
	words := strings.Fields(strings.ToLower(query))
	var hits []Hit
	for _, n := range c.Names() {
		r, s := c.Find(n)
		text := strings.ToLower(n + " " + s.Description)
		match := true
		for _, w := range words {
			if !strings.Contains(text, w) {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		latest, _, _ := r.Fetched.Index.Latest(n, false)
		hits = append(hits, Hit{Name: n, Description: s.Description, Latest: latest, Registry: r.Name()})
	}
	return hits
}

// Source returns the catalog as the resolver's package source.
func (c *Catalog) Source() resolver.Source { return source{c} }

type source struct{ c *Catalog }

// Versions implements resolver.Source.
func (s source) Versions(ctx context.Context, name string) ([]resolver.Candidate, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs, ok := c.cands[name]; ok {
		return cs, nil
	}
	_, sk := c.Find(name)
	if sk == nil {
		c.cands[name] = nil
		return nil, fmt.Errorf("%s: %w", name, resolver.ErrNotFound)
	}
	cs := make([]resolver.Candidate, 0, len(sk.Versions))
	reqs := make(map[string][]resolver.Requirement, len(sk.Versions))
	for key, rel := range sk.Versions {
		v, err := semver.StrictNewVersion(key)
		if err != nil {
			return nil, fmt.Errorf("%s: version %q: %w", name, key, err)
		}
		cand := resolver.Candidate{Version: v, Yanked: rel.Yanked != nil}
		if d := rel.Deprecated; d != nil {
			cand.Deprecated = Deprecation(d)
		}
		cs = append(cs, cand)
		rs := make([]resolver.Requirement, len(rel.Requirements))
		for i, q := range rel.Requirements {
			rs[i] = resolver.Requirement{Name: q.Name, Raw: q.Constraint}
		}
		reqs[v.Original()] = rs
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Version.LessThan(cs[j].Version) })
	c.cands[name], c.reqs[name] = cs, reqs
	return cs, nil
}

// Requirements implements resolver.Source.
func (s source) Requirements(ctx context.Context, name string, v *semver.Version) ([]resolver.Requirement, error) {
	if _, err := s.Versions(ctx, name); err != nil {
		return nil, err
	}
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	rs, ok := s.c.reqs[name][v.Original()]
	if !ok {
		return nil, fmt.Errorf("%s has no version %s", name, v)
	}
	return rs, nil
}

// Deprecation converts an index deprecation for the resolver: the
// replacement with its constraint, and the sunset as the start of that day
// in UTC (an unparsable sunset, which Parse refuses, is left out).
func Deprecation(d *index.Deprecation) *resolver.Deprecation {
	out := &resolver.Deprecation{Message: d.Message, Replacement: Replacement(d)}
	if d.Sunset != "" {
		if t, err := time.Parse(time.DateOnly, d.Sunset); err == nil {
			out.Sunset = t
		}
	}
	return out
}

// Replacement returns "name constraint", "name", or "".
func Replacement(d *index.Deprecation) string {
	if d.Replacement == "" {
		return ""
	}
	if d.ReplacementConstraint != "" {
		return d.Replacement + " " + d.ReplacementConstraint
	}
	return d.Replacement
}

// SunsetPassed reports whether d has a sunset date that has begun at now.
func SunsetPassed(d *index.Deprecation, now time.Time) bool {
	if d == nil || d.Sunset == "" {
		return false
	}
	t, err := time.Parse(time.DateOnly, d.Sunset)
	return err == nil && !now.Before(t)
}
