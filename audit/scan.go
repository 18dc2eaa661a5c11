package audit

// compactObject reports whether data is, as it stands, the compact form of
// one JSON object: valid JSON as encoding/json.Valid judges it, an object at
// the top, and no whitespace outside strings. It is the hash chain's fast
// path: data made by json.Marshal passes in one pass over its bytes, where
// a check for whitespace and then json.Valid took two, and encoding/json's
// scanner costs a function call per byte. Anything it refuses goes the slow
// way (json.Compact), which also words the error. A differential fuzz test
// holds it to encoding/json.
func compactObject(data []byte) bool {
	if len(data) == 0 || data[0] != '{' {
		return false
	}
	// stack holds the open containers, '{' or '['. encoding/json refuses
	// nesting deeper than 10000; so does this.
	var small [32]byte
	stack := small[:0]
	i := 0
	// value reads one value at data[i:], or opens a container. It returns
	// false when the bytes are not valid compact JSON.
	for {
		// A value is expected at i.
		if i >= len(data) {
			return false
		}
		switch c := data[i]; {
		case c == '{' || c == '[':
			if len(stack) == maxNesting {
				return false
			}
			stack = append(stack, c)
			i++
			if i < len(data) && data[i] == c+2 { // '}' is '{'+2, ']' is '['+2
				stack = stack[:len(stack)-1]
				i++
				goto closed
			}
			if c == '{' {
				var ok bool
				if i, ok = scanKey(data, i); !ok {
					return false
				}
			}
			continue
		case c == '"':
			var ok bool
			if i, ok = scanString(data, i); !ok {
				return false
			}
		case c == '-' || c >= '0' && c <= '9':
			var ok bool
			if i, ok = scanNumber(data, i); !ok {
				return false
			}
		case c == 't':
			if !hasAt(data, i, "true") {
				return false
			}
			i += 4
		case c == 'f':
			if !hasAt(data, i, "false") {
				return false
			}
			i += 5
		case c == 'n':
			if !hasAt(data, i, "null") {
				return false
			}
			i += 4
		default:
			return false
		}
	closed:
		// A value ended at i: what follows it depends on its container.
		for {
			if len(stack) == 0 {
				return i == len(data)
			}
			if i >= len(data) {
				return false
			}
			top := stack[len(stack)-1]
			switch data[i] {
			case ',':
				i++
				if top == '{' {
					var ok bool
					if i, ok = scanKey(data, i); !ok {
						return false
					}
				}
			case top + 2:
				stack = stack[:len(stack)-1]
				i++
				continue
			default:
				return false
			}
			break
		}
	}
}

// maxNesting is encoding/json's limit on nested arrays and objects.
const maxNesting = 10000

// scanKey reads `"key":` at data[i:] and returns the index after the colon.
func scanKey(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != '"' {
		return i, false
	}
	i, ok := scanString(data, i)
	if !ok || i >= len(data) || data[i] != ':' {
		return i, false
	}
	return i + 1, true
}

// scanString reads the string that starts at data[i] ('"') and returns the
// index after its closing quote. Like encoding/json it takes any byte from
// 0x20 up (invalid UTF-8 included) and refuses control characters.
func scanString(data []byte, i int) (int, bool) {
	i++
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			i++
			if i >= len(data) {
				return i, false
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+4 >= len(data) {
					return i, false
				}
				for _, h := range data[i+1 : i+5] {
					if !isHex(h) {
						return i, false
					}
				}
				i += 5
			default:
				return i, false
			}
		default:
			i++
		}
	}
	return i, false
}

// scanNumber reads a number as RFC 8259 spells it:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(data []byte, i int) (int, bool) {
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		i = digits(data, i+1)
	default:
		return i, false
	}
	if i < len(data) && data[i] == '.' {
		j := digits(data, i+1)
		if j == i+1 {
			return i, false
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := digits(data, i)
		if j == i {
			return i, false
		}
		i = j
	}
	return i, true
}

func digits(data []byte, i int) int {
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	return i
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hasAt(data []byte, i int, lit string) bool {
	return len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit
}
