// Package meter rewrites a WebAssembly module so that a guest which runs for
// long hands control to the host at a bounded interval, where the host can
// stop it.
//
// wazero's own answer, WithCloseOnContextDone, makes compiled code leave for
// Go at every loop iteration (wazero issue 2466); Go guests branch through a
// loop header for nearly every jump, so a CPU-bound Go guest (word count and
// FNV over 1 MiB) took 7x the CPU time with it, against 1.2-1.5x with this
// (BenchmarkRunaway in host/wasm). The check inserted here costs a
// decrement and a branch: a counter in a new global is decremented at every
// loop header and at the entry of every function that makes calls, and only
// when it reaches zero does the guest call the host (the import named in
// Config), which can then end the call. Any execution that does not end
// passes through those points without bound, because straight-line code is
// finite, so it must loop or call. (WithCloseOnContextDone checks loops
// only: a recursion without loops escapes it.)
//
// The host function runs in Go, so reaching it also lets the Go scheduler
// and garbage collector preempt the goroutine that runs the guest: a guest
// spinning in compiled code without such exits would stall every
// stop-the-world pause of the host.
package meter

import (
	"bytes"
	"errors"
	"fmt"
	"math"
)

// Config names the host function the inserted checks call, and how often.
type Config struct {
	Module, Name string // the import: a function of type () -> ()
	// Interval is how many loop iterations and function entries pass between
	// two calls of the import. Larger is cheaper and reacts later.
	Interval uint32
}

const (
	secCustom   = 0
	secType     = 1
	secImport   = 2
	secGlobal   = 6
	secExport   = 7
	secStart    = 8
	secElement  = 9
	secCode     = 10
	secDataCnt  = 12
	secTag      = 13
	maxSections = 14
)

// order is the position of each known section id in a module.
var order = [maxSections]int{
	secCustom: 0, secType: 1, secImport: 2, 3: 3, 4: 4, 5: 5, secTag: 6, secGlobal: 7,
	secExport: 8, secStart: 9, secElement: 10, secDataCnt: 11, secCode: 12, 11: 13,
}

var header = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

type section struct {
	id   byte
	body []byte
}

// module holds what the rewrite needs to know about the input.
type module struct {
	funcImports   uint32 // imported functions: defined ones are numbered after them
	globalImports uint32
	globals       uint32 // defined globals
	types         uint32
	voidType      int64 // index of an existing () -> () type, or -1

	tickFunc   uint32 // index of the new import
	tickType   uint32
	fuelGlobal uint32
	check      []byte // the code inserted at each check point
}

// Instrument returns a copy of the module bin with the checks inserted. It
// refuses, with an error naming the offset, anything it does not fully
// understand rather than produce a module that behaves differently.
func Instrument(bin []byte, c Config) ([]byte, error) {
	if c.Interval == 0 || c.Interval > math.MaxInt32 {
		return nil, fmt.Errorf("meter: interval %d out of range", c.Interval)
	}
	if c.Module == "" || c.Name == "" {
		return nil, errors.New("meter: no import name")
	}
	if !bytes.HasPrefix(bin, header) {
		return nil, errors.New("meter: not a WebAssembly 1.0 binary module")
	}
	secs, err := splitSections(bin)
	if err != nil {
		return nil, err
	}
	m := &module{voidType: -1}
	for _, s := range secs {
		var err error
		switch s.id {
		case secType:
			err = m.scanTypes(s.body)
		case secImport:
			err = m.scanImports(s.body)
		case secGlobal:
			r := &reader{b: s.body}
			m.globals = uint32(r.count())
			err = r.err
		}
		if err != nil {
			return nil, fmt.Errorf("meter: section %d: %w", s.id, err)
		}
	}
	if m.funcImports == math.MaxUint32 || m.globalImports+m.globals == math.MaxUint32 {
		return nil, errors.New("meter: index space full")
	}
	m.tickFunc = m.funcImports
	m.fuelGlobal = m.globalImports + m.globals
	if m.voidType >= 0 {
		m.tickType = uint32(m.voidType)
	} else {
		m.tickType = m.types
	}
	m.check = m.checkCode(c.Interval)

	out := make([]byte, 0, len(bin)+len(bin)/8)
	out = append(out, header...)
	need := map[byte]bool{secType: m.voidType < 0, secImport: true, secGlobal: true}
	emitMissing := func(before int) {
		for _, id := range []byte{secType, secImport, secGlobal} {
			if need[id] && order[id] < before {
				out = appendSection(out, id, m.extend(id, nil, c))
				need[id] = false
			}
		}
	}
	for _, s := range secs {
		if s.id != secCustom {
			emitMissing(order[s.id])
		}
		body, keep, err := m.rewrite(s, c)
		if err != nil {
			return nil, fmt.Errorf("meter: section %d: %w", s.id, err)
		}
		if !keep {
			continue
		}
		if need[s.id] {
			body = m.extend(s.id, body, c)
			need[s.id] = false
		}
		out = appendSection(out, s.id, body)
	}
	emitMissing(maxSections + 1)
	return out, nil
}

func splitSections(bin []byte) ([]section, error) {
	r := &reader{b: bin, pos: len(header)}
	var secs []section
	last := 0
	for !r.done() {
		id := r.byte()
		body := r.bytes(r.count())
		if r.err != nil {
			break
		}
		if int(id) >= maxSections {
			return nil, fmt.Errorf("meter: offset %d: unknown section id %d", r.pos, id)
		}
		if id != secCustom {
			if order[id] <= last {
				return nil, fmt.Errorf("meter: section %d out of order or repeated", id)
			}
			last = order[id]
		}
		secs = append(secs, section{id: id, body: body})
	}
	if r.err != nil {
		return nil, fmt.Errorf("meter: %w", r.err)
	}
	return secs, nil
}

func appendSection(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = appendU32(out, uint32(len(body)))
	return append(out, body...)
}

func (m *module) scanTypes(b []byte) error {
	r := &reader{b: b}
	n := r.count()
	for i := 0; i < n && r.err == nil; i++ {
		if r.byte() != 0x60 {
			r.failAt(r.pos-1, "unsupported type form")
			break
		}
		params := r.count()
		for j := 0; j < params; j++ {
			valType(r)
		}
		results := r.count()
		for j := 0; j < results; j++ {
			valType(r)
		}
		if params == 0 && results == 0 && m.voidType < 0 {
			m.voidType = int64(i)
		}
	}
	m.types = uint32(n)
	return r.err
}

func (m *module) scanImports(b []byte) error {
	r := &reader{b: b}
	n := r.count()
	for i := 0; i < n && r.err == nil; i++ {
		r.name()
		r.name()
		switch kind := r.byte(); kind {
		case 0x00: // func
			r.u32()
			m.funcImports++
		case 0x01: // table
			valType(r)
			limits(r)
		case 0x02: // memory
			limits(r)
		case 0x03: // global
			valType(r)
			r.byte()
			m.globalImports++
		case 0x04: // tag
			r.byte()
			r.u32()
		default:
			r.failAt(r.pos-1, "unknown import kind %d", kind)
		}
	}
	return r.err
}

func limits(r *reader) {
	flags := r.byte()
	if flags > 0x07 {
		r.failAt(r.pos-1, "unknown limits flags 0x%02x", flags)
		return
	}
	r.uleb(64)
	if flags&1 != 0 {
		r.uleb(64)
	}
}

// extend appends the new type, import or global to a section body (nil when
// the module had no such section).
func (m *module) extend(id byte, body []byte, c Config) []byte {
	r := &reader{b: body}
	var n uint32
	if body != nil {
		n = r.u32() // already validated by the scan
	}
	out := appendU32(nil, n+1)
	out = append(out, body[r.pos:]...)
	switch id {
	case secType:
		out = append(out, 0x60, 0x00, 0x00)
	case secImport:
		out = appendName(out, []byte(c.Module))
		out = appendName(out, []byte(c.Name))
		out = append(out, 0x00)
		out = appendU32(out, m.tickType)
	case secGlobal:
		out = append(out, 0x7f, 0x01, opI32Const)
		out = appendS32(out, int32(c.Interval))
		out = append(out, opEnd)
	}
	return out
}

// checkCode is what runs at each check point:
//
//	fuel = fuel - 1
//	if fuel == 0 { tick(); fuel = interval }
func (m *module) checkCode(interval uint32) []byte {
	var b []byte
	b = append(b, opGlobalGet)
	b = appendU32(b, m.fuelGlobal)
	b = append(b, opI32Const, 1, opI32Sub, opGlobalSet)
	b = appendU32(b, m.fuelGlobal)
	b = append(b, opGlobalGet)
	b = appendU32(b, m.fuelGlobal)
	b = append(b, opI32Eqz, opIf, blockEmpty, opCall)
	b = appendU32(b, m.tickFunc)
	b = append(b, opI32Const)
	b = appendS32(b, int32(interval))
	b = append(b, opGlobalSet)
	b = appendU32(b, m.fuelGlobal)
	return append(b, opEnd)
}

// fn maps a function index of the input to the output, where the new import
// sits between the imported and the defined functions.
func (m *module) fn(idx uint32) uint32 {
	if idx >= m.funcImports {
		return idx + 1
	}
	return idx
}

// rewrite returns the new body of a section, or keep=false to drop it.
func (m *module) rewrite(s section, c Config) (body []byte, keep bool, err error) {
	switch s.id {
	case secCustom:
		return m.rewriteCustom(s.body)
	case secGlobal:
		body, err = m.rewriteGlobals(s.body)
	case secExport:
		body, err = m.rewriteExports(s.body)
	case secStart:
		r := &reader{b: s.body}
		idx := r.u32()
		if r.err == nil && r.pos != len(s.body) {
			r.failf("trailing bytes")
		}
		body, err = appendU32(nil, m.fn(idx)), r.err
	case secElement:
		body, err = m.rewriteElements(s.body)
	case secCode:
		body, err = m.rewriteCode(s.body)
	default:
		body = s.body
	}
	return body, err == nil, err
}

func (m *module) rewriteCustom(b []byte) ([]byte, bool, error) {
	r := &reader{b: b}
	name := string(r.name())
	if r.err != nil {
		return nil, false, r.err
	}
	switch {
	case len(name) > 7 && name[:7] == ".debug_", name == "sourceMappingURL":
		// They locate code by offset, and every offset has moved.
		return nil, false, nil
	case name == "name":
		out, ok := m.rewriteNames(b, r.pos)
		return out, ok, nil // a malformed name section is dropped: it is only for traces
	}
	return b, true, nil
}

// rewriteNames renumbers the function and local name maps.
func (m *module) rewriteNames(b []byte, start int) ([]byte, bool) {
	r := &reader{b: b, pos: start}
	out := append([]byte(nil), b[:start]...)
	for !r.done() {
		id := r.byte()
		sub := r.bytes(r.count())
		if r.err != nil {
			return nil, false
		}
		if id != 1 && id != 2 {
			out = append(out, id)
			out = appendU32(out, uint32(len(sub)))
			out = append(out, sub...)
			continue
		}
		sr := &reader{b: sub}
		n := sr.count()
		body := appendU32(nil, uint32(n))
		for i := 0; i < n && sr.err == nil; i++ {
			body = appendU32(body, m.fn(sr.u32()))
			if id == 1 {
				body = appendName(body, sr.name())
				continue
			}
			start := sr.pos
			locals := sr.count()
			for j := 0; j < locals && sr.err == nil; j++ {
				sr.u32()
				sr.name()
			}
			body = append(body, sub[start:sr.pos]...)
		}
		if sr.err != nil || sr.pos != len(sub) {
			return nil, false
		}
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	return out, r.err == nil
}

func (m *module) rewriteGlobals(b []byte) ([]byte, error) {
	r := &reader{b: b}
	n := r.count()
	out := appendU32(nil, uint32(n))
	for i := 0; i < n && r.err == nil; i++ {
		start := r.pos
		valType(r)
		r.byte()
		out = append(out, b[start:r.pos]...)
		out = m.rewriteExpr(r, out)
	}
	return out, m.finish(r)
}

func (m *module) rewriteExports(b []byte) ([]byte, error) {
	r := &reader{b: b}
	n := r.count()
	out := appendU32(nil, uint32(n))
	for i := 0; i < n && r.err == nil; i++ {
		out = appendName(out, r.name())
		kind := r.byte()
		idx := r.u32()
		if kind == 0x00 {
			idx = m.fn(idx)
		}
		out = append(out, kind)
		out = appendU32(out, idx)
	}
	return out, m.finish(r)
}

func (m *module) rewriteElements(b []byte) ([]byte, error) {
	r := &reader{b: b}
	n := r.count()
	out := appendU32(nil, uint32(n))
	for i := 0; i < n && r.err == nil; i++ {
		flags := r.u32()
		out = appendU32(out, flags)
		if flags > 7 {
			r.failf("unknown element segment flags %d", flags)
			break
		}
		if flags&2 != 0 && flags&1 == 0 { // explicit table index
			out = appendU32(out, r.u32())
		}
		if flags&1 == 0 { // active: offset expression
			out = m.rewriteExpr(r, out)
		}
		if flags&3 != 0 { // element kind or reference type
			out = append(out, r.byte())
		}
		count := r.count()
		out = appendU32(out, uint32(count))
		for j := 0; j < count && r.err == nil; j++ {
			if flags&4 != 0 {
				out = m.rewriteExpr(r, out)
			} else {
				out = appendU32(out, m.fn(r.u32()))
			}
		}
	}
	return out, m.finish(r)
}

// rewriteExpr copies a constant expression up to its end, renumbering
// ref.func.
func (m *module) rewriteExpr(r *reader, out []byte) []byte {
	for r.err == nil {
		start := r.pos
		op := r.byte()
		switch op {
		case opRefFunc:
			out = append(out, op)
			out = appendU32(out, m.fn(r.u32()))
			continue
		case opEnd:
			return append(out, op)
		case 0x02, 0x03, 0x04, 0x06, 0x1f:
			r.failAt(start, "block in a constant expression")
			return out
		}
		skipImmediates(r, op)
		out = append(out, r.b[start:r.pos]...)
	}
	return out
}

func (m *module) rewriteCode(b []byte) ([]byte, error) {
	r := &reader{b: b}
	n := r.count()
	out := make([]byte, 0, len(b)+len(b)/4)
	out = appendU32(out, uint32(n))
	var code []byte
	for i := 0; i < n && r.err == nil; i++ {
		body := r.bytes(r.count())
		if r.err != nil {
			break
		}
		var err error
		code, err = m.rewriteBody(body, code[:0])
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", uint32(i)+m.funcImports, err)
		}
		out = appendU32(out, uint32(len(code)))
		out = append(out, code...)
	}
	return out, m.finish(r)
}

// rewriteBody renumbers calls and inserts a check after every loop opcode
// (so it runs on each iteration) and, in functions that make calls, at the
// entry (so recursion without loops is checked too). A function that opens
// with a loop needs no entry check: the loop's check runs first.
func (m *module) rewriteBody(body, out []byte) ([]byte, error) {
	r := &reader{b: body}
	locals := r.count()
	for i := 0; i < locals && r.err == nil; i++ {
		r.u32()
		valType(r)
	}
	if r.err != nil {
		return nil, r.err
	}
	out = append(out, body[:r.pos]...)
	entry := len(out)
	startsWithLoop := r.pos < len(body) && body[r.pos] == opLoop
	calls := false
	for !r.done() {
		start := r.pos
		op := r.byte()
		switch op {
		case opCall, opReturnCall, opRefFunc:
			idx := r.u32()
			calls = calls || op != opRefFunc
			out = append(out, op)
			out = appendU32(out, m.fn(idx))
		case opLoop:
			r.sleb(33)
			out = append(out, body[start:r.pos]...)
			out = append(out, m.check...)
		default:
			calls = calls || op == 0x11 || op == 0x13
			skipImmediates(r, op)
			out = append(out, body[start:r.pos]...)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(body) == 0 || body[len(body)-1] != opEnd {
		return nil, errors.New("body does not end with end")
	}
	if calls && !startsWithLoop {
		n := len(out)
		out = append(out, m.check...)
		copy(out[entry+len(m.check):], out[entry:n])
		copy(out[entry:], m.check)
	}
	return out, nil
}

func (m *module) finish(r *reader) error {
	if r.err == nil && r.pos != len(r.b) {
		r.failf("trailing bytes")
	}
	return r.err
}
