package wasm

import (
	"context"
	"slices"
	"sync"
	"time"
)

// gate admits at most n calls at once to run guest code of one skill.
//
// Measured on 2 cores with 8 callers: when every caller had an instance of
// its own running, each call cost 1.5x the CPU of a lone caller's (the
// instances' memory fights over the caches), and a buffered channel as the
// bound made it worse, because it hands each freed place to a sleeping
// caller and so switches goroutines on every call. Like sync.Mutex, a gate
// lets a running caller take a place that was just freed (the woken waiter
// finds it taken and waits again), so one goroutine runs many calls back to
// back on a warm instance; and like sync.Mutex's starvation mode, a waiter
// that has waited starveAfter gets the next place handed to it.
//
// Unlike sync.Mutex, waiting respects a context.
type gate struct {
	mu      sync.Mutex
	free    int       // places not taken
	waiters []*waiter // oldest first
}

type waiter struct {
	// ch gets true when a place is handed over to the waiter, false when
	// one was freed and the waiter may compete for it.
	ch    chan bool
	since time.Time
}

// starveAfter is how long a waiter can lose places to callers that are
// running before places are handed to it; sync.Mutex uses the same 1 ms.
const starveAfter = time.Millisecond

func newGate(n int) *gate { return &gate{free: max(n, 1)} }

// enter takes a place, waiting for one until ctx is done.
func (g *gate) enter(ctx context.Context) error {
	g.mu.Lock()
	if g.free > 0 {
		g.free--
		g.mu.Unlock()
		return nil
	}
	if err := ctx.Err(); err != nil {
		g.mu.Unlock()
		return err
	}
	w := &waiter{ch: make(chan bool, 1), since: time.Now()}
	g.waiters = append(g.waiters, w)
	g.mu.Unlock()
	for {
		select {
		case handed := <-w.ch:
			if handed {
				return nil
			}
			g.mu.Lock()
			if g.free > 0 {
				g.free--
				g.mu.Unlock()
				return nil
			}
			// A running caller took it first: first in line again.
			g.waiters = slices.Insert(g.waiters, 0, w)
			g.mu.Unlock()
		case <-ctx.Done():
			g.mu.Lock()
			if i := slices.Index(g.waiters, w); i >= 0 {
				g.waiters = slices.Delete(g.waiters, i, i+1)
				g.mu.Unlock()
				return ctx.Err()
			}
			g.mu.Unlock()
			// leave took w off the line and sends on w.ch: a place handed
			// over is given back; a wake-up is passed on.
			if <-w.ch {
				g.leave()
			} else {
				g.wake()
			}
			return ctx.Err()
		}
	}
}

// tryEnter takes a place if one is free, without waiting.
func (g *gate) tryEnter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.free > 0 {
		g.free--
		return true
	}
	return false
}

// leave gives a place back, and wakes the first waiter (or hands it the
// place, when it has waited starveAfter).
func (g *gate) leave() {
	g.mu.Lock()
	if len(g.waiters) == 0 {
		g.free++
		g.mu.Unlock()
		return
	}
	w := g.waiters[0]
	g.waiters = slices.Delete(g.waiters, 0, 1)
	handoff := time.Since(w.since) >= starveAfter
	if !handoff {
		g.free++
	}
	g.mu.Unlock()
	w.ch <- handoff
}

// wake wakes the first waiter if a place is free: a canceled waiter that
// was woken passes its wake-up on.
func (g *gate) wake() {
	g.mu.Lock()
	if len(g.waiters) == 0 || g.free == 0 {
		g.mu.Unlock()
		return
	}
	w := g.waiters[0]
	g.waiters = slices.Delete(g.waiters, 0, 1)
	g.mu.Unlock()
	w.ch <- false
}
