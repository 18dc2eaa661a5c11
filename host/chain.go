package host

import (
	"context"
	"slices"
)

// chain is the call chain carried in the context of every skill call: the
// skills on it (outermost first) and the generation the whole call tree runs
// on, so that a tree never mixes two generations of skills.
type chain struct {
	skills []string
	gen    *generation
}

type chainKey struct{}

func chainFrom(ctx context.Context) *chain {
	c, _ := ctx.Value(chainKey{}).(*chain)
	return c
}

// with returns a new chain with name appended; the old one is never mutated,
// because sibling calls share it.
func (c *chain) with(name string) *chain {
	n := &chain{gen: c.gen, skills: make([]string, len(c.skills)+1)}
	copy(n.skills, c.skills)
	n.skills[len(c.skills)] = name
	return n
}

func (c *chain) caller() string {
	if len(c.skills) == 0 {
		return ""
	}
	return c.skills[len(c.skills)-1]
}

func (c *chain) contains(name string) bool { return slices.Contains(c.skills, name) }

// path returns the chain plus a next hop, for error messages.
func (c *chain) path(next string) []string {
	p := make([]string, 0, len(c.skills)+1)
	p = append(p, c.skills...)
	if next != "" {
		p = append(p, next)
	}
	return p
}

// Chain returns the skills on the call chain of ctx, outermost first. Host
// tools use it to attribute their work; it is nil outside a skill call.
func Chain(ctx context.Context) []string {
	c := chainFrom(ctx)
	if c == nil {
		return nil
	}
	return slices.Clone(c.skills)
}
