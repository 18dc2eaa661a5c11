package index

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, and that whatever it accepts
// encodes canonically: Encode succeeds, the encoding parses, and encoding
// again gives the same bytes.
func FuzzParse(f *testing.F) {
	enc, err := Encode(sample())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc)
	f.Add([]byte(golden))
	f.Add([]byte(base))
	f.Add([]byte(strings.Replace(base, `"version": 3,`, `"version": 3, "version": 3,`, 1)))
	f.Add([]byte(strings.Replace(base, `"runtime": "wasm"`, `"runtime": "plugin"`, 1)))
	f.Add([]byte(`{"schema":1,"version":1,"generated":"2026-01-01T00:00:00Z","expires":"2027-01-01T00:00:00+01:00","skills":{}}`))
	f.Add([]byte(`{"schema":1,"skills":{"a":{"versions":{"1.0.0":{"requirements":[{"name":"b","constraint":"^1"},[]]}}}}}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`))
	f.Add([]byte(`{"schema": 1e400}`))
	f.Add([]byte("{\"skills\": {\"\xff\": {}}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := Parse(data)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error is %T, want *Error: %v", err, err)
			}
			return
		}
		a, err := Encode(x)
		if err != nil {
			t.Fatalf("Parse accepted what Encode refuses: %v", err)
		}
		y, err := Parse(a)
		if err != nil {
			t.Fatalf("canonical encoding does not parse: %v\n%s", err, a)
		}
		b, err := Encode(y)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("encoding is not stable:\n%s\n---\n%s", a, b)
		}
	})
}
