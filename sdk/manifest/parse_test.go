package manifest

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLoadGood(t *testing.T) {
	tests := []struct {
		dir   string
		check func(t *testing.T, m *Manifest)
	}{
		{"testdata/good/wordcount", func(t *testing.T, m *Manifest) {
			eq(t, "Name", m.Name, "wordcount")
			eq(t, "Runtime", m.Runtime, RuntimeWasm)
			eq(t, "Version", m.Version.String(), "1.2.0")
			eq(t, "Entry", m.Entry, "wordcount.wasm")
			eq(t, "Timeout", m.Timeout, 5*time.Second)
			eq(t, "Memory", m.Memory, uint64(64<<20))
			eq(t, "Reentrant", m.Reentrant, false)
			eq(t, "License", m.License, "Apache-2.0")
			eq(t, "AllowedTools", strings.Join(m.AllowedTools, ","), "now")
			eq(t, "Metadata[author]", m.Metadata["author"], "skillsdev")
			eq(t, "Dir", m.Dir, filepath.Clean("testdata/good/wordcount"))
			eq(t, "File", m.File, filepath.Join("testdata/good/wordcount", "SKILL.md"))
			if len(m.Requires) != 3 {
				t.Fatalf("Requires = %+v, want 3 items", m.Requires)
			}
			want := []struct {
				name, raw string
				line      int
			}{{"summarize", "^1.0", 23}, {"spellcheck", ">=1.2.0 <2.0.0", 24}, {"tokenizer", "*", 25}}
			for i, w := range want {
				r := m.Requires[i]
				if r.Name != w.name || r.Raw != w.raw || r.Line != w.line || r.Constraint == nil {
					t.Errorf("Requires[%d] = %s %q line %d, want %s %q line %d", i, r.Name, r.Raw, r.Line, w.name, w.raw, w.line)
				}
			}
			eq(t, "InputSchema", string(m.InputSchema), `{"type":"object","properties":{"text":{"type":"string"},"top":{"type":"integer","minimum":0}},"required":["text"]}`)
			if !strings.HasPrefix(string(m.OutputSchema), `{"type":"object","properties":{"words"`) {
				t.Errorf("OutputSchema = %s", m.OutputSchema)
			}
			if rs, err := m.OutputResolved(); err != nil || rs == nil {
				t.Errorf("OutputResolved = %v, %v", rs, err)
			}
			if !strings.HasPrefix(m.Body, "# wordcount\n") {
				t.Errorf("Body starts %q", m.Body[:min(20, len(m.Body))])
			}
		}},
		{"testdata/good/fetch-url", func(t *testing.T, m *Manifest) {
			eq(t, "Runtime", m.Runtime, RuntimePlugin)
			eq(t, "Version", m.Version.String(), "0.3.1-beta.2")
			eq(t, "Entry", m.Entry, "bin/fetch-url")
			eq(t, "Timeout", m.Timeout, 30*time.Second)
			eq(t, "Memory", m.Memory, uint64(256<<20))
			eq(t, "Reentrant", m.Reentrant, true) // unquoted YAML bool, read as its text
			eq(t, "AllowedTools", strings.Join(m.AllowedTools, ","), "http_get,now")
			eq(t, "Compatibility", m.Compatibility, "Needs network access granted by the host policy.")
			if m.InputSchema == nil || m.OutputSchema != nil || m.Requires != nil {
				t.Errorf("sections: input %s output %s requires %v", m.InputSchema, m.OutputSchema, m.Requires)
			}
		}},
		{"testdata/good/pdf-notes", func(t *testing.T, m *Manifest) {
			eq(t, "Runtime", m.Runtime, RuntimeInstructions)
			if m.Version != nil || m.Entry != "" || m.InputSchema != nil || m.Metadata != nil || m.AllowedTools != nil {
				t.Errorf("plain Agent Skills manifest got platform fields: %+v", m)
			}
			if rs, err := m.InputResolved(); rs != nil || err != nil {
				t.Errorf("InputResolved = %v, %v; want nil, nil", rs, err)
			}
			if !strings.Contains(m.Body, "## Output format") {
				t.Errorf("Body lost text: %q", m.Body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.dir), func(t *testing.T) {
			m, err := Load(tt.dir)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, m)
		})
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// wantErr asserts err is an *Error at line with msg containing substr.
func wantErr(t *testing.T, err error, line int, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want line %d %q", line, substr)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not an *Error", err, err)
	}
	if e.Line != line || !strings.Contains(e.Msg, substr) {
		t.Fatalf("error %q\nwant line %d containing %q", err, line, substr)
	}
}

func TestLoadBad(t *testing.T) {
	tests := []struct {
		dir    string
		line   int
		substr string
	}{
		{"bad-yaml", 3, "invalid YAML: did not find expected ',' or ']'"},
		{"unknown-key", 4, `unknown top-level key "version"`},
		{"unknown-key", 4, "put platform fields under metadata (metadata.version)"},
		{"unknown-key-author", 5, `unknown top-level key "author": the Agent Skills spec allows only`},
		{"bad-semver", 5, `metadata.version "1.2" is not strict semver`},
		{"bad-constraint", 16, `tokenizer: bad version constraint "^one.two"`},
		{"Bad_Name", 2, `skill name "Bad_Name" may use only lowercase letters`},
		{"name-mismatch", 2, `name "other-name" does not match its folder "name-mismatch"`},
		{"missing-input", 6, "a wasm skill needs a ## Input section"},
		{"input-bad-json", 18, "## Input: invalid JSON: invalid character '}'"},
		{"input-not-compile", 16, "## Input: schema does not compile"},
		{"bad-duration", 8, `metadata.timeout "5 seconds" is not a Go duration`},
		{"bad-memory", 9, `"64MB" is not a size`},
		{"duplicate-requirement", 17, "summarize is listed twice (first at line 15)"},
		{"entry-dotdot", 7, "must not contain .."},
		{"unterminated", 1, "never closed"},
		{"no-frontmatter", 1, "must start with a line holding only ---"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", "bad", tt.dir)
			_, err := Load(dir)
			wantErr(t, err, tt.line, tt.substr)
			if e := err.(*Error); e.File != filepath.Join(dir, "SKILL.md") {
				t.Errorf("File = %q", e.File)
			}
		})
	}
}

// TestLoadRaw covers inputs that are kept out of testdata as files because
// they are large or not text: each is written next to a real folder and
// loaded from disk.
func TestLoadRaw(t *testing.T) {
	good, err := os.ReadFile("testdata/good/wordcount/SKILL.md")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		data   []byte
		line   int
		substr string
	}{
		{"oversized", append(bytes.Clone(good), bytes.Repeat([]byte("x"), MaxSize)...), 0,
			"file is " + strconv.Itoa(len(good)+MaxSize) + " bytes, over the 262144-byte (256 KiB) limit"},
		{"non-utf8", bytes.Replace(good, []byte("Free text"), []byte("Free \xff text"), 1), 17, "invalid UTF-8 byte 0xff"},
		{"nul", bytes.Replace(good, []byte("license:"), []byte("lic\x00ense:"), 1), 4, "NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "wordcount")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "SKILL.md"), tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			wantErr(t, err, tt.line, tt.substr)
			// Parse must say the same about the same bytes.
			_, err = Parse(filepath.Join(dir, "SKILL.md"), tt.data)
			wantErr(t, err, tt.line, tt.substr)
		})
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(t.TempDir())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of an empty folder = %v, want fs.ErrNotExist", err)
	}
	var e *Error
	if !errors.As(err, &e) || !strings.HasSuffix(e.File, "SKILL.md") {
		t.Fatalf("error %v is not an *Error naming SKILL.md", err)
	}
}

// TestFolderRule pins down when the name is checked against a folder.
func TestFolderRule(t *testing.T) {
	data, err := os.ReadFile("testdata/good/pdf-notes/SKILL.md")
	if err != nil {
		t.Fatal(err)
	}
	// No directory part: no folder to check, Dir stays empty.
	for _, file := range []string{"SKILL.md", ""} {
		m, err := Parse(file, data)
		if err != nil {
			t.Fatalf("Parse(%q): %v", file, err)
		}
		eq(t, "Dir", m.Dir, "")
		eq(t, "File", m.File, file)
	}
	// A directory part is checked.
	if m, err := Parse("skills/pdf-notes/SKILL.md", data); err != nil {
		t.Fatalf("Parse in the right folder: %v", err)
	} else {
		eq(t, "Dir", m.Dir, filepath.Clean("skills/pdf-notes"))
	}
	_, err = Parse("skills/other/SKILL.md", data)
	wantErr(t, err, 2, `does not match its folder "other"`)
	// Errors for bytes from nowhere still name a file.
	_, err = Parse("", []byte("no frontmatter"))
	if err == nil || !strings.HasPrefix(err.Error(), "SKILL.md:1: ") {
		t.Fatalf("Parse(\"\") error = %v, want it to start with SKILL.md:1:", err)
	}
	// Load resolves "." to the real folder name.
	t.Chdir("testdata/good/pdf-notes")
	if _, err := Load("."); err != nil {
		t.Fatalf(`Load("."): %v`, err)
	}
}

func TestParseBad(t *testing.T) {
	const head = "---\nname: x\ndescription: d.\n"
	const wasm = head + "metadata:\n  version: 1.0.0\n  runtime: wasm\n  entry: x.wasm\n" // lines 1-7
	const end = "---\n"                                                                   // line 8 after wasm
	const input = "## Input\n```json\n{\"type\":\"object\"}\n```\n"
	tests := []struct {
		name   string
		src    string
		line   int
		substr string
	}{
		{"empty frontmatter", "---\n---\n", 1, "frontmatter is empty"},
		{"frontmatter not a mapping", "---\n- a\n- b\n---\n", 2, "must be a YAML mapping"},
		{"missing name", "---\ndescription: d.\n---\n", 1, "has no name"},
		{"missing description", "---\nname: x\n---\n", 1, "has no description"},
		{"empty description", "---\nname: x\ndescription: \"  \"\n---\n", 3, "description is empty"},
		{"long description", "---\nname: x\ndescription: " + strings.Repeat("é", 1025) + "\n---\n", 3, "description is 1025 characters, over the 1024-character limit"},
		{"long compatibility", head + "compatibility: " + strings.Repeat("c", 501) + "\n---\n", 4, "over the 500-character limit"},
		{"name too long", "---\nname: " + strings.Repeat("a", 65) + "\ndescription: d.\n---\n", 2, "over the 64-character limit"},
		{"name hyphen", "---\nname: -x\ndescription: d.\n---\n", 2, "must not start or end with a hyphen"},
		{"name double hyphen", "---\nname: a--b\ndescription: d.\n---\n", 2, "consecutive hyphens"},
		{"null name", "---\nname:\ndescription: d.\n---\n", 2, "name has no value"},
		{"list name", "---\nname: [a]\ndescription: d.\n---\n", 2, "name must be a string, found a list"},
		{"duplicate key", head + "name: y\n---\n", 4, `duplicate key "name" (first at line 2)`},
		{"alias", "---\nname: &n x\ndescription: *n\n---\n", 3, "aliases"},
		{"tool with space", head + "allowed-tools:\n  - \"a b\"\n---\n", 5, `tool name "a b" must be one word`},
		{"tools mapping", head + "allowed-tools:\n  a: b\n---\n", 5, "allowed-tools must be a string, found a mapping"},
		{"metadata list", head + "metadata: [a]\n---\n", 4, "metadata must be a mapping"},
		{"metadata nested", head + "metadata:\n  tags: [a, b]\n---\n", 5, "metadata.tags must be a string, found a list"},
		{"metadata duplicate", head + "metadata:\n  a: b\n  a: c\n---\n", 6, `metadata: duplicate key "a" (first at line 5)`},
		{"bad runtime", head + "metadata:\n  runtime: docker\n---\n", 5, `metadata.runtime "docker" is not one of wasm, plugin, instructions`},
		{"missing version", head + "metadata:\n  runtime: wasm\n  entry: x.wasm\n---\n", 5, "metadata.version is required for a wasm skill"},
		{"v-prefixed version", head + "metadata:\n  version: v1.0.0\n---\n", 5, "not strict semver"},
		{"missing entry", head + "metadata:\n  version: 1.0.0\n  runtime: plugin\n---\n", 6, "metadata.entry is required for a plugin skill"},
		{"entry without runtime", head + "metadata:\n  version: 1.0.0\n  entry: x.wasm\n---\n", 6, "metadata.entry is set but the skill is an instructions skill"},
		{"absolute entry", head + "metadata:\n  version: 1.0.0\n  runtime: wasm\n  entry: /x.wasm\n---\n", 7, "must be relative"},
		{"backslash entry", head + "metadata:\n  version: 1.0.0\n  runtime: wasm\n  entry: bin\\x.wasm\n---\n", 7, "forward slashes"},
		{"unclean entry", head + "metadata:\n  version: 1.0.0\n  runtime: wasm\n  entry: ./x.wasm\n---\n", 7, `must be a clean path (no ./, // or trailing /): write "x.wasm"`},
		{"zero timeout", wasm + "  timeout: 0s\n" + end + input, 8, "must be positive"},
		{"long timeout", wasm + "  timeout: 11m\n" + end + input, 8, "over the 10m0s maximum"},
		{"small memory", wasm + "  memory: 512KiB\n" + end + input, 8, "below the 1MiB minimum"},
		{"huge wasm memory", wasm + "  memory: 5GiB\n" + end + input, 8, "over the 4GiB a wasm32 module can address"},
		{"overflowing memory", wasm + "  memory: 99999999999999GiB\n" + end + input, 8, "too large"},
		{"bad reentrant", wasm + "  reentrant: yes\n" + end + input, 8, `metadata.reentrant "yes" must be true or false`},
		{"numbered requires", wasm + end + "## Requires\n1. y ^1\n" + input, 10, "must be a bullet list"},
		{"requirement bad name", wasm + end + "## Requires\n- Y ^1\n" + input, 10, `skill name "Y"`},
		{"requires itself", wasm + end + "## Requires\n- x ^1\n" + input, 10, "x requires itself"},
		{"nested bullet", wasm + end + "## Requires\n- y ^1\n  - z\n" + input, 10, "found nested content"},
		{"duplicate section", wasm + end + input + "## input\n```json\n{}\n```\n", 13, "duplicate ## input section (first at line 9)"},
		{"input without json block", wasm + end + "## Input\n```yaml\ntype: object\n```\n", 9, "## Input has no ```json block"},
		{"two json blocks", wasm + end + input + "```json\n{}\n```\n", 13, "more than one ```json block (first at line 10)"},
		{"empty json block", wasm + end + "## Input\n```json\n```\n", 10, "the ```json block is empty"},
		{"schema is an array", wasm + end + "## Input\n```json\n[1]\n```\n", 11, "must be a JSON object ({...}), found array"},
		{"schema bad keyword type", wasm + end + "## Input\n```json\n{\"type\":\"object\",\"minimum\":\"x\"}\n```\n", 11, "not a valid JSON Schema"},
		{"schema unknown type", wasm + end + "## Input\n```json\n{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"strin\"}}}\n```\n", 11, `schema /properties/a: unknown type "strin"`},
		{"schema bad ref", wasm + end + "## Input\n```json\n{\"type\":\"object\",\"$ref\":\"#/$defs/nope\"}\n```\n", 11, "schema does not compile"},
		{"schema bad default", wasm + end + "## Input\n```json\n{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"default\":\"x\"}}}\n```\n", 11, "schema does not compile"},
		{"schema unsupported draft", wasm + end + "## Input\n```json\n{\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"type\":\"object\"}\n```\n", 11, "unsupported $schema"},
		{"input not object type", wasm + end + "## Input\n```json\n{\"type\":\"string\"}\n```\n", 11, `root must have "type": "object"`},
		{"bad output", wasm + end + input + "## Output\n```json\n{\"type\":\n```\n", 15, "## Output: invalid JSON"},
		{"missing input for plugin", head + "metadata:\n  version: 1.0.0\n  runtime: plugin\n  entry: x\n---\n## Output\n```json\n{}\n```\n", 6, "a plugin skill needs a ## Input section"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("SKILL.md", []byte(tt.src))
			wantErr(t, err, tt.line, tt.substr)
		})
	}
}

// TestParseAccepts covers the lenient corners, each a rule in doc.go.
func TestParseAccepts(t *testing.T) {
	const head = "---\nname: x\ndescription: d.\n"
	tests := []struct {
		name  string
		src   string
		check func(t *testing.T, m *Manifest)
	}{
		{"CRLF and BOM", "\uFEFF---\r\nname: x\r\ndescription: d.\r\n---\r\n## Requires\r\n- y ^1\r\n", func(t *testing.T, m *Manifest) {
			eq(t, "Requires", len(m.Requires), 1)
			eq(t, "Line", m.Requires[0].Line, 6)
		}},
		{"scalars as text", head + "metadata:\n  count: 3\n  ratio: 1.50\n  flag: true\n---\n", func(t *testing.T, m *Manifest) {
			eq(t, "count", m.Metadata["count"], "3")
			eq(t, "ratio", m.Metadata["ratio"], "1.50")
			eq(t, "flag", m.Metadata["flag"], "true")
		}},
		{"tools string deduplicated", head + "allowed-tools: now  http_get now\n---\n", func(t *testing.T, m *Manifest) {
			eq(t, "AllowedTools", strings.Join(m.AllowedTools, ","), "now,http_get")
		}},
		{"requires: prose, code spans, loose list", head + "---\n## REQUIRES\nCalls these:\n\n- `a` ^1\n\n- b >= 1.2, < 2\n", func(t *testing.T, m *Manifest) {
			eq(t, "Requires", len(m.Requires), 2)
			eq(t, "a", m.Requires[0].Raw, "^1")
			eq(t, "b", m.Requires[1].Raw, ">= 1.2, < 2")
			eq(t, "b line", m.Requires[1].Line, 10)
		}},
		{"headings only at level 2", head + "---\n### Input\nnot a section\n# Requires\n- not parsed as a requirement\n", func(t *testing.T, m *Manifest) {
			if m.InputSchema != nil || m.Requires != nil {
				t.Errorf("sections read from the wrong level: %s %v", m.InputSchema, m.Requires)
			}
		}},
		{"heading in a code block is not a heading", head + "---\n```\n## Input\n```\n", func(t *testing.T, m *Manifest) {
			eq(t, "InputSchema", m.InputSchema == nil, true)
		}},
		{"instructions with input and version", head + "metadata:\n  version: 2.0.0\n---\n## Input\n```json\n{\"type\":\"object\"}\n```\n", func(t *testing.T, m *Manifest) {
			eq(t, "Runtime", m.Runtime, RuntimeInstructions)
			eq(t, "Version", m.Version.String(), "2.0.0")
			if err := m.ValidateInput([]byte(`{}`)); err != nil {
				t.Error(err)
			}
		}},
		{"setext heading and plain bytes memory", head + "metadata:\n  version: 1.0.0\n  runtime: plugin\n  entry: bin/x\n  memory: \"1048576\"\n---\nInput\n-----\n```json\n{\"type\":\"object\"}\n```\n", func(t *testing.T, m *Manifest) {
			eq(t, "Memory", m.Memory, uint64(1<<20))
			eq(t, "Input", string(m.InputSchema), `{"type":"object"}`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("SKILL.md", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, m)
		})
	}
}

func TestParseMemory(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"64MiB", 64 << 20, true}, {"512KiB", 512 << 10, true}, {"1GiB", 1 << 30, true},
		{"1048576", 1 << 20, true}, {"2048B", 2048, true},
		{"64MB", 0, false}, {"64mib", 0, false}, {"MiB", 0, false}, {"-1MiB", 0, false},
		{"1.5GiB", 0, false}, {"", 0, false}, {" 64MiB", 0, false}, {"18446744073709551616", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseMemory(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
