// Package validate checks a skill call's input, as raw JSON bytes, against
// the ## Input schema in a single pass: no decoding into Go values and no
// allocation when the input is valid. It exists because the host validates
// every call, and decoding with encoding/json and walking the result with
// jsonschema-go costs several times the wasm call it guards.
//
// Its contract is to agree with the reference, json.Unmarshal into any
// followed by jsonschema-go's (*Resolved).Validate, on every input, for
// the subset of JSON Schema that Compile accepts:
//
//	type (one name or a list), enum and const (scalar values only),
//	minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf,
//	minLength, maxLength (code points), pattern (Go regexp, unanchored),
//	items (one schema), minItems, maxItems,
//	properties, required (at most 64 names), additionalProperties,
//	minProperties, maxProperties, the schemas true and false,
//	and the keywords jsonschema-go does not assert: $schema, $id, $comment,
//	$defs, definitions, $anchor, title, description, default, examples,
//	deprecated, readOnly, writeOnly, format, contentEncoding,
//	contentMediaType, contentSchema and unknown keywords.
//
// Anything else ($ref, allOf, anyOf, oneOf, not (other than false), if,
// prefixItems, uniqueItems, contains, patternProperties, propertyNames,
// dependent*, unevaluated*) makes Compile report ok=false, and the caller
// keeps using jsonschema-go.
//
// The JSON rules are encoding/json's: json.Valid's grammar and nesting
// limit (10000), invalid UTF-8 accepted (the decoder replaces it with
// U+FFFD, so lengths, patterns and enums see the replaced text), and
// numbers beyond float64's range refused (json.Unmarshal fails on them).
//
// One known difference, on the safe side: when an object repeats a key,
// encoding/json keeps the last value, but Valid checks every occurrence.
// So Valid may refuse an input the reference accepts (never the reverse).
// Callers treat false as "not proven valid" and ask the reference for the
// verdict and the error message, which also keeps those messages exactly
// as they were.
package validate

import (
	"bytes"
	"math"
)

// Valid reports whether input is a JSON value that json.Unmarshal decodes
// and the schema accepts. False means invalid, or (only for objects that
// repeat a key) not proven valid: see the package documentation.
func (v *Validator) Valid(input []byte) (ok bool) {
	// The scanner is fuzzed against the reference; still, an input must
	// never crash the host, and a false here only costs the slow path.
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return v.valid(input)
}

func (v *Validator) valid(input []byte) bool {
	st := state{in: input}
	i := st.value(v.root, ws(input, 0))
	return i >= 0 && ws(input, i) == len(input)
}

// state is one Valid call. Positions are indexes into in; -1 means
// invalid.
type state struct {
	in    []byte
	depth int // arrays and objects open around the current position
	// Both grow only for what plain inputs lack: escaped or invalid
	// UTF-8 text that a pattern, enum or property name must read, and
	// objects under minProperties or maxProperties.
	buf  []byte // decoded strings, reused
	keys []span // keys of the open objects that count their properties
}

// span is an object key: its raw content in the input and scanString's
// flags for it.
type span struct {
	start, end int
	flags      uint8
}

// value checks the value at in[i] against n and returns the index just
// after it.
func (st *state) value(n *node, i int) int {
	if n == nil {
		return st.skip(i)
	}
	if n.never {
		return -1
	}
	in := st.in
	if i >= len(in) {
		return -1
	}
	switch c := in[i]; c {
	case '"':
		return st.str(n, i)
	case '{':
		if !n.allows(kObject) || n.hasEnum || n.konst != nil {
			return -1 // enum and const hold scalars only
		}
		return st.object(n, i)
	case '[':
		if !n.allows(kArray) || n.hasEnum || n.konst != nil {
			return -1
		}
		return st.array(n, i)
	case 't', 'f':
		word := "true"
		if c == 'f' {
			word = "false"
		}
		if !literal(in, i, word) || !n.allows(kBool) {
			return -1
		}
		b := c == 't'
		if !n.matches(func(s *scalar) bool { return s.kind == kBool && s.b == b }) {
			return -1
		}
		return i + len(word)
	case 'n':
		if !literal(in, i, "null") || !n.allows(kNull) ||
			!n.matches(func(s *scalar) bool { return s.kind == kNull }) {
			return -1
		}
		return i + 4
	default:
		return st.number(n, i)
	}
}

// allows reports whether n's type admits kind k.
func (n *node) allows(k uint8) bool {
	return n.types == 0 || n.types&k != 0
}

// matches reports whether a scalar value passes n's enum and const, given
// eq, which tells whether an enum or const value equals it.
func (n *node) matches(eq func(*scalar) bool) bool {
	if n.hasEnum {
		found := false
		for i := range n.enum {
			if eq(&n.enum[i]) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return n.konst == nil || eq(n.konst)
}

func (st *state) number(n *node, i int) int {
	in := st.in
	end, flags := scanNumber(in, i)
	if end < 0 {
		return -1
	}
	lit := in[i:end]
	// Whether the number is an integer can be read off the literal when
	// it has neither fraction nor exponent; otherwise, and for the
	// keywords that compare values, it takes the float64.
	needValue := n.needNum || n.types&kNumber == kInt && flags != 0
	if !needValue {
		// Here the type is any number, or integer and the literal is
		// one; kFrac never comes without kInt.
		if !fits(lit, flags) || !n.allows(kInt) {
			return -1
		}
		return end
	}
	f, ok := parseFloat(lit, flags)
	if !ok {
		return -1
	}
	// jsonschema-go's rule: an integer is a float64 with no fractional
	// part. It compares through big.Rat, which for two finite float64s
	// is plain float64 comparison.
	kind := kFrac
	if _, frac := math.Modf(f); frac == 0 {
		kind = kInt
	}
	switch {
	case !n.allows(kind),
		!n.matches(func(s *scalar) bool { return s.kind == kNumber && s.f == f }),
		n.hasMin && f < n.min,
		n.hasMax && f > n.max,
		n.hasExMin && f <= n.exMin,
		n.hasExMax && f >= n.exMax:
		return -1
	}
	if n.hasMult {
		// The same float64 arithmetic as jsonschema-go, so the same
		// verdict (a multipleOf of 0 refuses every number).
		if _, frac := math.Modf(f / n.mult); frac != 0 {
			return -1
		}
	}
	return end
}

func (st *state) str(n *node, i int) int {
	end, flags := scanString(st.in, i)
	if end < 0 || !n.allows(kString) {
		return -1
	}
	raw := st.in[i+1 : end-1]
	if n.hasMinLen || n.hasMaxLen {
		// A code point takes 1 to 4 bytes, and an escape 2 to 12 bytes
		// for one code point: the byte length often settles it.
		lo, hi := len(raw)/12, len(raw)
		if flags&sEscape == 0 {
			lo = len(raw) / 4
		}
		if n.hasMinLen && lo < n.minLen || n.hasMaxLen && hi > n.maxLen {
			c := runeCount(raw, flags)
			if n.hasMinLen && c < n.minLen || n.hasMaxLen && c > n.maxLen {
				return -1
			}
		}
	}
	if !n.needText {
		return end
	}
	text := raw
	if !plain(raw, flags) {
		st.buf = appendUnquoted(st.buf[:0], raw)
		text = st.buf
	}
	if !n.matches(func(s *scalar) bool { return s.kind == kString && s.s == string(text) }) {
		return -1
	}
	if n.pattern != nil && !n.pattern.Match(text) {
		return -1
	}
	return end
}

func (st *state) array(n *node, i int) int {
	in := st.in
	if st.depth++; st.depth > maxDepth {
		return -1
	}
	i = ws(in, i+1)
	count := 0
	if i < len(in) && in[i] == ']' {
		i++
	} else {
		for {
			if i = st.value(n.items, i); i < 0 {
				return -1
			}
			count++
			if i = ws(in, i); i >= len(in) {
				return -1
			}
			if in[i] == ',' {
				i = ws(in, i+1)
				continue
			}
			if in[i] != ']' {
				return -1
			}
			i++
			break
		}
	}
	st.depth--
	if n.hasMinItems && count < n.minItems || n.hasMaxItems && count > n.maxItems {
		return -1
	}
	return i
}

func (st *state) object(n *node, i int) int {
	in := st.in
	if st.depth++; st.depth > maxDepth {
		return -1
	}
	counting := n.hasMinProps || n.hasMaxProps
	firstKey := len(st.keys)
	var seen uint64 // required names present
	count := 0
	i = ws(in, i+1)
	if i < len(in) && in[i] == '}' {
		i++
	} else {
		for {
			if i >= len(in) || in[i] != '"' {
				return -1
			}
			kend, kflags := scanString(in, i)
			if kend < 0 {
				return -1
			}
			if counting {
				st.keys = append(st.keys, span{i + 1, kend - 1, kflags})
			}
			sub := n.additional
			if len(n.props) > 0 {
				if p := n.lookup(st.key(in[i+1:kend-1], kflags)); p != nil {
					seen |= p.bit
					if p.declared {
						sub = p.sub
					}
				}
			}
			if i = ws(in, kend); i >= len(in) || in[i] != ':' {
				return -1
			}
			if i = st.value(sub, ws(in, i+1)); i < 0 {
				return -1
			}
			count++
			if i = ws(in, i); i >= len(in) {
				return -1
			}
			if in[i] == ',' {
				i = ws(in, i+1)
				continue
			}
			if in[i] != '}' {
				return -1
			}
			i++
			break
		}
	}
	st.depth--
	if seen&n.reqMask != n.reqMask {
		return -1
	}
	if counting {
		// encoding/json keeps one entry per distinct key, so repeats do
		// not count; they are only looked for when the raw count is not
		// enough to decide.
		keys := st.keys[firstKey:]
		if n.hasMinProps && (count < n.minProps || !st.distinctAtLeast(keys, n.minProps)) ||
			n.hasMaxProps && count > n.maxProps && st.distinctAtLeast(keys, n.maxProps+1) {
			return -1
		}
		st.keys = st.keys[:firstKey]
	}
	return i
}

// key returns the decoded form of an object key, in st.buf when it
// differs from the raw bytes.
func (st *state) key(raw []byte, flags uint8) []byte {
	if plain(raw, flags) {
		return raw
	}
	st.buf = appendUnquoted(st.buf[:0], raw)
	return st.buf
}

// lookup finds the name key among the names n knows.
func (n *node) lookup(key []byte) *prop {
	if n.index != nil {
		if j, ok := n.index[string(key)]; ok {
			return &n.props[j]
		}
		return nil
	}
	for j := range n.props {
		if n.props[j].name == string(key) {
			return &n.props[j]
		}
	}
	return nil
}

// distinctAtLeast reports whether keys hold at least k distinct decoded
// names. It reorders keys.
func (st *state) distinctAtLeast(keys []span, k int) bool {
	if k <= 0 {
		return true
	}
	if len(keys) < k {
		return false
	}
	if k > 32 {
		// Pairwise comparison would be quadratic in k: use a set.
		set := make(map[string]struct{}, len(keys))
		for _, s := range keys {
			set[string(appendUnquoted(nil, st.in[s.start:s.end]))] = struct{}{}
			if len(set) >= k {
				return true
			}
		}
		return false
	}
	d := 0 // keys[:d] are distinct
	for j := range keys {
		dup := false
		for _, prev := range keys[:d] {
			if st.sameKey(prev, keys[j]) {
				dup = true
				break
			}
		}
		if !dup {
			keys[d] = keys[j]
			if d++; d >= k {
				return true
			}
		}
	}
	return false
}

func (st *state) sameKey(a, b span) bool {
	ra, rb := st.in[a.start:a.end], st.in[b.start:b.end]
	if plain(ra, a.flags) && plain(rb, b.flags) {
		return bytes.Equal(ra, rb)
	}
	return bytes.Equal(appendUnquoted(nil, ra), appendUnquoted(nil, rb))
}

// skip checks the syntax of the value at in[i], which any value may fill,
// and returns the index just after it. It is iterative, so the nesting
// limit, not the goroutine stack, bounds how deep an input may go.
func (st *state) skip(i int) int {
	in := st.in
	if i >= len(in) {
		return -1
	}
	switch c := in[i]; c {
	case '{', '[':
		return st.skipContainer(i)
	case '"':
		end, _ := scanString(in, i)
		return end
	case 't':
		return lit(in, i, "true")
	case 'f':
		return lit(in, i, "false")
	case 'n':
		return lit(in, i, "null")
	default:
		end, flags := scanNumber(in, i)
		if end < 0 || !fits(in[i:end], flags) {
			return -1
		}
		return end
	}
}

func lit(in []byte, i int, word string) int {
	if !literal(in, i, word) {
		return -1
	}
	return i + len(word)
}

func (st *state) skipContainer(i int) int {
	in := st.in
	var kindArr [64]bool // true: object; the innermost open container is last
	open := kindArr[:0]
	for {
		// A value starts at in[i].
		if i >= len(in) {
			return -1
		}
		if c := in[i]; c == '{' || c == '[' {
			if st.depth+len(open)+1 > maxDepth {
				return -1
			}
			open = append(open, c == '{')
			i = ws(in, i+1)
			if i < len(in) && in[i] == c+2 { // '{'+2 is '}', '['+2 is ']'
				open = open[:len(open)-1]
				i++
			} else {
				if c == '{' {
					if i = keyColon(in, i); i < 0 {
						return -1
					}
				}
				continue
			}
		} else if i = st.skip(i); i < 0 {
			return -1
		}
		// After a value: close containers until one goes on with ','.
		for {
			if len(open) == 0 {
				return i
			}
			if i = ws(in, i); i >= len(in) {
				return -1
			}
			obj := open[len(open)-1]
			c := in[i]
			if c == ',' {
				i = ws(in, i+1)
				if obj {
					if i = keyColon(in, i); i < 0 {
						return -1
					}
				}
				break
			}
			if obj && c != '}' || !obj && c != ']' {
				return -1
			}
			open = open[:len(open)-1]
			i++
		}
	}
}

// keyColon checks an object key and its colon at in[i] and returns where
// the value starts.
func keyColon(in []byte, i int) int {
	if i >= len(in) || in[i] != '"' {
		return -1
	}
	end, _ := scanString(in, i)
	if end < 0 {
		return -1
	}
	if i = ws(in, end); i >= len(in) || in[i] != ':' {
		return -1
	}
	return ws(in, i+1)
}
