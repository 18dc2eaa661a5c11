package host

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/skillsdev/skills/host/engine"
	"github.com/skillsdev/skills/sdk/manifest"
)

// loaded is one skill as a generation serves it. A generation is never
// mutated, so a change of metadata alone (a deprecation) makes a new loaded
// that shares the running instance of the old one.
type loaded struct {
	manifest *manifest.Manifest
	source   Source
	key      string    // identity of the code: what must change for a reload to replace it
	inst     *instance // shared by the generations that serve the same code
}

// instance is a skill loaded into its engine. Generations share it while the
// skill is unchanged, so it counts the generations that hold it and is closed
// when the last one lets go.
type instance struct {
	impl engine.Skill // nil for instructions skills
	refs atomic.Int32
}

func (in *instance) release(ctx context.Context) error {
	if in.refs.Add(-1) == 0 && in.impl != nil {
		return in.impl.Close(ctx)
	}
	return nil
}

// generation is an immutable set of loaded skills. The host swaps the current
// generation atomically; calls in flight on an old one finish there, and the
// old generation is released once they drain.
type generation struct {
	id     uint64
	skills map[string]*loaded

	mu       sync.Mutex
	inflight int
	retired  bool
	drained  chan struct{} // closed when retired and inflight reaches zero
}

func newGeneration(id uint64, skills map[string]*loaded) *generation {
	for _, l := range skills {
		l.inst.refs.Add(1)
	}
	return &generation{id: id, skills: skills, drained: make(chan struct{})}
}

// acquire registers a call on g. It fails once g is retired, so that a caller
// racing a swap retries on the new generation instead of using closed skills.
func (g *generation) acquire() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.retired {
		return false
	}
	g.inflight++
	return true
}

func (g *generation) done() {
	g.mu.Lock()
	g.inflight--
	if g.retired && g.inflight == 0 {
		close(g.drained)
	}
	g.mu.Unlock()
}

// retire marks g as replaced; drained is closed when its last call ends.
func (g *generation) retire() {
	g.mu.Lock()
	g.retired = true
	if g.inflight == 0 {
		close(g.drained)
	}
	g.mu.Unlock()
}
