package install

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/skillsdev/skills/marketplace/lock"
)

// Uninstall removes name, and the dependencies nothing else needs. It
// refuses, naming them, while other installed skills require name, unless
// withDependents, which removes those skills (and theirs) too. A pin on a
// removed skill goes with it. No registry is read.
func (m *Manager) Uninstall(ctx context.Context, name string, withDependents bool) (*Result, error) {
	held, err := m.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer held.Release()
	cur, err := lock.Load(m.o.Home)
	if err != nil {
		return nil, err
	}
	if _, ok := cur.Skills[name]; !ok {
		return nil, fmt.Errorf("uninstall %s: not installed (installed: %s)", name, list(cur.Names()))
	}
	gone := map[string]bool{name: true}
	if deps := cur.Dependents(name); len(deps) > 0 {
		if !withDependents {
			return nil, fmt.Errorf("uninstall %s: required by %s; uninstall %s first, or pass --with-dependents to remove %s too",
				name, strings.Join(deps, ", "), them(deps), them(deps))
		}
		// Everything that requires name, directly or not.
		queue := []string{name}
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			for _, d := range cur.Dependents(n) {
				if !gone[d] {
					gone[d] = true
					queue = append(queue, d)
				}
			}
		}
	}
	// Keep what the remaining roots (requested or pinned) still reach.
	keep := map[string]bool{}
	var visit func(n string)
	visit = func(n string) {
		e, ok := cur.Skills[n]
		if !ok || keep[n] || gone[n] {
			return
		}
		keep[n] = true
		for dep := range e.Requires {
			visit(dep)
		}
	}
	for _, n := range cur.Names() {
		if e := cur.Skills[n]; e.Requested != "" || e.Pinned != nil {
			visit(n)
		}
	}
	next := lock.New()
	res := &Result{Changed: true}
	for _, n := range cur.Order() {
		e := cur.Skills[n]
		if keep[n] {
			next.Skills[n] = e.Clone()
			res.Order = append(res.Order, Step{Name: n, Version: e.Version, SHA256: e.SHA256, Runtime: e.Runtime, Action: ActionKeep})
		} else {
			res.Removed = append(res.Removed, n+" "+e.Version)
		}
	}
	sort.Strings(res.Removed)
	if err := lock.Save(m.o.Home, next); err != nil {
		return nil, err
	}
	m.collect(next, res)
	return res, nil
}

func them(names []string) string {
	if len(names) == 1 {
		return "it"
	}
	return "them"
}
