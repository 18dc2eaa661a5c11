package validate

import (
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
)

// resolve turns schema text into what the manifest package holds: a
// jsonschema-go Resolved, with defaults validated as it does.
func resolve(schema string) (*jsonschema.Resolved, error) {
	var s jsonschema.Schema
	if err := json.Unmarshal([]byte(schema), &s); err != nil {
		return nil, err
	}
	return s.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
}

func mustCompile(t testing.TB, schema string) (*Validator, *jsonschema.Resolved) {
	t.Helper()
	rs, err := resolve(schema)
	if err != nil {
		t.Fatalf("resolve %s: %v", schema, err)
	}
	v, ok := Compile(rs.Schema())
	if !ok {
		t.Fatalf("Compile(%s) refused a schema inside the subset", schema)
	}
	return v, rs
}

// reference is the verdict Valid must match: what the manifest package did
// before this package existed (decode with encoding/json, then validate
// with jsonschema-go; a panic counts as a refusal, as its guard makes it).
func reference(rs *jsonschema.Resolved, input []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	var v any
	if err := json.Unmarshal(input, &v); err != nil {
		return false
	}
	return rs.Validate(v) == nil
}

// hasDuplicateKey reports whether some object in input (valid JSON)
// repeats a key after decoding, the one case where Valid may refuse what
// the reference accepts.
func hasDuplicateKey(input []byte) bool {
	d := json.NewDecoder(bytesReader(input))
	type frame struct {
		obj    bool
		keys   map[string]bool
		expKey bool
	}
	var stack []*frame
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) || err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.expKey {
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return true
				}
				top.keys[k] = true
				top.expKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			if top != nil && top.obj {
				top.expKey = true
			}
			stack = append(stack, &frame{obj: true, keys: map[string]bool{}, expKey: true})
			continue
		case json.Delim('['):
			if top != nil && top.obj {
				top.expKey = true
			}
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].expKey = true
			}
			continue
		}
		if top != nil && top.obj {
			top.expKey = true
		}
	}
}

type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func bytesReader(b []byte) io.Reader { return &sliceReader{b} }

// agree checks Valid against the reference on one input, allowing only
// the documented difference.
func agree(t *testing.T, v *Validator, rs *jsonschema.Resolved, schema string, input []byte) {
	t.Helper()
	got := v.valid(input) // no recover: a panic must fail the test
	want := reference(rs, input)
	if got == want {
		return
	}
	if !got && want && hasDuplicateKey(input) {
		return // documented: every occurrence of a repeated key is checked
	}
	t.Errorf("schema %s\ninput %q\nValid = %v, reference (json.Unmarshal + jsonschema-go) = %v", schema, input, got, want)
}
