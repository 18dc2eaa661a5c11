package index

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
)

// schemaPath is the published JSON Schema of the format, kept in the
// repository's registry folder next to the bundled index.
var schemaPath = filepath.Join("..", "..", "registry", "index.schema.json")

func loadSchema(t *testing.T) *jsonschema.Resolved {
	t.Helper()
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", schemaPath, err)
	}
	rs, err := s.Resolve(nil)
	if err != nil {
		t.Fatalf("resolve %s: %v", schemaPath, err)
	}
	return rs
}

func validateDoc(rs *jsonschema.Resolved, doc []byte) error {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return err
	}
	return rs.Validate(v)
}

// TestSchemaAcceptsEncoded checks that what Encode writes is valid under the
// published schema, and that the schema is not vacuous: documents Parse
// refuses for structural reasons are refused by the schema too.
func TestSchemaAcceptsEncoded(t *testing.T) {
	rs := loadSchema(t)
	enc, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{"sample": string(enc), "golden": golden, "base": base} {
		if err := validateDoc(rs, []byte(doc)); err != nil {
			t.Errorf("%s: schema rejects a valid index: %v", name, err)
		}
	}

	bad := []struct{ name, old, new string }{
		{"unknown field", `"version": 3,`, `"version": 3, "extra": 1,`},
		{"schema 2", `"schema": 1`, `"schema": 2`},
		{"version 0", `"version": 3`, `"version": 0`},
		{"bad time", `"expires": "2026-10-01T00:00:00Z"`, `"expires": "next week"`},
		{"bad name", `"wordcount": {`, `"Word_Count": {`},
		{"bad semver key", `"1.2.0": {`, `"1.2": {`},
		{"bad runtime", `"runtime": "wasm"`, `"runtime": "python"`},
		{"bad sha", shaA, "abc"},
		{"zero size", `"size": 10`, `"size": 0`},
		{"missing url", `"url": "a/wc.tar.gz", `, ``},
		{"plugin with any", `"runtime": "wasm"`, `"runtime": "plugin"`},
		{"wasm with platform", `"any": {`, `"linux/amd64": {`},
		{"yanked bool", `"runtime": "wasm",`, `"runtime": "wasm", "yanked": true,`},
		{"unknown requirement field", `"constraint": "^1.0.0"}`, `"constraint": "^1.0.0", "optional": true}`},
		{"replacement constraint alone", `"runtime": "wasm",`, `"runtime": "wasm", "deprecated": {"message": "old", "replacement_constraint": "^2"},`},
		{"deprecated bad time", `"runtime": "wasm",`, `"runtime": "wasm", "deprecated": {"message": "old", "time": "yesterday"},`},
		{"history unknown action", `"runtime": "wasm",`, `"runtime": "wasm", "history": [{"action": "deleted", "time": "2026-09-02T00:00:00Z"}],`},
		{"history yank without reason", `"runtime": "wasm",`, `"runtime": "wasm", "history": [{"action": "yanked", "time": "2026-09-02T00:00:00Z"}],`},
		{"history yank empty reason", `"runtime": "wasm",`, `"runtime": "wasm", "history": [{"action": "yanked", "time": "2026-09-02T00:00:00Z", "reason": ""}],`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(base, tc.old) {
				t.Fatalf("edit %q not in base", tc.old)
			}
			doc := strings.Replace(base, tc.old, tc.new, 1)
			if _, err := Parse([]byte(doc)); err == nil {
				t.Fatalf("Parse accepts it; the case is wrong")
			}
			if err := validateDoc(rs, []byte(doc)); err == nil {
				t.Errorf("schema accepts an index Parse refuses")
			}
		})
	}
}
