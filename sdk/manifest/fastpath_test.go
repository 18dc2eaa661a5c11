package manifest

import (
	"strings"
	"testing"
)

// withoutFast returns a copy of m that validates on the jsonschema-go path
// only, as ValidateInput did before internal/validate.
func withoutFast(m *Manifest) *Manifest {
	c := *m
	c.inputFast = nil
	return &c
}

// TestValidateInputFastPath checks that the fast path changes nothing a
// caller can see: same verdict and same message as the jsonschema-go
// path, on schemas inside and outside its subset.
func TestValidateInputFastPath(t *testing.T) {
	tests := []struct {
		schema string
		fast   bool // whether the schema is inside the fast path's subset
		inputs []string
	}{
		{benchSchema, true, []string{
			`{"text":"hello"}`, `{"text":5}`, `{}`, `[]`, `{"text":"a\nb\u00e9\ud800"}`, `{"text":1,"text":"x"}`,
			`{"text":"x","n":1e400}`, `{"text":`, `{"text":"x"} x`, ``, ` `, "{\"text\":\"\xff\"}",
		}},
		{wordcountSchema, true, []string{
			`{"text":"a","top":10,"stopwords":true}`, `{"text":"a","top":101}`, `{"text":"a","top":1.0}`, `{"text":"a","top":1.5}`,
			`{"text":"a","top":-1}`, `{"text":"a","stopwords":"yes"}`, `{"text":"a","top":1e2}`, `{"top":3}`,
		}},
		{`{"type":"object","properties":{"mode":{"enum":["fast","exact"]},"tags":{"type":"array","items":{"type":"string","pattern":"^[a-z]+$"},"maxItems":2}},"additionalProperties":false}`, true, []string{
			`{"mode":"fast","tags":["a"]}`, `{"mode":"slow"}`, `{"tags":["a","B"]}`, `{"tags":["a","b","c"]}`, `{"x":1}`, `{"m\u006fde":"exact"}`,
		}},
		{`{"type":"object","properties":{"either":{"anyOf":[{"type":"string"},{"type":"integer"}]}}}`, false, []string{
			`{"either":"a"}`, `{"either":true}`,
		}},
	}
	for _, tt := range tests {
		m := skillWithInput(t, tt.schema)
		if (m.inputFast != nil) != tt.fast {
			t.Errorf("%s: fast path compiled = %v, want %v", tt.schema, m.inputFast != nil, tt.fast)
		}
		slow := withoutFast(m)
		for _, in := range tt.inputs {
			got, want := m.ValidateInput([]byte(in)), slow.ValidateInput([]byte(in))
			if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
				t.Errorf("schema %s\ninput %q: fast path gives %v, jsonschema-go path %v", tt.schema, in, got, want)
			}
		}
	}
}

const wordcountSchema = `{"type":"object","properties":{"text":{"type":"string"},"top":{"type":"integer","minimum":0,"maximum":100},"stopwords":{"type":"boolean"}},"required":["text"]}`

// BenchmarkValidateInputPaths measures ValidateInput with and without the
// fast path in one run (the machines are shared, so numbers from separate
// runs do not compare): the 1 KiB input of BenchmarkValidateInput, and a
// 1 KiB wordcount call.
func BenchmarkValidateInputPaths(b *testing.B) {
	filler := strings.Repeat("lorem ipsum dolor sit amet, ", 40)
	cases := []struct {
		name, schema, input string
	}{
		{"text1KiB", benchSchema, `{"text":"` + filler[:1024-len(`{"text":""}`)] + `"}`},
		{"wordcount1KiB", wordcountSchema, `{"text":"` + filler[:1024-len(`{"text":"","top":10,"stopwords":true}`)] + `","top":10,"stopwords":true}`},
	}
	for _, c := range cases {
		m := skillWithInput(b, c.schema)
		in := []byte(c.input)
		if len(in) != 1024 || m.inputFast == nil {
			b.Fatalf("%s: %d bytes, fast path %v", c.name, len(in), m.inputFast != nil)
		}
		for _, p := range []struct {
			name string
			m    *Manifest
		}{{"fast", m}, {"jsonschema", withoutFast(m)}} {
			b.Run(c.name+"/"+p.name, func(b *testing.B) {
				if err := p.m.ValidateInput(in); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(in)))
				b.ReportAllocs()
				defer reportCPU(b)()
				for b.Loop() {
					if err := p.m.ValidateInput(in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
