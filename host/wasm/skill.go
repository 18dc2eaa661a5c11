package wasm

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/skillsdev/skills/host/engine"
	"github.com/skillsdev/skills/sdk/wire"
)

// The host module that instrumented code calls at its checks. Guests do not
// import it themselves; ABI.md reserves the name.
const (
	tickModule = "skills.internal"
	tickFunc   = "tick"
)

// maxSleep bounds one WASI sleep, so that a sleeping guest notices soon
// that its skill is being closed.
const maxSleep = 10 * time.Millisecond

// skill is a loaded module and its instances. It implements engine.Skill.
type skill struct {
	name     string
	spec     engine.Spec
	eng      *Engine
	log      *slog.Logger
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	modCfg   wazero.ModuleConfig
	memLimit uint64
	metered  bool

	// Every instance in use (or being made) holds a token: of sem for an
	// outer call (see Options.MaxInstances), so at most MaxInstances; of
	// nested for a nested call, so at most InstanceLimit-MaxInstances. A
	// call takes one token either way, so it costs what it did when one
	// bound served all calls (a second channel per call measured ~2%). idle
	// holds up to MaxInstances instances not in use, as a stack: the most
	// recently used one, whose memory is still in the CPU caches, serves
	// the next call (a FIFO cycling through instances made single-caller
	// calls twice as slow).
	sem    chan struct{}
	nested chan struct{}
	run    *gate // places for outer calls to run guest code (Options.Running)
	idleMu sync.Mutex
	idle   []*instance

	// instances maps a guest module to its instance, for the host functions,
	// which wazero hands the calling module.
	instances sync.Map

	closed    atomic.Bool // no new calls
	killed    atomic.Bool // running guests stop at their next check
	closeOnce sync.Once
	closeErr  error
}

var _ engine.Skill = (*skill)(nil)

func (e *Engine) newSkill(ctx context.Context, name string, spec engine.Spec, bin []byte, digest string, given bool) (*skill, error) {
	s := &skill{
		name:     name,
		spec:     spec,
		eng:      e,
		log:      spec.Logger,
		memLimit: spec.MemoryLimit,
		sem:      make(chan struct{}, e.opts.MaxInstances),
		nested:   make(chan struct{}, e.opts.InstanceLimit-e.opts.MaxInstances),
		run:      newGate(e.opts.Running),
		idle:     make([]*instance, 0, e.opts.MaxInstances),
	}
	if s.log == nil {
		s.log = e.log
	}
	if s.memLimit == 0 {
		s.memLimit = e.opts.MemoryLimit
	}
	if s.memLimit > 4<<30 {
		s.memLimit = 4 << 30 // the most a 32-bit memory can address
	}

	code, metered := e.metered(name, bin, digest, given)
	if !metered {
		code = bin
	}
	compiled, rt, err := s.compile(ctx, code, metered)
	if err != nil && metered {
		// The instrumented module failed where the original might not: try
		// the original, so the error names the module's fault, or so that
		// a module the instrumentation broke still runs.
		var err2 error
		compiled, rt, err2 = s.compile(ctx, bin, false)
		if err2 != nil {
			return nil, err2
		}
		e.log.Error("wasm: instrumented module does not compile; using wazero's termination checks", "skill", name, "err", err)
		metered, err = false, nil
	}
	if err != nil {
		return nil, err
	}
	s.rt, s.compiled, s.metered = rt, compiled, metered
	if err := s.start(ctx); err != nil {
		_ = rt.Close(ctx)
		return nil, err
	}
	return s, nil
}

// compile makes the skill's runtime and compiles code in it. Without
// metering the runtime stops runaway guests itself (WithCloseOnContextDone).
func (s *skill) compile(ctx context.Context, code []byte, metered bool) (wazero.CompiledModule, wazero.Runtime, error) {
	cfg := wazero.NewRuntimeConfig().
		WithCompilationCache(s.eng.cache).
		WithCloseOnContextDone(!metered)
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	// On a cache miss, compile functions on every core: a Go guest has
	// thousands, and one worker takes about half a second.
	compiled, err := rt.CompileModule(experimental.WithCompilationWorkers(ctx, runtime.GOMAXPROCS(0)), code)
	if err != nil {
		_ = rt.Close(ctx)
		return nil, nil, fmt.Errorf("compile %s: %w", s.spec.Artifact, err)
	}
	return compiled, rt, nil
}

// start checks the module against the ABI, provides its imports and makes
// the first instance.
func (s *skill) start(ctx context.Context) error {
	if err := checkModule(s.compiled, s.metered, s.memLimit); err != nil {
		return fmt.Errorf("%s: %w", s.spec.Artifact, err)
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, s.rt); err != nil {
		return fmt.Errorf("instantiate WASI: %w", err)
	}
	_, err := s.rt.NewHostModuleBuilder(wire.HostModule).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(s.hostCall), []api.ValueType{i32, i32, i32, i32, i32}, []api.ValueType{i32}).Export(wire.ImportCall).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(s.hostResult), []api.ValueType{i32}, nil).Export(wire.ImportResult).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(s.hostLog), []api.ValueType{i32, i32, i32}, nil).Export(wire.ImportLog).
		Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("instantiate host module: %w", err)
	}
	if s.metered {
		_, err := s.rt.NewHostModuleBuilder(tickModule).
			NewFunctionBuilder().WithGoFunction(api.GoFunc(s.tick), nil, nil).Export(tickFunc).
			Instantiate(ctx)
		if err != nil {
			return fmt.Errorf("instantiate check module: %w", err)
		}
	}
	s.modCfg = wazero.NewModuleConfig().
		WithName(""). // instances are anonymous: several live in one runtime
		WithStartFunctions("_initialize").
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader)

	s.sem <- struct{}{}
	inst, werr := s.newInstance(ctx)
	if werr != nil {
		<-s.sem
		return werr
	}
	s.release(inst, true)
	return nil
}

// nestedKey marks the context of the host calls (tools, skills) of a
// running guest call of an engine: a skill call with this mark is a nested
// one, which must not wait for the instances the calls up its chain hold.
type nestedKey struct{ e *Engine }

// Call implements engine.Skill.
func (s *skill) Call(ctx context.Context, input []byte) ([]byte, error) {
	outer := ctx.Value(nestedKey{s.eng}) == nil
	if outer {
		// A nested call runs while the call up its chain waits on the
		// host, which gave that call's place up: it takes none.
		if s.run.enter(ctx) != nil {
			return nil, ctxError(ctx, s.name)
		}
	}
	inst, werr := s.acquire(ctx, outer)
	if werr != nil {
		if outer {
			s.run.leave()
		}
		return nil, werr
	}
	inst.gated = outer
	out, werr := inst.call(ctx, input)
	gated := inst.gated
	inst.gated = false
	s.release(inst, outer)
	if gated {
		s.run.leave()
	}
	if werr != nil {
		return nil, werr
	}
	return out, nil
}

// offCPU runs wait, something a call does on the host (a tool, another
// skill, a sleep), with the call's place in s.run given up meanwhile.
//
// Afterwards the call takes a place back if one is free, and otherwise
// goes on without one: it must not wait for a place, because the callers
// holding the places may be waiting for the instance token this call
// holds. The bound is a matter of speed, not of safety, and is exceeded
// by at most the calls back from the host at the same moment.
func (inst *instance) offCPU(wait func()) {
	if !inst.gated {
		wait()
		return
	}
	inst.s.run.leave()
	inst.gated = false
	wait()
	inst.gated = inst.s.run.tryEnter()
}

// Warm implements engine.Skill: it makes a new instance and keeps it.
func (s *skill) Warm(ctx context.Context) error {
	if werr := s.token(ctx, true); werr != nil {
		return werr
	}
	inst, werr := s.newInstance(ctx)
	if werr != nil {
		s.untoken(true)
		return werr
	}
	s.release(inst, true)
	return nil
}

// token waits for the right to run a call: a token of sem for an outer
// call, of nested for a nested one.
func (s *skill) token(ctx context.Context, outer bool) *wire.Error {
	if s.closed.Load() {
		return s.closedError()
	}
	if ctx.Err() != nil {
		return ctxError(ctx, s.name)
	}
	sem := s.sem
	if !outer {
		sem = s.nested
	}
	select {
	case sem <- struct{}{}:
	default:
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctxError(ctx, s.name)
		}
	}
	if s.closed.Load() {
		<-sem
		return s.closedError()
	}
	return nil
}

// untoken gives back what token took.
func (s *skill) untoken(outer bool) {
	if outer {
		<-s.sem
	} else {
		<-s.nested
	}
}

// acquire returns an idle instance, or a new one when there is none.
func (s *skill) acquire(ctx context.Context, outer bool) (*instance, *wire.Error) {
	if werr := s.token(ctx, outer); werr != nil {
		return nil, werr
	}
	if inst := s.popIdle(); inst != nil {
		return inst, nil
	}
	inst, werr := s.newInstance(ctx)
	if werr != nil {
		s.untoken(outer)
		return nil, werr
	}
	return inst, nil
}

// release returns an instance to the pool, or closes it if it failed or
// MaxInstances are idle already. An instance whose memory grew past half
// its cap is closed too: linear memory never shrinks, so it would hold that
// memory while idle and start the next call close to the cap.
func (s *skill) release(inst *instance, outer bool) {
	if inst.broken || s.closed.Load() || uint64(inst.memory.Size()) > s.memLimit/2 || !s.pushIdle(inst) {
		inst.close()
	}
	s.untoken(outer)
}

func (s *skill) popIdle() *instance {
	s.idleMu.Lock()
	defer s.idleMu.Unlock()
	n := len(s.idle)
	if n == 0 {
		return nil
	}
	inst := s.idle[n-1]
	s.idle[n-1] = nil
	s.idle = s.idle[:n-1]
	return inst
}

// pushIdle keeps inst for the next call, unless MaxInstances are kept.
func (s *skill) pushIdle(inst *instance) bool {
	s.idleMu.Lock()
	defer s.idleMu.Unlock()
	if len(s.idle) == cap(s.sem) {
		return false
	}
	s.idle = append(s.idle, inst)
	return true
}

// idleCount is how many instances wait for a call.
func (s *skill) idleCount() int {
	s.idleMu.Lock()
	defer s.idleMu.Unlock()
	return len(s.idle)
}

func (s *skill) closedError() *wire.Error {
	return &wire.Error{Code: wire.CodeNotFound, Skill: s.name, Message: "skill is closed"}
}

// Close implements engine.Skill: new calls are refused at once, running
// calls may finish until ctx is done, then they are stopped and the runtime
// (every instance and the compiled code) is released.
func (s *skill) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		// Holding every token means no call runs.
		held, heldNested := hold(ctx, s.sem), hold(ctx, s.nested)
		s.killed.Store(true)
		for inst := s.popIdle(); inst != nil; inst = s.popIdle() {
			inst.close()
		}
		if err := s.rt.Close(context.WithoutCancel(ctx)); err != nil {
			s.closeErr = fmt.Errorf("close %s: %w", s.name, err)
		}
		// Let callers that raced with Close see it closed.
		for ; held > 0; held-- {
			<-s.sem
		}
		for ; heldNested > 0; heldNested-- {
			<-s.nested
		}
		s.eng.forget(s)
	})
	return s.closeErr
}

// hold takes every token of sem, or as many as it can before ctx is done,
// and returns how many it took.
func hold(ctx context.Context, sem chan struct{}) int {
	held := 0
	for held < cap(sem) {
		select {
		case sem <- struct{}{}:
			held++
		case <-ctx.Done():
			return held
		}
	}
	return held
}

// The host functions. wazero passes each the context of the guest call it
// serves (the ctx given to Skill.Call), which is handed on to the
// Callbacks: that is how the call chain and deadline travel. hostCall adds
// one value, the mark that makes the calls it leads to nested ones.

func (s *skill) instanceOf(mod api.Module) *instance {
	if v, ok := s.instances.Load(mod); ok {
		return v.(*instance)
	}
	panic(abiFault("host function called outside a skill call"))
}

// hostCall implements the import call(kind, name_ptr, name_len, in_ptr, in_len) -> len.
func (s *skill) hostCall(ctx context.Context, mod api.Module, stack []uint64) {
	inst := s.instanceOf(mod)
	kind := uint32(stack[0])
	name, ok1 := inst.memory.Read(uint32(stack[1]), uint32(stack[2]))
	in, ok2 := inst.memory.Read(uint32(stack[3]), uint32(stack[4]))
	if !ok1 || !ok2 {
		panic(abiFault("call: name or input lies outside guest memory"))
	}
	callee := string(name)
	input := append([]byte(nil), in...) // the callee may keep it; guest memory changes
	if ctx.Value(nestedKey{s.eng}) == nil {
		ctx = context.WithValue(ctx, nestedKey{s.eng}, true)
	}
	var out []byte
	var err error
	cb := s.spec.Callbacks
	switch {
	case kind != wire.KindTool && kind != wire.KindSkill:
		panic(abiFault(fmt.Sprintf("call: unknown kind %d", kind)))
	case cb == nil:
		err = &wire.Error{Code: wire.CodeNotFound, Skill: callee, Message: "the host offers no tools or skills"}
	case kind == wire.KindTool:
		inst.offCPU(func() { out, err = cb.CallTool(ctx, callee, input) })
	default:
		inst.offCPU(func() { out, err = cb.CallSkill(ctx, callee, input) })
	}
	inst.setPending(out, err)
	stack[0] = uint64(len(inst.pending))
}

// hostResult implements the import result(ptr): it copies the pending
// result of the last call into guest memory.
func (s *skill) hostResult(_ context.Context, mod api.Module, stack []uint64) {
	inst := s.instanceOf(mod)
	if !inst.memory.Write(uint32(stack[0]), inst.pending) {
		panic(abiFault("result: destination lies outside guest memory"))
	}
	inst.clearPending()
}

// hostLog implements the import log(level, ptr, len).
func (s *skill) hostLog(ctx context.Context, mod api.Module, stack []uint64) {
	msg, ok := mod.Memory().Read(uint32(stack[1]), uint32(stack[2]))
	if !ok {
		panic(abiFault("log: message lies outside guest memory"))
	}
	level := slog.Level(int32(uint32(stack[0])))
	if cb := s.spec.Callbacks; cb != nil {
		cb.Log(ctx, level, string(msg))
		return
	}
	s.log.Log(ctx, level, string(msg), "skill", s.name)
}

// tick is what instrumented code calls every checkInterval loop iterations
// and function entries: it ends a call whose deadline passed, or whose skill
// is being closed.
func (s *skill) tick(ctx context.Context, _ []uint64) { s.stopIfDone(ctx) }

// stopIfDone ends the guest call (by panicking out of the host function,
// which wazero turns into the call's error) when ctx is done or the skill
// is being closed.
func (s *skill) stopIfDone(ctx context.Context) {
	if err := ctx.Err(); err != nil {
		panic(err)
	}
	// The context's timer fires on another goroutine, which a busy machine
	// may run late; reading the clock here stops the guest on time anyway.
	// Ticks come tens of microseconds apart, so this costs nothing.
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		panic(context.DeadlineExceeded)
	}
	if s.killed.Load() {
		panic(&wire.Error{Code: wire.CodeCanceled, Skill: s.name, Message: "skill closed during the call"})
	}
}
