package meter

import (
	"errors"
	"fmt"
)

// errTruncated is what every read past the end of the input reports.
var errTruncated = errors.New("unexpected end of data")

// reader decodes the primitive encodings of the binary format. Every method
// checks bounds, so hostile input yields an error, never a panic.
type reader struct {
	b   []byte
	pos int
	err error // the first error; once set, reads return zero values
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) failf(format string, args ...any) {
	r.fail(fmt.Errorf("offset %d: "+format, append([]any{r.pos}, args...)...))
}

// failAt records an error at an earlier offset (the start of what failed);
// the read position is left alone, so it never moves backwards.
func (r *reader) failAt(pos int, format string, args ...any) {
	r.fail(fmt.Errorf("offset %d: "+format, append([]any{pos}, args...)...))
}

func (r *reader) done() bool { return r.err != nil || r.pos >= len(r.b) }

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.pos >= len(r.b) {
		r.fail(errTruncated)
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.pos {
		r.fail(errTruncated)
		return nil
	}
	s := r.b[r.pos : r.pos+n]
	r.pos += n
	return s
}

// uleb reads an unsigned LEB128 of at most bits bits.
func (r *reader) uleb(bits uint) uint64 {
	var v uint64
	var shift uint
	for {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if shift >= bits || (bits-shift < 7 && c&0x7f>>(bits-shift) != 0) {
			r.failf("integer too large")
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
		shift += 7
	}
}

// sleb skips a signed LEB128 of at most bits bits; no caller needs its value.
func (r *reader) sleb(bits uint) {
	maxBytes := int((bits + 6) / 7)
	for i := 0; i < maxBytes; i++ {
		c := r.byte()
		if r.err != nil || c&0x80 == 0 {
			return
		}
	}
	r.failf("integer too large")
}

func (r *reader) u32() uint32 { return uint32(r.uleb(32)) }

// count reads a vector length and rejects one that cannot fit in the rest of
// the input (each element takes at least one byte), so a forged length
// cannot make the caller allocate or loop for nothing.
func (r *reader) count() int {
	n := r.u32()
	if r.err == nil && int(n) > len(r.b)-r.pos {
		r.failf("vector length %d exceeds the data", n)
		return 0
	}
	return int(n)
}

func (r *reader) name() []byte { return r.bytes(r.count()) }

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b, name []byte) []byte {
	return append(appendU32(b, uint32(len(name))), name...)
}
