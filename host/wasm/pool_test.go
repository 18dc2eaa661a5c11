package wasm

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/skillsdev/skills/host/engine"
	"github.com/skillsdev/skills/sdk/wire"
)

// selfHost is a real Callbacks whose one skill is the callback guest it
// serves: a skill call goes back into that same skill while the caller's
// guest call holds its instance, as a reentrant skill calling itself does
// through the host.
type selfHost struct {
	s       engine.Skill
	held    chan struct{} // the tool "block" says it holds its instance
	proceed chan struct{} // and waits for this before its nested call
}

func (h *selfHost) CallSkill(ctx context.Context, _ string, input []byte) ([]byte, error) {
	return h.s.Call(ctx, input)
}

func (h *selfHost) CallTool(ctx context.Context, name string, _ []byte) ([]byte, error) {
	switch name {
	case "leaf":
		return []byte(`"leaf"`), nil
	case "block":
		h.held <- struct{}{}
		select {
		case <-h.proceed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return h.s.Call(ctx, []byte(`{"op":"tool","name":"leaf"}`))
	}
	return nil, &wire.Error{Code: wire.CodeNotFound, Skill: name, Message: "no such tool"}
}

func (h *selfHost) Log(context.Context, slog.Level, string) {}

// nest returns the callback guest's input that calls the skill itself depth
// times, the innermost call calling the tool leaf, and the output it gives.
func nest(depth int) (input, want string) {
	input, want = `{"op":"tool","name":"leaf"}`, `{"got":["leaf"]}`
	for range depth {
		input = `{"op":"skill","name":"callback","input":` + input + `}`
		want = `{"got":[` + want + `]}`
	}
	return input, want
}

// liveInstances counts the instances of s that exist, idle or not.
func liveInstances(s *skill) int {
	n := 0
	s.instances.Range(func(any, any) bool { n++; return true })
	return n
}

// TestNestedCalls checks that a skill calling itself deeper than
// MaxInstances completes: every caller up the chain holds its instance
// while the nested call runs, so the nested calls must not wait for the
// outer calls' instances. Instances beyond MaxInstances are closed again.
func TestNestedCalls(t *testing.T) {
	const maxInstances = 2
	e := newEngine(t, Options{MaxInstances: maxInstances})
	h := &selfHost{}
	s := load(t, e, "callback", h).(*skill)
	h.s = s
	for _, depth := range []int{1, maxInstances, maxInstances + 1, 9} {
		t.Run(fmt.Sprint("depth ", depth), func(t *testing.T) {
			// Only bounds a broken pool: a deadlock ends here instead of
			// hanging the test.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			input, want := nest(depth)
			got, werr := call(t, ctx, s, input)
			if werr != nil || got != want {
				t.Fatalf("got %s, %v; want %s", got, werr, want)
			}
			if n, idle := liveInstances(s), s.idleCount(); n != idle || idle > maxInstances {
				t.Errorf("after the call: %d instances, %d idle; want all idle, at most %d", n, idle, maxInstances)
			}
		})
	}
}

// TestInstanceLimit checks that nested calls wait at InstanceLimit, and
// that the wait ends with the call tree's deadline.
func TestInstanceLimit(t *testing.T) {
	e := newEngine(t, Options{MaxInstances: 1, InstanceLimit: 3})
	h := &selfHost{}
	s := load(t, e, "callback", h).(*skill)
	h.s = s
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	input, _ := nest(5)
	if _, werr := call(t, ctx, s, input); werr == nil || werr.Code != wire.CodeTimeout {
		t.Fatalf("error = %v, want %s", werr, wire.CodeTimeout)
	}
	if n := liveInstances(s); n > 1 {
		t.Errorf("%d instances left, want at most MaxInstances (1)", n)
	}
	input, want := nest(2) // within the limit
	mustCall(t, s, input, want)
}

// TestOuterCallsWait checks that calls from outside still wait at
// MaxInstances while a nested call gets past it.
func TestOuterCallsWait(t *testing.T) {
	e := newEngine(t, Options{MaxInstances: 1})
	h := &selfHost{held: make(chan struct{}), proceed: make(chan struct{})}
	s := load(t, e, "callback", h).(*skill)
	h.s = s
	type result struct {
		out  string
		werr *wire.Error
	}
	done := make(chan result, 1)
	go func() {
		// The deadline only bounds a broken pool, which would make the
		// nested call wait for the instance its caller holds.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := s.Call(ctx, []byte(`{"op":"tool","name":"block"}`))
		done <- result{string(out), wire.AsError(err)}
	}()
	<-h.held // the only instance MaxInstances allows is in use

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, werr := call(t, ctx, s, `{"op":"tool","name":"leaf"}`); werr == nil || werr.Code != wire.CodeTimeout {
		t.Fatalf("outer call while the instance is busy: %v, want %s", werr, wire.CodeTimeout)
	}

	close(h.proceed) // now the blocked call makes its nested call
	r := <-done
	if want := `{"got":[{"got":["leaf"]}]}`; r.werr != nil || r.out != want {
		t.Fatalf("blocked call = %s, %v; want %s", r.out, r.werr, want)
	}
	if n := liveInstances(s); n != 1 {
		t.Errorf("%d instances after the calls, want 1 (MaxInstances)", n)
	}
}

// TestInstanceLimitOptions checks the defaults of the pool's two bounds.
func TestInstanceLimitOptions(t *testing.T) {
	tests := []struct {
		in             Options
		maxIdle, limit int
	}{
		{Options{MaxInstances: 4}, 4, DefaultInstanceLimit},
		{Options{MaxInstances: 40}, 40, 80},
		{Options{MaxInstances: 4, InstanceLimit: 10}, 4, 10},
		{Options{MaxInstances: 8, InstanceLimit: 2}, 8, 9},
		{Options{MaxInstances: 8, InstanceLimit: 8}, 8, 9},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("max %d limit %d", tt.in.MaxInstances, tt.in.InstanceLimit), func(t *testing.T) {
			e := newEngine(t, tt.in)
			if e.opts.MaxInstances != tt.maxIdle || e.opts.InstanceLimit != tt.limit {
				t.Errorf("MaxInstances %d, InstanceLimit %d; want %d, %d", e.opts.MaxInstances, e.opts.InstanceLimit, tt.maxIdle, tt.limit)
			}
		})
	}
}
