package validate

import (
	"strings"
	"testing"
)

type verdict struct {
	in   string
	want bool
}

// TestKeywords checks each keyword of the subset against fixed verdicts
// and against the reference.
func TestKeywords(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		cases  []verdict
	}{
		{"true schema", `true`, []verdict{{`1`, true}, {`{"a":[null]}`, true}, {`"x"`, true}}},
		{"false schema", `false`, []verdict{{`1`, false}, {`null`, false}}},
		{"empty schema", `{}`, []verdict{{`[]`, true}, {`1e400`, false}}},
		{"not {}", `{"not":{}}`, []verdict{{`1`, false}}},
		{"type null", `{"type":"null"}`, []verdict{{`null`, true}, {`0`, false}, {`"null"`, false}}},
		{"type boolean", `{"type":"boolean"}`, []verdict{{`true`, true}, {`false`, true}, {`0`, false}, {`null`, false}}},
		{"type string", `{"type":"string"}`, []verdict{{`""`, true}, {`"\u00e9"`, true}, {`1`, false}, {`["a"]`, false}}},
		{"type array", `{"type":"array"}`, []verdict{{`[]`, true}, {`[1,"a"]`, true}, {`{}`, false}}},
		{"type object", `{"type":"object"}`, []verdict{{`{}`, true}, {`{"a":1}`, true}, {`[]`, false}}},
		{"type number", `{"type":"number"}`, []verdict{{`1`, true}, {`1.5`, true}, {`-0`, true}, {`1e308`, true}, {`1e309`, false}, {`"1"`, false}}},
		{"type integer", `{"type":"integer"}`, []verdict{
			{`1`, true}, {`1.0`, true}, {`-0`, true}, {`-0.0`, true}, {`1e2`, true}, {`1.5e1`, true}, {`1e-400`, true},
			{`1.5`, false}, {`1e-1`, false}, {`12345678901234567890123`, true}, {`9007199254740993`, true},
			{`0.30000000000000004`, false}, {`1e400`, false}, {`true`, false},
		}},
		{"type list", `{"type":["string","integer"]}`, []verdict{{`"a"`, true}, {`3`, true}, {`3.5`, false}, {`null`, false}}},
		{"type list number", `{"type":["number","null"]}`, []verdict{{`3.5`, true}, {`null`, true}, {`"a"`, false}}},
		{"type empty list", `{"type":[]}`, []verdict{{`1`, false}, {`null`, false}}},
		{"enum", `{"enum":["fast","exact",1,null,true]}`, []verdict{
			{`"fast"`, true}, {`"exact"`, true}, {`"f\u0061st"`, true}, {`"slow"`, false}, {`1`, true}, {`1.0`, true},
			{`10e-1`, true}, {`2`, false}, {`null`, true}, {`true`, true}, {`false`, false}, {`[]`, false}, {`{}`, false},
		}},
		{"enum empty", `{"enum":[]}`, []verdict{{`1`, false}}},
		{"enum replacement char", `{"enum":["\ufffd"]}`, []verdict{{"\"\xff\"", true}, {`"\ud800"`, true}, {`"\ufffd"`, true}, {`"x"`, false}}},
		{"const", `{"const":"x"}`, []verdict{{`"x"`, true}, {`"\u0078"`, true}, {`"y"`, false}, {`1`, false}}},
		{"const null", `{"const":null}`, []verdict{{`null`, true}, {`0`, false}, {`false`, false}}},
		{"const number", `{"const":0}`, []verdict{{`0`, true}, {`-0`, true}, {`0e5`, true}, {`1e-400`, true}, {`1`, false}}},
		{"const and enum", `{"const":1,"enum":[1,2]}`, []verdict{{`1`, true}, {`2`, false}}},
		{"minimum", `{"minimum":0}`, []verdict{{`0`, true}, {`-0`, true}, {`-1e-300`, false}, {`"-5"`, true}, {`5`, true}}},
		{"maximum", `{"maximum":1.5}`, []verdict{{`1.5`, true}, {`1.5000000000000002`, false}, {`1.50000000000000001`, true}, {`-1e308`, true}}},
		{"exclusiveMinimum", `{"exclusiveMinimum":0}`, []verdict{{`0`, false}, {`-0`, false}, {`5e-324`, true}, {`1e-400`, false}}},
		{"exclusiveMaximum", `{"exclusiveMaximum":100}`, []verdict{{`100`, false}, {`99.99999999999999`, true}, {`99.999999999999999`, false}}},
		{"multipleOf", `{"multipleOf":0.5}`, []verdict{{`1.5`, true}, {`0.3`, false}, {`-2`, true}, {`1e308`, false}}}, // 1e308/0.5 overflows to +Inf, whose Modf fraction is NaN
		{"multipleOf 0.1", `{"multipleOf":0.1}`, []verdict{{`0.3`, false}, {`0.2`, true}, {`3`, true}}},
		{"multipleOf 0", `{"multipleOf":0}`, []verdict{{`0`, false}, {`1`, false}, {`"a"`, true}}},
		{"multipleOf tiny", `{"multipleOf":1e-300}`, []verdict{{`1e10`, false}, {`1e-300`, true}}},
		{"minLength", `{"minLength":2}`, []verdict{
			{`"ab"`, true}, {`"a"`, false}, {`"é"`, false}, {`"éé"`, true}, {`"\u00e9"`, false}, {`"\ud83d\ude00"`, false},
			{`"\ud83d\ude00x"`, true}, {`"\ud83dx"`, true}, {`"\ud83d"`, false}, {`"\ud800\ud800"`, true}, {"\"\xff\xfe\"", true},
			{"\"\xe2\x82\"", true}, {"\"\xe2\x82\xac\"", false}, {`1`, true},
		}},
		{"maxLength", `{"maxLength":3}`, []verdict{
			{`"abc"`, true}, {`"abcd"`, false}, {`"ééé"`, true}, {`"\n\t\r"`, true}, {`"\n\t\r\\"`, false},
			{`"\ud83d\ude00\ud83d\ude00\ud83d\ude00"`, true}, {"\"\xff\xff\xff\xff\"", false}, {`"😀😀😀"`, true},
		}},
		{"pattern", `{"pattern":"^[a-z]+$"}`, []verdict{{`"abc"`, true}, {`"aBc"`, false}, {`"a\u0062c"`, true}, {`"abc\n"`, false}, {`5`, true}}},
		{"pattern unanchored", `{"pattern":"b"}`, []verdict{{`"abc"`, true}, {`"ac"`, false}}},
		{"pattern replacement", `{"pattern":"^\ufffd$"}`, []verdict{{"\"\xff\"", true}, {`"\udc00"`, true}, {`"x"`, false}}},
		{"pattern unicode", `{"pattern":"^\\p{L}+$"}`, []verdict{{`"héllo"`, true}, {`"h1"`, false}}},
		{"items", `{"items":{"type":"integer"}}`, []verdict{{`[]`, true}, {`[1,2,3]`, true}, {`[1,2.5]`, false}, {`{"a":1.5}`, true}, {`[1,]`, false}}},
		{"items false", `{"items":false}`, []verdict{{`[]`, true}, {`[1]`, false}}},
		{"minItems maxItems", `{"minItems":1,"maxItems":2}`, []verdict{{`[]`, false}, {`[1]`, true}, {`[1,[2,3,4]]`, true}, {`[1,2,3]`, false}, {`"abc"`, true}}},
		{"properties", `{"properties":{"a":{"type":"string"},"b/c":{"type":"integer"},"é":{"const":1}}}`, []verdict{
			{`{}`, true}, {`{"a":"x"}`, true}, {`{"a":1}`, false}, {`{"\u0061":1}`, false}, {`{"b/c":1}`, true}, {`{"b/c":1.5}`, false},
			{`{"é":1}`, true}, {`{"\u00e9":2}`, false}, {`{"x":1}`, true}, {`[1]`, true},
		}},
		{"required", `{"required":["a","b"]}`, []verdict{{`{"a":1,"b":2}`, true}, {`{"a":1}`, false}, {`{"\u0061":1,"b":null}`, true}, {`[]`, true}, {`"a"`, true}}},
		{"required with properties", `{"properties":{"a":{"type":"string"}},"required":["a","z"],"additionalProperties":{"type":"number"}}`, []verdict{
			{`{"a":"x","z":1}`, true}, {`{"a":"x","z":"y"}`, false}, {`{"a":"x"}`, false}, {`{"a":"x","z":1,"q":2}`, true}, {`{"a":"x","z":1,"q":"2"}`, false},
		}},
		{"additionalProperties false", `{"properties":{"a":true},"additionalProperties":false}`, []verdict{{`{"a":[1]}`, true}, {`{"a":1,"b":2}`, false}, {`{}`, true}}},
		{"additionalProperties true", `{"additionalProperties":true}`, []verdict{{`{"a":1}`, true}}},
		{"property false", `{"properties":{"a":false}}`, []verdict{{`{"a":null}`, false}, {`{"b":null}`, true}}},
		{"minProperties", `{"minProperties":2}`, []verdict{{`{"a":1,"b":2}`, true}, {`{"a":1}`, false}, {`{"a":1,"a":2}`, false}, {`{"a":1,"\u0061":2}`, false}, {`[]`, true}}},
		{"maxProperties", `{"maxProperties":1}`, []verdict{{`{"a":1}`, true}, {`{"a":1,"b":2}`, false}, {`{"a":1,"a":2}`, true}, {`{}`, true}}},
		{"nested", `{"type":"object","properties":{"o":{"type":"object","properties":{"d":{"type":"number","minimum":1}},"required":["d"]}}}`, []verdict{
			{`{"o":{"d":1}}`, true}, {`{"o":{"d":0}}`, false}, {`{"o":{}}`, false}, {`{"o":[]}`, false}, {`{}`, true},
		}},
		{"annotations", `{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"https://x.test/s","title":"t","description":"d","$comment":"c",
			"examples":[{"a":1}],"default":{},"format":"email","deprecated":true,"x-extra":1,"$defs":{"u":{"$ref":"#/$defs/u"}},"type":"object"}`, []verdict{{`{}`, true}, {`[]`, false}}},
		{"format not asserted", `{"type":"string","format":"date-time"}`, []verdict{{`"not a date"`, true}}},
		{"draft-07", `{"$schema":"http://json-schema.org/draft-07/schema#","type":"array","items":{"type":"string"}}`, []verdict{{`["a"]`, true}, {`[1]`, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, rs := mustCompile(t, tt.schema)
			for _, c := range tt.cases {
				if got := v.Valid([]byte(c.in)); got != c.want {
					t.Errorf("Valid(%s) = %v, want %v", c.in, got, c.want)
				}
				if ref := reference(rs, []byte(c.in)); ref != c.want && !hasDuplicateKey([]byte(c.in)) {
					t.Errorf("reference(%s) = %v, test expects %v: the table is wrong", c.in, ref, c.want)
				}
				agree(t, v, rs, tt.schema, []byte(c.in))
			}
		})
	}
}

// TestDuplicateKeys pins the one documented difference: encoding/json keeps
// the last of repeated keys, Valid checks them all, so it may only refuse
// more, never accept more.
func TestDuplicateKeys(t *testing.T) {
	v, rs := mustCompile(t, `{"properties":{"a":{"type":"string"}}}`)
	tests := []struct {
		in         string
		valid, ref bool
	}{
		{`{"a":1,"a":"x"}`, false, true}, // the difference
		{`{"a":"x","a":1}`, false, false},
		{`{"a":"x","\u0061":"y"}`, true, true},
	}
	for _, tt := range tests {
		if got := v.Valid([]byte(tt.in)); got != tt.valid {
			t.Errorf("Valid(%s) = %v, want %v", tt.in, got, tt.valid)
		}
		if got := reference(rs, []byte(tt.in)); got != tt.ref {
			t.Errorf("reference(%s) = %v, want %v", tt.in, got, tt.ref)
		}
	}
}

// TestSyntax checks the scanner against encoding/json on well-formed and
// broken JSON, under a schema that accepts every value (the skipper) and
// under one that constrains every kind (the schema-directed path).
func TestSyntax(t *testing.T) {
	inputs := []string{
		``, ` `, `1`, ` 1 `, "\t\r\n1\n", `-`, `-0`, `-01`, `01`, `0.`, `.5`, `1.e5`, `1e`, `1e+`, `1E-2`, `1e05`, `+1`, `0x10`,
		`Infinity`, `NaN`, `1e400`, `-1e400`, `1e-400`, `1.7976931348623157e308`, `1.7976931348623159e308`,
		strings.Repeat("9", 308), strings.Repeat("9", 309), "1" + strings.Repeat("0", 400) + ".5",
		`true`, `tru`, `truex`, `false`, `fals`, `null`, `nul`, `nulll`, `True`, `NULL`,
		`""`, `"`, `"abc`, `"a"b"`, `"\"`, `"\\"`, `"\/"`, `"\'"`, `"\x"`, `"\u12"`, `"\u12g4"`, `"\uABCD"`, `"\uabcd"`,
		`"\ud800"`, `"\udc00\ud800"`, `"\ud83d\ude00"`, "\"a\x00b\"", "\"a\x1fb\"", "\"a\x7fb\"", "\"\xff\"", "\"\xc0\xaf\"",
		"\"\xed\xa0\x80\"", "\"tab\there\"", "\"nl\nhere\"", `"` + strings.Repeat("x\\n", 200) + `"`,
		`[]`, `[ ]`, `[1,2]`, `[1,]`, `[,1]`, `[1 2]`, `[`, `]`, `[[]]`, `[[]`, `[1]]`,
		`{}`, `{ }`, `{"a":1}`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{a:1}`, `{'a':1}`, `{"a" 1}`, `{"a":1 "b":2}`, `{,}`,
		`{"a":{"b":[1,{"c":null}]}}`, `{"a":1}}`, `{"a":1]`, `[1}`, `{"a":[1,2}`, `1 2`, `{} {}`, `[] x`, "\xef\xbb\xbf1",
		"{\"a\":1}\x00", `{"a":"b","c":[true,false,null,-1.5e-3]}`,
	}
	schemas := []string{
		`true`,
		`{"type":["null","boolean","number","string","array","object"],"properties":{"a":{"minLength":0}},"items":{"minimum":-1e308}}`,
		`{"type":["null","boolean","integer","string","array","object"],"enum":[1,"x"]}`,
		`{"maxLength":100000,"pattern":"","items":{"type":["array","object","number","string","boolean","null"],"items":{"type":["array","object","number","string","boolean","null"]}},"additionalProperties":{"maxProperties":1000}}`,
	}
	// Control characters at every offset of the eight-byte words
	// scanPlain reads, and the bytes around the 0x20 boundary.
	for _, c := range []byte{0x00, 0x01, 0x1f, 0x20, 0x7f, 0x80, 0xff} {
		for off := range 24 {
			inputs = append(inputs, `"`+strings.Repeat("a", off)+string(c)+strings.Repeat("b", 23-off)+`"`)
		}
	}
	for _, schema := range schemas {
		v, rs := mustCompile(t, schema)
		for _, in := range inputs {
			agree(t, v, rs, schema, []byte(in))
		}
	}
}

// TestDepth checks encoding/json's nesting limit on both paths: 10000
// open arrays are fine, 10001 are not.
func TestDepth(t *testing.T) {
	nest := func(n int) []byte {
		return []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
	}
	nestObj := func(n int) []byte {
		return []byte(strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n))
	}
	for _, schema := range []string{`true`, `{"items":{"items":{"type":"array"}}}`, `{"properties":{"a":{"properties":{"a":true}}}}`} {
		v, rs := mustCompile(t, schema)
		for _, in := range [][]byte{nest(9999), nest(10000), nest(10001), nest(50000), nestObj(10000), nestObj(10001)} {
			agree(t, v, rs, schema, in)
		}
		if !v.Valid(nest(10000)) && schema == `true` {
			t.Error("refused 10000 nested arrays")
		}
		if v.Valid(nest(10001)) {
			t.Errorf("%s: accepted 10001 nested arrays", schema)
		}
	}
}

// TestCompileRefuses lists schemas outside the subset: the caller must
// keep using jsonschema-go for them.
func TestCompileRefuses(t *testing.T) {
	schemas := []string{
		`{"$ref":"#/$defs/a","$defs":{"a":{"type":"string"}}}`,
		`{"properties":{"a":{"$ref":"#"}}}`,
		`{"allOf":[{"type":"string"}]}`,
		`{"anyOf":[{"type":"string"},{"type":"integer"}]}`,
		`{"oneOf":[{"type":"string"}]}`,
		`{"not":{"type":"string"}}`,
		`{"if":{"type":"string"},"then":{"minLength":1}}`,
		`{"patternProperties":{"^a":{"type":"string"}}}`,
		`{"propertyNames":{"maxLength":3}}`,
		`{"dependentRequired":{"a":["b"]}}`,
		`{"dependentSchemas":{"a":{"required":["b"]}}}`,
		`{"unevaluatedProperties":false}`,
		`{"unevaluatedItems":false}`,
		`{"prefixItems":[{"type":"string"}]}`,
		`{"$schema":"http://json-schema.org/draft-07/schema#","items":[{"type":"string"}]}`,
		`{"uniqueItems":true}`,
		`{"contains":{"type":"string"}}`,
		`{"enum":[[1]]}`,
		`{"enum":[{"a":1}]}`,
		`{"const":{"a":1}}`,
		`{"items":{"anyOf":[true]}}`,
		`{"additionalProperties":{"$ref":"#"}}`,
	}
	for _, schema := range schemas {
		rs, err := resolve(schema)
		if err != nil {
			t.Fatalf("resolve %s: %v", schema, err)
		}
		if _, ok := Compile(rs.Schema()); ok {
			t.Errorf("Compile(%s) accepted a schema outside the subset", schema)
		}
	}
	if _, ok := Compile(nil); ok {
		t.Error("Compile(nil) accepted")
	}
}

// TestManyProperties covers the map lookup used above manyProps names and
// a required list at the limit.
func TestManyProperties(t *testing.T) {
	var props, req []string
	for i := range maxRequired {
		name := string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		props = append(props, `"`+name+`":{"type":"integer"}`)
		req = append(req, `"`+name+`"`)
	}
	schema := `{"properties":{` + strings.Join(props, ",") + `},"required":[` + strings.Join(req, ",") + `]}`
	v, rs := mustCompile(t, schema)
	var all []string
	for i := range maxRequired {
		all = append(all, strings.Trim(req[i], `"`))
	}
	full := `{"` + strings.Join(all, `":1,"`) + `":1}`
	for _, in := range []string{full, strings.Replace(full, `":1}`, `":1.5}`, 1), strings.Replace(full, `,"ax":1`, ``, 1), `{}`} {
		agree(t, v, rs, schema, []byte(in))
	}
	if !v.Valid([]byte(full)) {
		t.Error("refused an object with every required property")
	}
	over := `{"required":[` + strings.Join(req, ",") + `,"zz"]}`
	rs, err := resolve(over)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Compile(rs.Schema()); ok {
		t.Errorf("Compile accepted %d required names", maxRequired+1)
	}
}

// TestValidConcurrent shares one Validator between goroutines; run
// under -race.
func TestValidConcurrent(t *testing.T) {
	v, _ := mustCompile(t, `{"type":"object","properties":{"t":{"type":"string","pattern":"^a","enum":["ab","a\n"]}},"minProperties":1}`)
	done := make(chan bool)
	for g := range 4 {
		go func() {
			ok := true
			for i := range 500 {
				in := `{"t":"a\n"}`
				if (g+i)%2 == 1 {
					in = `{"t":"b"}`
				}
				if v.Valid([]byte(in)) != ((g+i)%2 == 0) {
					ok = false
				}
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Error("wrong verdict under concurrency")
		}
	}
}
