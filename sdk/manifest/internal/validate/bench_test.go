package validate

import (
	"encoding/json"
	"strings"
	"testing"
)

// benchCases are the inputs the host validates on every call: the 1 KiB
// input of the manifest package's BenchmarkValidateInput, and a
// wordcount-like call.
func benchCases(b *testing.B) []struct {
	name, schema string
	input        []byte
} {
	text := strings.Repeat("lorem ipsum dolor sit amet, ", 40)[:1024-len(`{"text":""}`)]
	wcText := strings.Repeat("lorem ipsum dolor sit amet, ", 40)[:1024-len(`{"text":"","top":10,"stopwords":true}`)]
	cases := []struct {
		name, schema string
		input        []byte
	}{
		{"text1KiB", `{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`, []byte(`{"text":"` + text + `"}`)},
		{"wordcount1KiB",
			`{"type":"object","properties":{"text":{"type":"string"},"top":{"type":"integer","minimum":0,"maximum":100},"stopwords":{"type":"boolean"}},"required":["text"]}`,
			[]byte(`{"text":"` + wcText + `","top":10,"stopwords":true}`)},
		{"wordcountEscaped1KiB",
			`{"type":"object","properties":{"text":{"type":"string","maxLength":100000},"top":{"type":"integer","minimum":0,"maximum":100},"stopwords":{"type":"boolean"}},"required":["text"]}`,
			[]byte(`{"text":"` + strings.Repeat(`line \"one\"\n`, 1024/14) + `","top":10,"stopwords":true}`)},
	}
	for _, c := range cases {
		if c.name != "wordcountEscaped1KiB" && len(c.input) != 1024 {
			b.Fatalf("%s: input is %d bytes", c.name, len(c.input))
		}
	}
	return cases
}

// BenchmarkValid compares Valid with the path it replaces (decode with
// encoding/json, validate with jsonschema-go) in one run, because the
// machines are shared and absolute numbers drift between runs.
func BenchmarkValid(b *testing.B) {
	for _, c := range benchCases(b) {
		v, rs := mustCompile(b, c.schema)
		if !v.Valid(c.input) || !reference(rs, c.input) {
			b.Fatalf("%s: input refused", c.name)
		}
		b.Run(c.name+"/fast", func(b *testing.B) {
			b.SetBytes(int64(len(c.input)))
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				if !v.Valid(c.input) {
					b.Fatal("refused")
				}
			}
		})
		b.Run(c.name+"/reference", func(b *testing.B) {
			b.SetBytes(int64(len(c.input)))
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				var x any
				if err := json.Unmarshal(c.input, &x); err != nil {
					b.Fatal(err)
				}
				if err := rs.Validate(x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// reportCPU adds a cpu-ns/op metric (process CPU time per op), which
// swings much less than wall time on a loaded machine; call as
// defer reportCPU(b)().
func reportCPU(b *testing.B) func() {
	start, ok := cpuTime()
	return func() {
		end, _ := cpuTime()
		if ok && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
