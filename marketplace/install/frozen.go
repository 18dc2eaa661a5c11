package install

import (
	"context"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/lock"
	"github.com/skillsdev/skills/marketplace/store"
)

// frozen installs exactly what the lock says: store entries that are
// missing or damaged are fetched again from the registry the lock names,
// and must be the very packages (sha256) and files the lock records. The
// lock is never written. wants must already be in the lock, at versions
// that satisfy their constraints.
func (m *Manager) frozen(ctx context.Context, wants []Want, f Flags) (*Result, error) {
	if !f.DryRun {
		held, err := m.acquire(ctx)
		if err != nil {
			return nil, err
		}
		defer held.Release()
	}
	cur, err := lock.Load(m.o.Home)
	if err != nil {
		return nil, err
	}
	for _, w := range wants {
		e, ok := cur.Skills[w.Name]
		if !ok {
			return nil, fmt.Errorf("--frozen: %s is not in the lock (installed: %s); install it without --frozen first", w.Name, list(cur.Names()))
		}
		if w.Constraint != "" {
			c, _ := semver.NewConstraint(w.Constraint)
			v, err := semver.StrictNewVersion(e.Version)
			if c == nil || err != nil || !c.Check(v) {
				return nil, fmt.Errorf("--frozen: the lock has %s %s, which does not satisfy %s", w.Name, e.Version, w.Constraint)
			}
		}
	}
	res := &Result{}
	var jobs []*job
	for _, n := range cur.Order() {
		e := cur.Skills[n]
		step := Step{Name: n, Version: e.Version, SHA256: e.SHA256, Runtime: e.Runtime, Action: ActionKeep}
		probs, err := m.store.Verify(e.SHA256, e.Files)
		if err != nil {
			return nil, err
		}
		if len(probs) > 0 {
			step.Action = ActionFetch
			jobs = append(jobs, &job{name: n, version: e.Version, entry: e.Clone()})
		}
		res.Order = append(res.Order, step)
	}
	if len(jobs) == 0 || f.DryRun {
		return res, nil
	}
	cat, err := m.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		e := j.entry
		r := cat.Registry(e.Registry)
		if r == nil {
			return nil, fmt.Errorf("--frozen: %s %s was installed from registry %s, which is not configured", j.name, j.version, e.Registry)
		}
		rel, err := r.Fetched.Index.Lookup(j.name, j.version)
		if err != nil {
			return nil, fmt.Errorf("--frozen: %s %s: registry %s: %w", j.name, j.version, r.Name(), err)
		}
		art, ok := rel.Artifacts[e.Platform]
		if !ok || art.SHA256 != e.SHA256 {
			return nil, fmt.Errorf("--frozen: %s %s: registry %s no longer lists the locked package (sha256 %s for %s)", j.name, j.version, r.Name(), e.SHA256, e.Platform)
		}
		reqs := make([]index.Requirement, 0, len(e.Requires))
		for dep, c := range e.Requires {
			reqs = append(reqs, index.Requirement{Name: dep, Constraint: c})
		}
		j.reg, j.art = r.Registry, art
		j.want = store.Want{Name: j.name, Version: j.version, Runtime: e.Runtime, Requirements: reqs}
	}
	var total int64
	for _, j := range jobs {
		total += j.art.Size
	}
	m.emit(Event{Kind: EventResolved, Count: len(jobs), Total: total})
	if _, err := m.fetch(ctx, jobs); err != nil {
		return nil, err
	}
	return res, nil
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
