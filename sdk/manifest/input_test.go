package manifest

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// skillWithInput parses a wasm SKILL.md whose ## Input is schema.
func skillWithInput(t testing.TB, schema string) *Manifest {
	t.Helper()
	src := "---\nname: x\ndescription: d.\nmetadata:\n  version: 1.0.0\n  runtime: wasm\n  entry: x.wasm\n---\n## Input\n```json\n" + schema + "\n```\n"
	m, err := Parse("SKILL.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestValidateInput(t *testing.T) {
	const schema = `{
  "type": "object",
  "properties": {
    "text": {"type": "string", "minLength": 1, "maxLength": 10},
    "top": {"type": "integer", "minimum": 0, "exclusiveMaximum": 100},
    "mode": {"enum": ["fast", "exact"]},
    "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}, "maxItems": 3},
    "opts": {"$ref": "#/$defs/opts"},
    "a/b": {"type": "boolean"},
    "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]}
  },
  "required": ["text"],
  "additionalProperties": false,
  "$defs": {"opts": {"type": "object", "properties": {"depth": {"type": "number", "multipleOf": 0.5}}, "required": ["depth"]}}
}`
	m := skillWithInput(t, schema)
	tests := []struct {
		in   string
		want string // "" means valid
	}{
		{`{"text":"hello"}`, ""},
		{`{"text":"hi","top":3,"mode":"fast","tags":["a","b"],"opts":{"depth":1.5},"a/b":true,"either":2}`, ""},
		{`{"text":5}`, "input: /text: expected string, got number"},
		{`{}`, `input: missing required property "text"`},
		{`[]`, "input: expected object, got array"},
		{`{"text":""}`, "input: /text: length 0 is shorter than the minimum 1"},
		{`{"text":"01234567890"}`, "input: /text: length 11 is longer than the maximum 10"},
		{`{"text":"a","top":-1}`, "input: /top: -1 is less than the minimum 0"},
		{`{"text":"a","top":100}`, "input: /top: 100 must be less than 100"},
		{`{"text":"a","top":1.5}`, "input: /top: expected integer, got number"},
		{`{"text":"a","mode":"slow"}`, `input: /mode: "slow" is not one of ["fast","exact"]`},
		{`{"text":"a","tags":["ok","NO"]}`, `input: /tags/1: "NO" does not match the pattern "^[a-z]+$"`},
		{`{"text":"a","tags":["a","b","c","d"]}`, "input: /tags: 4 items, more than the maximum 3"},
		{`{"text":"a","opts":{}}`, `input: /opts: missing required property "depth"`},
		{`{"text":"a","opts":{"depth":0.3}}`, "input: /opts/depth: 0.3 is not a multiple of 0.5"},
		{`{"text":"a","a/b":1}`, "input: /a~1b: expected boolean, got number"},
		{`{"text":"a","extra":1}`, "input: /extra: unexpected property (allowed: a/b, either, mode, opts, tags, text, top)"},
		{`{"text":"a","either":true}`, "input: validating /properties/either: anyOf"}, // not explained: the library's words
		{`{"text":`, "input: not valid JSON: unexpected end of JSON input"},
		{`{"text":"a"} x`, "input: not valid JSON: invalid character 'x' after top-level value"},
		{``, "input: empty"},
	}
	for _, tt := range tests {
		err := m.ValidateInput([]byte(tt.in))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("ValidateInput(%s) = %v, want nil", tt.in, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("ValidateInput(%s) = %v\nwant prefix %q", tt.in, err, tt.want)
		}
	}
}

func TestValidateInputWithoutSchema(t *testing.T) {
	m, err := Load("testdata/good/pdf-notes")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ValidateInput([]byte(`[1, "any", {"json": null}]`)); err != nil {
		t.Errorf("instructions skill refused well-formed JSON: %v", err)
	}
	if err := m.ValidateInput([]byte(`{`)); err == nil || !strings.HasPrefix(err.Error(), "input: not valid JSON") {
		t.Errorf("instructions skill accepted broken JSON: %v", err)
	}
}

// TestHandBuiltManifest covers a Manifest made without Parse: the schema is
// compiled on demand, and a broken one is reported, not panicked on.
func TestHandBuiltManifest(t *testing.T) {
	m := &Manifest{Name: "x", InputSchema: json.RawMessage(`{"type":"object","required":["a"]}`)}
	if err := m.ValidateInput([]byte(`{}`)); err == nil || !strings.Contains(err.Error(), `missing required property "a"`) {
		t.Errorf("ValidateInput = %v", err)
	}
	m.InputSchema = json.RawMessage(`{"type":"strin"}`)
	if _, err := m.InputResolved(); err == nil {
		t.Error("InputResolved accepted an unknown type")
	}
	if err := m.ValidateInput([]byte(`{}`)); err == nil {
		t.Error("ValidateInput passed with a broken schema")
	}
}

// TestValidateInputConcurrent shares one Manifest between goroutines, as the
// host does; run under -race.
func TestValidateInputConcurrent(t *testing.T) {
	m := skillWithInput(t, benchSchema)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				in := `{"text":"ok"}`
				if (g+i)%2 == 1 {
					in = `{"text":1}`
				}
				err := m.ValidateInput([]byte(in))
				if (err == nil) != ((g+i)%2 == 0) {
					t.Errorf("ValidateInput(%s) = %v", in, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

const benchSchema = `{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`

// BenchmarkValidateInput measures the per-call cost the host pays: a 1 KiB
// input against a one-property schema.
func BenchmarkValidateInput(b *testing.B) {
	m := skillWithInput(b, benchSchema)
	text := strings.Repeat("lorem ipsum dolor sit amet, ", 40)[:1024-len(`{"text":""}`)]
	in := []byte(`{"text":"` + text + `"}`)
	if len(in) != 1024 {
		b.Fatalf("input is %d bytes", len(in))
	}
	if err := m.ValidateInput(in); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if err := m.ValidateInput(in); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCPU adds a cpu-ns/op metric; call as defer reportCPU(b)().
func reportCPU(b *testing.B) func() {
	start, ok := cpuTime()
	return func() {
		end, _ := cpuTime()
		if ok && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

// BenchmarkValidateInputInvalid measures the failure path, which also
// explains the error.
func BenchmarkValidateInputInvalid(b *testing.B) {
	m := skillWithInput(b, benchSchema)
	in := []byte(`{"text":42}`)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if err := m.ValidateInput(in); err == nil {
			b.Fatal("no error")
		}
	}
}

// BenchmarkParse measures parsing the house example, which reload does for
// every changed skill.
func BenchmarkParse(b *testing.B) {
	data, err := readCapped("testdata/good/wordcount/SKILL.md")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := Parse("testdata/good/wordcount/SKILL.md", data); err != nil {
			b.Fatal(err)
		}
	}
}
