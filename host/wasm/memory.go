package wasm

import (
	"bytes"

	"github.com/tetratelabs/wazero/experimental"
)

// cappedMemory backs one instance's linear memory and enforces its cap.
//
// wazero's own limit (WithMemoryLimitPages) refuses a memory.grow without a
// trace, so after a failed call the host could not tell "the guest hit its
// cap" from any other trap. This allocator refuses growth past the cap
// itself and remembers that it did, which makes CodeMemoryLimit exact and
// language-neutral (a Go guest then dies with "out of memory", a Rust one
// aborts; both are reported as the cap).
//
// It is used by one call at a time, like the instance that owns it.
type cappedMemory struct {
	buf     []byte
	limit   uint64
	refused bool // a grow was refused since the last reset
}

func (m *cappedMemory) allocate(capacity, _ uint64) experimental.LinearMemory {
	m.buf = make([]byte, 0, min(capacity, m.limit))
	return m
}

// Reallocate implements experimental.LinearMemory.
func (m *cappedMemory) Reallocate(size uint64) []byte {
	if size > m.limit {
		m.refused = true
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	// Double, as append would, so a guest growing page by page does not copy
	// its memory each time; the untouched tail costs address space only.
	c := max(size, min(2*uint64(cap(m.buf)), m.limit))
	buf := make([]byte, size, c)
	copy(buf, m.buf)
	m.buf = buf
	return buf
}

// Free implements experimental.LinearMemory.
func (m *cappedMemory) Free() { m.buf = nil }

// stderrWatch reads what a guest writes to stderr, line by line, and keeps
// the line that explains a crash: a Go guest that panics prints
// "panic: ..." or "fatal error: ..." there before it exits, and that is the
// useful part of the trap message. It keeps nothing else, so a chatty guest
// costs no memory.
type stderrWatch struct {
	line   []byte // the line being written, cut at maxLine
	reason []byte // the first panic or fatal error line since reset
	last   []byte // the last non-empty line, when there is no reason
}

const maxLine = 512

func (w *stderrWatch) Write(p []byte) (int, error) {
	for _, c := range p {
		if c != '\n' {
			if len(w.line) < maxLine {
				w.line = append(w.line, c)
			}
			continue
		}
		w.endLine()
	}
	return len(p), nil
}

func (w *stderrWatch) endLine() {
	line := bytes.TrimSpace(w.line)
	w.line = w.line[:0]
	if len(line) == 0 {
		return
	}
	if len(w.reason) == 0 && (bytes.HasPrefix(line, []byte("panic: ")) || bytes.HasPrefix(line, []byte("fatal error: "))) {
		w.reason = append(w.reason[:0], line...)
		return
	}
	w.last = append(w.last[:0], line...)
}

// explain returns the panic or fatal error line, if the guest wrote one,
// and the last line it wrote.
func (w *stderrWatch) explain() (reason, last string) {
	w.endLine()
	return string(w.reason), string(w.last)
}

func (w *stderrWatch) reset() {
	w.line, w.reason, w.last = w.line[:0], w.reason[:0], w.last[:0]
}
