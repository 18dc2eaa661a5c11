package plugin

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/skillsdev/skills/host/engine"
	"github.com/skillsdev/skills/sdk/wire"
	"github.com/skillsdev/skills/sdk/wire/pluginpb"
)

// Restart backoff. The first restart after a failure is immediate (a panic
// on one bad input should cost the next call nothing); each further failure
// in a row, with no successful call between, doubles the pause during which
// calls fail fast instead of spawning, so a plugin that dies on start cannot
// make the host spawn in a loop.
const (
	restartBase = 100 * time.Millisecond
	restartMax  = 10 * time.Second
)

// Skill is a loaded plugin skill. Its process starts on the first call (or
// Warm), serves concurrent calls over one gRPC connection, and is replaced
// after it crashes or after a call it was running timed out.
type Skill struct {
	eng  *Engine
	name string
	cfg  procConfig

	mu       sync.Mutex
	cur      *process              // serves new calls; nil until started or after a failure
	procs    map[*process]struct{} // every process not yet stopped, including retired ones
	starting *spawn                // the spawn in progress, if any
	failures int                   // failures in a row (crashes, failed spawns) since the last successful call
	lastFail time.Time
	lastErr  *wire.Error
	closed   bool
	stops    sync.WaitGroup // stop goroutines of retired processes
}

var _ engine.Skill = (*Skill)(nil)

// spawn is one process start that concurrent callers wait for.
type spawn struct {
	done chan struct{}
	err  *wire.Error // set before done is closed
}

// Call runs the skill's handler on input. Failures are *wire.Error: the
// handler's own code; CodeTimeout or CodeCanceled when ctx ends first (the
// plugin is then replaced, since Go cannot stop the handler that may still
// be running in it); CodeCrashed when the plugin dies during the call;
// CodeInternal when it cannot be started.
func (s *Skill) Call(ctx context.Context, input []byte) ([]byte, error) {
	if ctx.Err() != nil {
		return nil, ctxError(ctx, s.name, "before the call")
	}
	p, werr := s.acquire(ctx)
	if werr != nil {
		return nil, werr
	}
	id := p.host.begin(ctx)
	resp, err := p.skill.Call(ctx, &pluginpb.CallRequest{CallId: id, Input: input})
	p.host.end(id)
	if err == nil {
		s.release(p, true)
		if e := resp.GetError(); e != nil {
			return nil, e.Wire()
		}
		return resp.GetOutput(), nil
	}
	return nil, s.callFailed(ctx, p, err)
}

// callFailed classifies a failed RPC, retires the process when it can no
// longer be trusted, and releases it.
func (s *Skill) callFailed(ctx context.Context, p *process, err error) *wire.Error {
	code := status.Code(err)
	switch {
	case ctx.Err() != nil || code == codes.DeadlineExceeded:
		// The handler may still be running (a loop never returns): no
		// new calls go to this process, and it is killed once its other
		// calls are done.
		s.retire(p)
		s.release(p, false)
		if ctx.Err() == nil {
			return &wire.Error{Code: wire.CodeTimeout, Skill: s.name, Message: "plugin gave up on the call: " + status.Convert(err).Message()}
		}
		return ctxError(ctx, s.name, "during the call")
	case code == codes.ResourceExhausted:
		s.release(p, false)
		return &wire.Error{Code: wire.CodeInvalidInput, Skill: s.name, Message: "message too large: " + status.Convert(err).Message()}
	case code != codes.Unavailable && code != codes.Canceled:
		// The plugin answered, but not with the protocol: a bug in a
		// hand-written plugin, not a crash.
		s.release(p, false)
		return &wire.Error{Code: wire.CodeInternal, Skill: s.name, Message: "plugin protocol error: " + err.Error()}
	}
	if s.isClosed() {
		s.release(p, false)
		return &wire.Error{Code: wire.CodeCanceled, Skill: s.name, Message: "skill closed during the call"}
	}
	s.mu.Lock()
	first := !p.crashed
	p.crashed = true
	s.retireLocked(p)
	s.mu.Unlock()
	werr := &wire.Error{Code: wire.CodeCrashed, Skill: s.name, Message: p.exitReport(err)}
	if first {
		s.mu.Lock()
		s.failures++
		s.lastFail = time.Now()
		s.lastErr = werr
		s.mu.Unlock()
		s.logCrash(werr)
	}
	s.release(p, false)
	return werr
}

func (s *Skill) logCrash(werr *wire.Error) {
	s.cfg.logger.Warn("plugin crashed; the next call restarts it", "error", werr.Message)
}

// Warm starts the plugin process if it is not running, so that a broken
// artifact shows before the skill is put in service.
func (s *Skill) Warm(ctx context.Context) error {
	p, werr := s.acquire(ctx)
	if werr != nil {
		return werr
	}
	s.release(p, false)
	return nil
}

// Close kills every process of the skill, with its process group, and waits
// (within ctx) until they are reaped. Calls in flight fail with
// CodeCanceled; later calls fail with CodeInternal.
func (s *Skill) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	procs := s.procs
	s.procs = nil
	s.cur = nil
	st := s.starting
	s.mu.Unlock()
	s.eng.forget(s)

	done := make(chan struct{})
	go func() {
		if st != nil {
			<-st.done // the spawn sees closed and stops its process itself
		}
		var wg sync.WaitGroup
		for p := range procs {
			wg.Go(p.stop)
		}
		wg.Wait()
		s.stops.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close %s: %w (plugin processes were killed but not all reaped yet)", s.name, ctx.Err())
	}
}

// acquire returns the running process with one more call counted on it,
// starting it first if needed. Concurrent callers share one spawn; the spawn
// is not bound to any caller's ctx, so one caller's short deadline does not
// waste the start for the others.
func (s *Skill) acquire(ctx context.Context) (*process, *wire.Error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, &wire.Error{Code: wire.CodeInternal, Skill: s.name, Message: "skill is closed"}
		}
		if p := s.cur; p != nil {
			p.inflight++
			s.mu.Unlock()
			return p, nil
		}
		st := s.starting
		if st == nil {
			if werr := s.backoffLocked(); werr != nil {
				s.mu.Unlock()
				return nil, werr
			}
			st = &spawn{done: make(chan struct{})}
			s.starting = st
			go s.spawn(st)
		}
		s.mu.Unlock()
		select {
		case <-st.done:
			if st.err != nil {
				return nil, st.err
			}
		case <-ctx.Done():
			return nil, ctxError(ctx, s.name, "while the plugin was starting")
		}
	}
}

// backoffLocked refuses a restart while the backoff of repeated failures
// lasts.
func (s *Skill) backoffLocked() *wire.Error {
	if s.failures < 2 {
		return nil
	}
	wait := restartMax
	if shift := s.failures - 2; shift < 8 {
		wait = min(restartBase<<shift, restartMax)
	}
	left := time.Until(s.lastFail.Add(wait))
	if left <= 0 {
		return nil
	}
	return &wire.Error{
		Code:  s.lastErr.Code,
		Skill: s.name,
		Message: fmt.Sprintf("%s (failed %d times in a row; next restart allowed in %s)",
			s.lastErr.Message, s.failures, left.Round(time.Millisecond)),
	}
}

// spawn starts a process and publishes it, or the failure, to the waiters.
func (s *Skill) spawn(st *spawn) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	p, err := startProcess(ctx, s.cfg)
	s.mu.Lock()
	s.starting = nil
	switch {
	case err != nil:
		st.err = &wire.Error{Code: wire.CodeInternal, Skill: s.name, Message: err.Error()}
		s.failures++
		s.lastFail = time.Now()
		s.lastErr = st.err
	case s.closed:
		st.err = &wire.Error{Code: wire.CodeInternal, Skill: s.name, Message: "skill is closed"}
	default:
		s.cur = p
		s.procs[p] = struct{}{}
	}
	s.mu.Unlock()
	if err == nil && st.err != nil {
		p.stop()
	}
	close(st.done)
}

// release ends one call's use of p. A successful call resets the failure
// count; the last call out of a retired process stops it.
func (s *Skill) release(p *process, ok bool) {
	s.mu.Lock()
	p.inflight--
	if ok {
		s.failures = 0
	}
	stop := p.retired && p.inflight == 0 && s.procs != nil
	if stop {
		delete(s.procs, p)
		s.stops.Add(1)
	}
	s.mu.Unlock()
	if stop {
		go func() {
			defer s.stops.Done()
			p.stop()
		}()
	}
}

// retire takes p out of service: new calls start another process.
func (s *Skill) retire(p *process) {
	s.mu.Lock()
	s.retireLocked(p)
	s.mu.Unlock()
}

func (s *Skill) retireLocked(p *process) {
	p.retired = true
	if s.cur == p {
		s.cur = nil
	}
}

func (s *Skill) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// ctxError is the typed error of a call whose ctx ended.
func ctxError(ctx context.Context, skill, when string) *wire.Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &wire.Error{Code: wire.CodeTimeout, Skill: skill, Message: "deadline passed " + when}
	}
	return &wire.Error{Code: wire.CodeCanceled, Skill: skill, Message: "call canceled " + when}
}
