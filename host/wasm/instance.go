package wasm

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/skillsdev/skills/sdk/wire"
)

// instance is one instantiation of a skill's module. It serves one call at a
// time; the pool hands it from caller to caller.
type instance struct {
	s      *skill
	mod    api.Module
	memory api.Memory
	mem    cappedMemory
	stderr stderrWatch

	// The exports, looked up once: a lookup per call costs about a
	// microsecond and an allocation.
	allocFn, callFn api.Function
	stack           [2]uint64 // parameters and results of the calls above

	// pending is the result of the guest's last host call (status byte and
	// JSON), waiting for the guest to fetch it with result(ptr).
	pending []byte

	broken bool // it failed a call and must not serve another
	gated  bool // the call it serves holds a place in skill.run

	// ctx is the context of the call being served, for WASI sleeps, whose
	// hook gets no context; nil between calls.
	ctx context.Context
}

// maxKeptPending bounds the pending buffer kept between host calls.
const maxKeptPending = 1 << 20

// newInstance instantiates the module and runs the guest's initialization.
func (s *skill) newInstance(ctx context.Context) (*instance, *wire.Error) {
	inst := &instance{s: s, mem: cappedMemory{limit: s.memLimit}}
	ictx := experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(inst.mem.allocate))
	inst.ctx = ctx
	defer func() { inst.ctx = nil }()
	cfg := s.modCfg.WithStderr(&inst.stderr).WithNanosleep(inst.sleep)
	mod, err := s.rt.InstantiateModule(ictx, s.compiled, cfg)
	if err != nil {
		return nil, inst.failure(ctx, err, "start instance")
	}
	inst.mod, inst.memory = mod, mod.Memory()
	s.instances.Store(mod, inst)

	// checkModule made sure these exist with the right signatures.
	version := mod.ExportedFunction(wire.ExportABIVersion)
	inst.allocFn = mod.ExportedFunction(wire.ExportAlloc)
	inst.callFn = mod.ExportedFunction(wire.ExportCall)
	st := inst.stack[:1]
	if err := version.CallWithStack(ctx, st); err != nil {
		werr := inst.failure(ctx, err, "start instance: "+wire.ExportABIVersion)
		inst.close()
		return nil, werr
	}
	if v := uint32(st[0]); v != wire.ABIVersion {
		inst.close()
		return nil, &wire.Error{Code: wire.CodeInternal, Skill: s.name,
			Message: fmt.Sprintf("module speaks skill ABI version %d; this host speaks version %d", v, wire.ABIVersion)}
	}
	if err := mod.ExportedFunction(wire.ExportInit).CallWithStack(ctx, nil); err != nil {
		werr := inst.failure(ctx, err, "start instance: "+wire.ExportInit)
		inst.close()
		return nil, werr
	}
	return inst, nil
}

// sleep is the instance's WASI sleep (a Go guest's time.Sleep ends up
// here). It wakes early when the call's context is done, and sleeps at most
// maxSleep at a time, so that a sleeping guest is stopped like a busy one.
func (inst *instance) sleep(ns int64) {
	ctx := inst.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	d := min(time.Duration(ns), maxSleep)
	if d > 0 {
		inst.offCPU(func() {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		})
	}
	inst.s.stopIfDone(ctx)
}

func (inst *instance) close() {
	if inst.mod == nil {
		return
	}
	inst.s.instances.Delete(inst.mod)
	// The module may already be closed (after an exit); that error says nothing.
	_ = inst.mod.Close(context.Background())
	inst.mod = nil
}

// call runs one skill call: alloc, write the input, call, read the result.
// The guest owns the result buffer until its next export call, so nothing
// is freed.
func (inst *instance) call(ctx context.Context, input []byte) ([]byte, *wire.Error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxError(ctx, inst.s.name)
	}
	if uint64(len(input)) > math.MaxUint32 {
		return nil, &wire.Error{Code: wire.CodeInvalidInput, Skill: inst.s.name, Message: "input larger than 4 GiB"}
	}
	inst.mem.refused = false
	inst.stderr.reset()
	inst.ctx = ctx
	defer func() { inst.ctx = nil }()

	st := inst.stack[:]
	st[0] = uint64(len(input))
	if err := inst.allocFn.CallWithStack(ctx, st[:1]); err != nil {
		return nil, inst.failure(ctx, err, wire.ExportAlloc)
	}
	ptr := uint32(st[0])
	if !inst.memory.Write(ptr, input) {
		return nil, inst.fault(fmt.Sprintf("%s returned %#x: no room for %d bytes there", wire.ExportAlloc, ptr, len(input)))
	}
	st[0], st[1] = uint64(ptr), uint64(len(input))
	if err := inst.callFn.CallWithStack(ctx, st); err != nil {
		return nil, inst.failure(ctx, err, wire.ExportCall)
	}
	rptr, rlen := uint32(st[0]>>32), uint32(st[0])
	res, ok := inst.memory.Read(rptr, rlen)
	if !ok || rlen == 0 {
		return nil, inst.fault(fmt.Sprintf("%s returned result %#x+%d, outside guest memory or empty", wire.ExportCall, rptr, rlen))
	}
	switch res[0] {
	case wire.StatusOK:
		return append([]byte(nil), res[1:]...), nil
	case wire.StatusError:
		e := new(wire.Error)
		if err := json.Unmarshal(res[1:], e); err != nil || e.Code == "" {
			return nil, &wire.Error{Code: wire.CodeInternal, Skill: inst.s.name, Message: "skill returned a malformed error: " + truncate(string(res[1:]), 200)}
		}
		if e.Skill == "" {
			e.Skill = inst.s.name
		}
		return nil, e
	default:
		return nil, inst.fault(fmt.Sprintf("%s returned unknown status %d", wire.ExportCall, res[0]))
	}
}

// fault records a broken ABI contract: the instance is discarded.
func (inst *instance) fault(msg string) *wire.Error {
	inst.broken = true
	return &wire.Error{Code: wire.CodeInternal, Skill: inst.s.name, Message: "ABI violation: " + msg}
}

// setPending stores a host call's outcome for result(ptr).
func (inst *instance) setPending(out []byte, err error) {
	if cap(inst.pending) > maxKeptPending {
		inst.pending = nil
	}
	if err != nil {
		we := wire.AsError(err)
		body, merr := json.Marshal(we)
		if merr != nil {
			body = []byte(`{"code":"internal","message":"unencodable error"}`)
		}
		inst.pending = append(append(inst.pending[:0], wire.StatusError), body...)
	} else {
		if len(out) == 0 {
			out = []byte("null")
		}
		inst.pending = append(append(inst.pending[:0], wire.StatusOK), out...)
	}
	if uint64(len(inst.pending)) > math.MaxUint32 {
		inst.pending = append(inst.pending[:0], wire.StatusError)
		inst.pending = append(inst.pending, `{"code":"tool_failed","message":"result larger than 4 GiB"}`...)
	}
}

func (inst *instance) clearPending() { inst.pending = inst.pending[:0] }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
