//go:build wasip1

package sdk

import (
	"encoding/json"
	"runtime"
	"unsafe"

	"github.com/skillsdev/skills/sdk/wire"
)

// A wasm skill is a reactor module (-buildmode=c-shared): the Go runtime's
// _initialize does not run main.main, yet authors write the same
// func main() { sdk.Serve(h) } for both runtimes. skill_init reaches the
// author's main through this linkname and runs it once, which registers the
// handler. The ABI is described in sdk/wire/ABI.md.
//
//go:linkname mainMain main.main
func mainMain()

// Serve registers h as the skill's handler and returns: the host drives the
// module through its exports. It is meant to be called once, from main.
func Serve(h Handler) {
	guest.handler = h
}

// guestState is the module's state between export calls. A wasm instance
// runs one export call at a time and the exports have no receiver, so the
// state has to be package-level; it is one value so that it is easy to see.
type guestState struct {
	handler Handler
	inited  bool

	// Buffers handed to the host by skill_alloc and not yet taken back by
	// skill_call or skill_free, by address. The host has at most one in
	// flight on the hot path, so that one sits in a slot and the map is only
	// made for hosts that hold several.
	slotPtr uint32
	slotBuf []byte
	lent    map[uint32][]byte

	// out is the result of the last skill_call (status byte, then JSON). It
	// belongs to the guest and stays valid until the next export call, so it
	// is reused instead of allocated per call.
	out []byte
}

var guest guestState

// maxKeptResult bounds the result buffer kept between calls, so one huge
// result does not pin its memory for the life of the instance.
const maxKeptResult = 1 << 20

//go:wasmexport skill_abi_version
func skillABIVersion() uint32 { return wire.ABIVersion }

//go:wasmexport skill_init
func skillInit() {
	if guest.inited {
		return
	}
	guest.inited = true
	mainMain()
}

//go:wasmexport skill_alloc
func skillAlloc(size uint32) uint32 {
	n := size
	if n == 0 {
		n = 1 // a real address even for an empty input
	}
	b := make([]byte, n)
	p := addrOf(b)
	guest.lend(p, b)
	return p
}

//go:wasmexport skill_free
func skillFree(ptr uint32) {
	guest.take(ptr)
}

//go:wasmexport skill_call
func skillCall(ptr, size uint32) uint64 {
	// Let the guest's own goroutines (the GC's workers among them) run: a
	// reactor only runs Go code inside export calls, and a skill that is
	// called in a tight loop would otherwise starve them.
	defer runtime.Gosched()

	b, ok := guest.take(ptr)
	if !ok || int(size) > len(b) {
		return guest.fail(&Error{Code: wire.CodeInternal, Message: "skill_call: input buffer was not returned by skill_alloc"})
	}
	if guest.handler == nil {
		return guest.fail(&Error{Code: wire.CodeInternal, Message: "the skill's main did not call sdk.Serve"})
	}
	// The handler owns its input: the buffer was made for this call and is
	// never handed out again, so a handler may keep it.
	input := json.RawMessage(b[:size:size])
	out, err := encodeResult(guest.handler(wasmContext{}, input))
	if err != nil {
		return guest.fail(err)
	}
	return guest.reply(wire.StatusOK, out)
}

func (g *guestState) lend(p uint32, b []byte) {
	if g.slotBuf == nil {
		g.slotPtr, g.slotBuf = p, b
		return
	}
	if g.lent == nil {
		g.lent = make(map[uint32][]byte)
	}
	g.lent[p] = b
}

func (g *guestState) take(p uint32) ([]byte, bool) {
	if g.slotBuf != nil && g.slotPtr == p {
		b := g.slotBuf
		g.slotPtr, g.slotBuf = 0, nil
		return b, true
	}
	b, ok := g.lent[p]
	if ok {
		delete(g.lent, p)
	}
	return b, ok
}

// reply stores status+body as the call's result and packs its address and
// length for the host.
func (g *guestState) reply(status byte, body []byte) uint64 {
	need := 1 + len(body)
	if cap(g.out) > maxKeptResult && need <= maxKeptResult {
		g.out = nil
	}
	g.out = append(append(g.out[:0], status), body...)
	return uint64(addrOf(g.out))<<32 | uint64(len(g.out))
}

func (g *guestState) fail(e *Error) uint64 {
	if e.Code == "" {
		e = &Error{Code: wire.CodeHandler, Message: e.Message, Skill: e.Skill, Chain: e.Chain}
	}
	body, err := json.Marshal(e)
	if err != nil {
		// An *Error holds only strings; this cannot fail, but the host must
		// still get well-formed JSON if it ever does.
		body = []byte(`{"code":"internal","message":"encode error"}`)
	}
	return g.reply(wire.StatusError, body)
}

// wasmContext reaches the host through the "skills" imports. It has no
// state: host calls are synchronous and the host knows which call they
// belong to.
type wasmContext struct{}

func (wasmContext) CallTool(name string, input any) (json.RawMessage, error) {
	return hostCall(wire.KindTool, name, input)
}

func (wasmContext) CallSkill(name string, input any) (json.RawMessage, error) {
	return hostCall(wire.KindSkill, name, input)
}

func (wasmContext) Log(level Level, msg string) {
	hostLog(int32(level), unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
	runtime.KeepAlive(msg)
}

func hostCall(kind uint32, name string, input any) (json.RawMessage, error) {
	in, err := encodeInput(input)
	if err != nil {
		return nil, err
	}
	n := hostCallImport(kind,
		unsafe.Pointer(unsafe.StringData(name)), uint32(len(name)),
		unsafe.Pointer(unsafe.SliceData(in)), uint32(len(in)))
	runtime.KeepAlive(name)
	runtime.KeepAlive(in)
	if n == 0 {
		return nil, &Error{Code: wire.CodeInternal, Message: "host returned an empty result for " + name}
	}
	buf := make([]byte, n)
	hostResult(unsafe.Pointer(unsafe.SliceData(buf)))
	if buf[0] == wire.StatusOK {
		return json.RawMessage(buf[1:]), nil
	}
	e := new(Error)
	if err := json.Unmarshal(buf[1:], e); err != nil || e.Code == "" {
		return nil, &Error{Code: wire.CodeInternal, Message: "host returned a malformed error for " + name, Skill: name}
	}
	return nil, e
}

func addrOf(b []byte) uint32 {
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

// The host functions; wire.ABI.md documents them.

//go:wasmimport skills call
func hostCallImport(kind uint32, name unsafe.Pointer, nameLen uint32, in unsafe.Pointer, inLen uint32) uint32

//go:wasmimport skills result
func hostResult(dst unsafe.Pointer)

//go:wasmimport skills log
func hostLog(level int32, msg unsafe.Pointer, msgLen uint32)
