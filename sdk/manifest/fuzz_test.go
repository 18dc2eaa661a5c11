package manifest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, every
// error must be an *Error with a line inside the file, and whatever parses
// must satisfy the rules it claims to have checked. The seeds are every
// SKILL.md under testdata.
func FuzzParse(f *testing.F) {
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != FileName {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f.Add(data)
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("---\nname: x\ndescription: d\n---\n## Input\n```json\n{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#\"}}}\n```\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("SKILL.md", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			if e.Line < 0 || e.Line > len(data)+1 {
				t.Fatalf("error line %d outside a %d-byte file: %v", e.Line, len(data), err)
			}
			return
		}
		if CheckName(m.Name) != nil || m.Description == "" {
			t.Fatalf("accepted name %q description %q", m.Name, m.Description)
		}
		if m.Runtime != RuntimeInstructions && (m.Version == nil || m.Entry == "" || m.InputSchema == nil) {
			t.Fatalf("accepted a %s skill without version, entry or input: %+v", m.Runtime, m)
		}
		// The cached schema must serve validation without panicking.
		_ = m.ValidateInput([]byte(`{"a":[1,"x",{"b":null}]}`))
	})
}
