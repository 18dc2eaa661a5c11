package validate

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
)

// seedSchemas are realistic tool-input schemas; the fuzzer also builds
// schemas of its own from bytes (schemaGen).
var seedSchemas = []string{
	`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`,
	`{"type":"object","properties":{"text":{"type":"string"},"top":{"type":"integer","minimum":0,"maximum":100},"stopwords":{"type":"boolean"}},"required":["text"]}`,
	`{"type":"object","properties":{"text":{"type":"string","minLength":1,"maxLength":10},"top":{"type":"integer","minimum":0,"exclusiveMaximum":100},
	  "mode":{"enum":["fast","exact"]},"tags":{"type":"array","items":{"type":"string","pattern":"^[a-z]+$"},"maxItems":3},
	  "a/b":{"type":"boolean"},"depth":{"type":"number","multipleOf":0.5}},"required":["text"],"additionalProperties":false}`,
	`{"type":"object","properties":{"q":{"type":["string","null"],"pattern":"\\d","maxLength":5},"n":{"type":"number","exclusiveMinimum":-1.5,"maximum":1e300},
	  "e":{"const":"\u00e9"},"x":{"enum":[null,true,0,"\ufffd"]}},"minProperties":1,"maxProperties":3,"additionalProperties":{"type":"integer"}}`,
	`{"type":"object","properties":{"rows":{"type":"array","minItems":1,"items":{"type":"object","properties":{"id":{"type":"integer"},"v":{"type":"array","items":{"type":"number"}}},"required":["id"]}}}}`,
	`true`,
	`{"type":"object","additionalProperties":false}`,
	`{"type":"object","properties":{"s":{"minLength":2,"maxLength":2},"p":{"pattern":"^\\x{FFFD}?$"}}}`,
	`{"minProperties":2,"maxProperties":2}`,
}

// seedInputs cover the traps: numbers beyond float64 and integers written
// as floats, escapes, surrogates, invalid UTF-8, repeated keys, nesting.
var seedInputs = []string{
	`{"text":"hello"}`, `{"text":"hello","top":10,"stopwords":true}`, `{"text":"x","top":100}`, `{"text":"x","top":1.0}`,
	`{"text":"x","top":1e2}`, `{"text":"x","top":-0}`, `{"text":"x","top":1e400}`, `{"text":"x","other":1e400}`,
	`{"text":"x","top":12345678901234567890123456789}`, `{"text":"x","top":100.00000000000001}`, `{"text":"x","top":99.5}`,
	`{"text":"a\nb\t\"c\"\\\/\u00e9\ud83d\ude00"}`, `{"text":"\ud800"}`, `{"text":"\udc00\ud800x"}`, "{\"text\":\"\xff\xfe\"}",
	"{\"text\":\"caf\xc3\xa9\"}", "{\"text\":\"a\x01b\"}", `{"t\u0065xt":"x"}`, `{"text":1,"text":"x"}`, `{"text":"x","text":1}`,
	`{"text":"x","mode":"fast","tags":["a","b"],"a/b":true,"depth":1.5}`, `{"text":"x","tags":["a","B"]}`,
	`{"text":"x","extra":null}`, `{"q":"12","n":0,"e":"é"}`, `{"q":null,"x":"\ufffd"}`, "{\"x\":\"\xff\"}", `{"zz":3,"y":4.0}`,
	`{"rows":[{"id":1,"v":[1,2.5,-0]},{"id":2}]}`, `{"rows":[]}`, `{"rows":[{"v":[]}]}`, `{"s":"ab","p":""}`, `{"s":"\ud83d\ude00x"}`,
	`{}`, `[]`, `null`, `"text"`, `1`, ``, ` `, `{`, `{"text":`, `{"text":"x"} x`, `{"text":"x",}`, `{"text" "x"}`,
	`[[[[[[[[[[{"a":[1]}]]]]]]]]]]`, `{"a":{"b":{"c":{"d":{}}}}}`, `{"text":"x"}` + strings.Repeat(" ", 10),
	"\xef\xbb\xbf{}", `{"text":"` + strings.Repeat(`lorem \"ipsum\" `, 20) + `"}`,
	`{"a":1,"a":2}`, `{"a":1,"\u0061":2,"b":3}`, `{"a":1,"b":2,"c":3}`,
	"{\"text\":\"" + strings.Repeat("x", 21) + "\x1f" + strings.Repeat("x", 20) + "\"}",
	"{\"text\":\"" + strings.Repeat("x", 17) + "\x00" + strings.Repeat("x", 30) + "\"}",
	"{\"text\":\"" + strings.Repeat("\x20\x7f\x80", 15) + "\"}",
}

// schemaGen builds a schema inside the subset from fuzz bytes. Running out
// of bytes reads zeros, which build the empty schema.
type schemaGen struct{ b []byte }

func (g *schemaGen) next() byte {
	if len(g.b) == 0 {
		return 0
	}
	c := g.b[0]
	g.b = g.b[1:]
	return c
}

func (g *schemaGen) pick(n int) int { return int(g.next()) % n }

var (
	genNames    = []string{"a", "b", "text", "é", "a/b", "", "\ufffd", "top"}
	genScalars  = []any{nil, true, false, 0.0, 1.0, -1.0, 1.5, "a", "fast", "é", "\ufffd", "", 1e308, 100.0}
	genNumbers  = []float64{0, 1, -1, 0.5, 2.5, 100, 1e308, -1e-300, 3, 0.1, 5e-324, 7, 1e-5}
	genPatterns = []string{"^[a-z]+$", `\d`, "^.$", "\ufffd", "^$", "é", "(?i)ABC", `^\p{L}*$`, "a|b", `^\x{1F600}$`, ".", `\n`}
	genTypes    = []string{"null", "boolean", "integer", "number", "string", "array", "object"}
	numKeywords = []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
)

func (g *schemaGen) schema(depth int) any {
	switch g.pick(10) {
	case 1:
		return true
	case 2:
		return false
	}
	m := map[string]any{}
	flags := uint16(g.next()) | uint16(g.next())<<8
	has := func(bit int) bool { return flags&(1<<bit) != 0 }
	if has(0) {
		if g.pick(3) == 0 {
			var ts []string
			for range 1 + g.pick(3) {
				ts = append(ts, genTypes[g.pick(len(genTypes))])
			}
			m["type"] = ts
		} else {
			m["type"] = genTypes[g.pick(len(genTypes))]
		}
	}
	if has(1) {
		var e []any
		for range g.pick(4) {
			e = append(e, genScalars[g.pick(len(genScalars))])
		}
		if e == nil {
			e = []any{}
		}
		m["enum"] = e
	}
	if has(2) {
		m["const"] = genScalars[g.pick(len(genScalars))]
	}
	for bit := 3; bit <= 4; bit++ {
		if has(bit) {
			m[numKeywords[g.pick(len(numKeywords))]] = genNumbers[g.pick(len(genNumbers))]
		}
	}
	if has(5) {
		m[[]string{"minLength", "maxLength"}[g.pick(2)]] = g.pick(5)
	}
	if has(6) {
		m["pattern"] = genPatterns[g.pick(len(genPatterns))]
	}
	if has(7) && depth < 3 {
		m["items"] = g.schema(depth + 1)
	}
	if has(8) {
		m[[]string{"minItems", "maxItems"}[g.pick(2)]] = g.pick(4)
	}
	if has(9) && depth < 3 {
		props := map[string]any{}
		for range 1 + g.pick(3) {
			props[genNames[g.pick(len(genNames))]] = g.schema(depth + 1)
		}
		m["properties"] = props
	}
	if has(10) {
		var req []string
		for range 1 + g.pick(3) {
			req = append(req, genNames[g.pick(len(genNames))])
		}
		m["required"] = req
	}
	if has(11) {
		if depth < 3 && g.pick(2) == 0 {
			m["additionalProperties"] = g.schema(depth + 1)
		} else {
			m["additionalProperties"] = g.pick(2) == 0
		}
	}
	if has(12) {
		m[[]string{"minProperties", "maxProperties"}[g.pick(2)]] = g.pick(4)
	}
	if has(13) {
		m["title"], m["description"], m["format"], m["examples"] = "t", "d", "email", []any{1}
	}
	if has(14) {
		m["not"] = map[string]any{}
	}
	return m
}

var (
	genKeys = []string{`"a"`, `"b"`, `"text"`, `"top"`, `"\u0061"`, `"t\u0065xt"`, `"é"`, `"\u00e9"`, "\"\xff\"", `"\ufffd"`,
		`"\ud800"`, `""`, `"a/b"`, `"a\/b"`, `"A"`}
	genNumLits = []string{"0", "-0", "1", "-1", "1.0", "1e2", "100", "101", "0.5", "1.5", "1.5e1", "2.5", "3", "7", "0.1", "0.3",
		"99.999999999999999", "100.00000000000001", "12345678901234567890", "5e-324", "1e-400", "1e400", "-1e400", "1e308",
		"1.7976931348623157e308", "1E+2", "-0.0", "0e0", "1e-5", "-1e-300"}
	genStrLits = []string{`"a"`, `"fast"`, `"exact"`, `"\u00e9"`, `"é"`, "\"\xff\"", "\"\xff\xfe\xfd\"", `"\ud800"`, `"\ud83d\ude00"`,
		`"😀"`, `"ABC"`, `"abc"`, `""`, `"\n"`, `"1"`, `"\ufffd"`, `"ab"`, `"abcdef"`, `"a\"b"`, `"\\"`, `"\udc00\ud800"`,
		"\"caf\xc3\"", `"x\ty"`, `"\u0041BC"`}
	genSpace = []string{"", "", "", " ", "\n\t", "\r"}
)

// valueGen builds well-formed JSON from fuzz bytes, out of the values
// that trip decoders and validators; arbitrary bytes alone seldom get
// past the syntax.
type valueGen struct {
	schemaGen
	out []byte
}

func (g *valueGen) value(depth int) {
	g.out = append(g.out, genSpace[g.pick(len(genSpace))]...)
	switch k := g.pick(8); {
	case k == 0 && depth < 4:
		g.out = append(g.out, '{')
		for i := range g.pick(5) {
			if i > 0 {
				g.out = append(g.out, ',')
			}
			g.out = append(g.out, genKeys[g.pick(len(genKeys))]...)
			g.out = append(g.out, ':')
			g.value(depth + 1)
		}
		g.out = append(g.out, '}')
	case k == 1 && depth < 4:
		g.out = append(g.out, '[')
		for i := range g.pick(5) {
			if i > 0 {
				g.out = append(g.out, ',')
			}
			g.value(depth + 1)
		}
		g.out = append(g.out, ']')
	case k == 2:
		g.out = append(g.out, []string{"true", "false", "null"}[g.pick(3)]...)
	case k <= 4:
		g.out = append(g.out, genNumLits[g.pick(len(genNumLits))]...)
	default:
		g.out = append(g.out, genStrLits[g.pick(len(genStrLits))]...)
	}
	g.out = append(g.out, genSpace[g.pick(len(genSpace))]...)
}

type compiled struct {
	text string
	rs   *jsonschema.Resolved
	v    *Validator
}

// FuzzDifferential checks Valid against the reference (json.Unmarshal into
// any, then jsonschema-go) on arbitrary input bytes and on a well-formed
// value generated from them, under a seed schema (first byte of spec
// below len(seedSchemas)) or one generated from spec.
// The only difference allowed is the documented one: an input repeating
// an object key may be refused although the reference accepts it.
func FuzzDifferential(f *testing.F) {
	for i := range seedSchemas {
		for _, in := range seedInputs {
			f.Add([]byte{byte(i)}, []byte(in))
		}
	}
	for _, spec := range []string{"\xff\x00\xff\xff", "\xff\x03\x01\x06", "\xff\x05\x80\x02\x03\x00\x05\x00", "\xff\x04\x07\x00\x11", "\xff\x00\x02\x0e\x09\x00\x00\x02"} {
		for _, in := range seedInputs[:12] {
			f.Add([]byte(spec), []byte(in))
		}
	}

	var mu sync.Mutex
	cache := map[string]*compiled{}
	get := func(t *testing.T, spec []byte) *compiled {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := cache[string(spec)]; ok {
			return c
		}
		if len(cache) > 4096 {
			clear(cache)
		}
		var text string
		if len(spec) > 0 && int(spec[0]) < len(seedSchemas) {
			text = seedSchemas[spec[0]]
		} else {
			g := schemaGen{b: spec}
			g.next()
			b, err := json.Marshal(g.schema(0))
			if err != nil {
				t.Fatal(err)
			}
			text = string(b)
		}
		var c *compiled
		if rs, err := resolve(text); err == nil { // a default or pattern may not resolve
			v, ok := Compile(rs.Schema())
			if !ok {
				t.Fatalf("Compile refused %s, built inside the subset", text)
			}
			c = &compiled{text, rs, v}
		}
		cache[string(spec)] = c
		return c
	}

	f.Fuzz(func(t *testing.T, spec, input []byte) {
		c := get(t, spec)
		if c == nil {
			return
		}
		agree(t, c.v, c.rs, c.text, input)
		if c.v.Valid(input) != c.v.valid(input) {
			t.Fatal("Valid and valid disagree")
		}
		// The same bytes, read as choices, make a well-formed value; an
		// object at the top most of the time, as tool inputs are.
		g := valueGen{schemaGen: schemaGen{b: input}}
		if g.pick(4) != 0 {
			g.b = append([]byte{0}, g.b...)
		}
		g.value(0)
		agree(t, c.v, c.rs, c.text, g.out)
	})
}
