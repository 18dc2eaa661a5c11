package validate

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit (maxNestingDepth in its
// scanner): json.Valid refuses a value with more open arrays and objects
// than this, so Valid does too.
const maxDepth = 10000

// safeDigits is the length up to which a number without an exponent
// cannot overflow float64 (whose largest value is about 1.8e308).
const safeDigits = 308

// ws returns the index of the first byte at or after i that is not JSON
// whitespace.
func ws(in []byte, i int) int {
	for i < len(in) {
		switch in[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// String flags from scanString.
const (
	sEscape uint8 = 1 << iota // holds a backslash escape
	sHigh                     // holds a byte >= 0x80 (valid UTF-8 or not)
)

// scanString checks the string whose opening quote is at in[i] and returns
// the index just after its closing quote (-1 if it is not a valid JSON
// string) and what it holds. Like encoding/json it accepts any byte >= 0x20
// and leaves UTF-8 validity alone: the decoder replaces bad bytes.
//
// bytes.IndexByte (vectorized) finds the closing quote and the backslashes;
// only the bytes in between are checked for control characters, eight at
// a time. (Measured against one loop that looks for all three kinds of
// byte eight at a time: that is slower on plain text, about equal on text
// with a newline escape per line, and faster only on text made mostly of
// escapes.)
func scanString(in []byte, i int) (end int, flags uint8) {
	i++
	q := -1 // index of the next '"' at or after i, once known
	for {
		if q < i {
			k := bytes.IndexByte(in[i:], '"')
			if k < 0 {
				return -1, 0
			}
			q = i + k
		}
		seg := in[i:q]
		b := bytes.IndexByte(seg, '\\')
		if b >= 0 {
			seg = seg[:b]
		}
		ctrl, high := scanPlain(seg)
		if ctrl {
			return -1, 0
		}
		if high {
			flags |= sHigh
		}
		if b < 0 {
			return q + 1, flags
		}
		flags |= sEscape
		j := i + b + 1 // the byte after the backslash; j <= q
		switch in[j] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i = j + 1 // an escaped quote moves past q, so q is found again
		case 'u':
			if j+5 > len(in) || !isHex(in[j+1]) || !isHex(in[j+2]) || !isHex(in[j+3]) || !isHex(in[j+4]) {
				return -1, 0
			}
			i = j + 5
		default:
			return -1, 0
		}
	}
}

const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// scanPlain reports whether b holds a control character (< 0x20, which
// JSON strings must escape) and whether it holds a byte >= 0x80.
//
// (x - 0x20 in every byte) &^ x has a byte's top bit set where that byte is
// below 0x20; a borrow can only start at such a byte, so the OR over words
// is exact about whether there is one.
func scanPlain(b []byte) (ctrl, hi bool) {
	var acc, or uint64
	for len(b) >= 16 {
		x := binary.LittleEndian.Uint64(b)
		y := binary.LittleEndian.Uint64(b[8:])
		acc |= (x - 0x20*ones) &^ x
		acc |= (y - 0x20*ones) &^ y
		or |= x | y
		b = b[16:]
	}
	if len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		acc |= (x - 0x20*ones) &^ x
		or |= x
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 {
			return true, false
		}
		or |= uint64(c)
	}
	return acc&high != 0, or&high != 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f'
}

func hexVal(c byte) rune {
	if c <= '9' {
		return rune(c - '0')
	}
	return rune(c|0x20-'a') + 10
}

// hex4 decodes the four hex digits of a \u escape; b starts at the first
// digit and was checked by scanString.
func hex4(b []byte) rune {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}

// Number flags from scanNumber.
const (
	nFrac uint8 = 1 << iota // has a fraction
	nExp                    // has an exponent
)

// scanNumber checks the number starting at in[i] against JSON's grammar,
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, and returns the index
// just after it, or -1. What follows is the caller's to check ("01" is a
// 0 followed by a stray 1).
func scanNumber(in []byte, i int) (end int, flags uint8) {
	if i < len(in) && in[i] == '-' {
		i++
	}
	switch {
	case i >= len(in):
		return -1, 0
	case in[i] == '0':
		i++
	case '1' <= in[i] && in[i] <= '9':
		i = digits(in, i+1)
	default:
		return -1, 0
	}
	if i < len(in) && in[i] == '.' {
		flags |= nFrac
		j := digits(in, i+1)
		if j == i+1 {
			return -1, 0
		}
		i = j
	}
	if i < len(in) && in[i]|0x20 == 'e' {
		flags |= nExp
		i++
		if i < len(in) && (in[i] == '+' || in[i] == '-') {
			i++
		}
		j := digits(in, i)
		if j == i {
			return -1, 0
		}
		i = j
	}
	return i, flags
}

func digits(in []byte, i int) int {
	for i < len(in) && '0' <= in[i] && in[i] <= '9' {
		i++
	}
	return i
}

// fits reports whether encoding/json can decode the number lit into a
// float64: it fails on values beyond float64's range (1e400), not on
// values that underflow to zero (1e-400).
func fits(lit []byte, flags uint8) bool {
	if flags&nExp == 0 && len(lit) <= safeDigits {
		return true
	}
	_, ok := parseFloat(lit, flags)
	return ok
}

// parseFloat returns the float64 encoding/json decodes the number lit to
// (strconv.ParseFloat), and false when it is out of range.
func parseFloat(lit []byte, flags uint8) (float64, bool) {
	if flags == 0 && len(lit) <= 16 {
		// At most 15 digits (and a sign): exact as an int64 and as a
		// float64, so no rounding question arises.
		neg := lit[0] == '-'
		d := lit
		if neg {
			d = lit[1:]
		}
		if len(d) <= 15 {
			var u int64
			for _, c := range d {
				u = u*10 + int64(c-'0')
			}
			f := float64(u)
			if neg {
				f = -f
			}
			return f, true
		}
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	return f, err == nil
}

// literal reports whether in[i:] starts with word.
func literal(in []byte, i int, word string) bool {
	return len(in)-i >= len(word) && string(in[i:i+len(word)]) == word
}

// runeCount is the number of code points in the decoded form of raw, a
// string's content (between its quotes) as scanString checked it. Each
// byte of invalid UTF-8 and each unpaired surrogate escape decodes to one
// U+FFFD, as in encoding/json.
func runeCount(raw []byte, flags uint8) int {
	switch {
	case flags&sEscape != 0:
	case flags&sHigh != 0:
		return utf8.RuneCount(raw)
	default:
		return len(raw)
	}
	n := 0
	for {
		b := bytes.IndexByte(raw, '\\')
		if b < 0 {
			return n + utf8.RuneCount(raw)
		}
		n += utf8.RuneCount(raw[:b]) + 1
		if raw[b+1] != 'u' {
			raw = raw[b+2:]
			continue
		}
		r := hex4(raw[b+2:])
		raw = raw[b+6:]
		if utf16.IsSurrogate(r) && len(raw) >= 6 && raw[0] == '\\' && raw[1] == 'u' &&
			utf16.DecodeRune(r, hex4(raw[2:])) != unicode.ReplacementChar {
			raw = raw[6:] // a valid pair is one code point
		}
	}
}

// plain reports whether raw (a string's content) decodes to itself: no
// escapes and valid UTF-8.
func plain(raw []byte, flags uint8) bool {
	return flags&sEscape == 0 && (flags&sHigh == 0 || utf8.Valid(raw))
}

// appendUnquoted appends the decoded form of raw (a string's content as
// scanString checked it) to dst, exactly as encoding/json decodes it.
func appendUnquoted(dst, raw []byte) []byte {
	for len(raw) > 0 {
		b := bytes.IndexByte(raw, '\\')
		chunk := raw
		if b >= 0 {
			chunk = raw[:b]
		}
		if utf8.Valid(chunk) {
			dst = append(dst, chunk...)
		} else {
			for len(chunk) > 0 {
				r, size := utf8.DecodeRune(chunk)
				dst = utf8.AppendRune(dst, r) // invalid bytes become U+FFFD
				chunk = chunk[size:]
			}
		}
		if b < 0 {
			return dst
		}
		raw = raw[b:]
		switch c := raw[1]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[2:])
			raw = raw[6:]
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(raw) >= 6 && raw[0] == '\\' && raw[1] == 'u' {
					r2 = hex4(raw[2:])
				}
				if d := utf16.DecodeRune(r, r2); d != unicode.ReplacementChar {
					dst = utf8.AppendRune(dst, d)
					raw = raw[6:]
					continue
				}
				r = unicode.ReplacementChar
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
		raw = raw[2:]
	}
	return dst
}
