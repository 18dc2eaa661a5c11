package wasm

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skillsdev/skills/host/engine"
)

// TestGateBound has many goroutines enter and leave a gate of each size:
// never more than its size are inside at once, and all get through.
func TestGateBound(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		g := newGate(n)
		var inside, most atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for range 200 {
					if err := g.enter(context.Background()); err != nil {
						t.Error(err)
						return
					}
					in := inside.Add(1)
					for {
						m := most.Load()
						if in <= m || most.CompareAndSwap(m, in) {
							break
						}
					}
					inside.Add(-1)
					g.leave()
				}
			})
		}
		wg.Wait()
		if m := most.Load(); m > int32(n) || m < 1 {
			t.Errorf("gate of %d: %d inside at once", n, m)
		}
		if g.free != n || len(g.waiters) != 0 {
			t.Errorf("gate of %d after the run: %d free, %d waiting", n, g.free, len(g.waiters))
		}
	}
}

// TestGateCancel cancels waiters in every state: still in line, and woken
// (with a place free or handed over) at the moment their context ends.
// No place is lost or made up.
func TestGateCancel(t *testing.T) {
	g := newGate(1)
	if err := g.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A waiter whose context ends while it waits in line.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.enter(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("enter on a full gate: %v, want the deadline", err)
	}
	// An already-done context does not wait at all.
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	if err := g.enter(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("enter with a done context: %v", err)
	}
	// Waiters canceled at random moments around leaves.
	var wg sync.WaitGroup
	for i := range 50 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%5)*time.Millisecond)
		wg.Go(func() {
			defer cancel()
			if g.enter(ctx) == nil {
				time.Sleep(100 * time.Microsecond)
				g.leave()
			}
		})
	}
	for range 20 {
		g.leave()
		time.Sleep(200 * time.Microsecond)
		if err := g.enter(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	g.leave()
	if g.free != 1 || len(g.waiters) != 0 {
		t.Fatalf("after the cancellations: %d free, %d waiting; want 1 and 0", g.free, len(g.waiters))
	}
}

// TestGateNoStarvation keeps a gate busy with callers that leave and enter
// again at once (they would always win the race for the place freed) and
// checks that a waiter still gets in: after starveAfter, places are handed
// to it.
func TestGateNoStarvation(t *testing.T) {
	g := newGate(1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if g.enter(context.Background()) == nil {
					time.Sleep(50 * time.Microsecond)
					g.leave()
				}
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := g.enter(ctx)
	close(stop)
	if err != nil {
		t.Fatalf("a waiter starved: %v", err)
	}
	g.leave()
	wg.Wait()
}

// blockingHost is a Callbacks whose tool "wait" blocks until released.
type blockingHost struct {
	testHost
	in      chan struct{}
	release chan struct{}
}

func (h *blockingHost) CallTool(ctx context.Context, name string, input []byte) ([]byte, error) {
	if name != "wait" {
		return h.testHost.CallTool(ctx, name, input)
	}
	h.in <- struct{}{}
	select {
	case <-h.release:
		return []byte(`"released"`), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestRunningGivenUpWhileOnHost runs a skill with one place to run guest
// code: two calls that wait in a host tool at the same time show that a
// call gives its place up while the host works for it, and takes it back
// to finish.
func TestRunningGivenUpWhileOnHost(t *testing.T) {
	e := newEngine(t, Options{Running: 1})
	h := &blockingHost{in: make(chan struct{}), release: make(chan struct{})}
	s, err := e.Load(context.Background(), engine.Spec{Name: "callback", Artifact: guests["callback"], Callbacks: h})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]any{"op": "tool", "name": "wait", "input": "x"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	outs := make([]string, 2)
	for i := range outs {
		wg.Go(func() {
			out, err := s.Call(ctx, in)
			if err != nil {
				t.Error(err)
			}
			outs[i] = string(out)
		})
	}
	for range 2 {
		select {
		case <-h.in: // both are in the tool at once: neither holds the place
		case <-ctx.Done():
			t.Fatal("the second call did not reach the host while the first waited there")
		}
	}
	close(h.release)
	wg.Wait()
	for _, out := range outs {
		if out != `{"got":["released"]}` {
			t.Fatalf("outputs %q", outs)
		}
	}
}
