package manifest

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/google/jsonschema-go/jsonschema"

	"github.com/skillsdev/skills/sdk/manifest/internal/validate"
)

// Runtime says how a skill runs.
type Runtime string

// Runtimes.
const (
	RuntimeWasm         Runtime = "wasm"         // a WebAssembly module run in-process by wazero
	RuntimePlugin       Runtime = "plugin"       // a go-plugin binary run as a child process
	RuntimeInstructions Runtime = "instructions" // body only: instructions for a model, no code
)

// Manifest is a parsed, validated SKILL.md.
type Manifest struct {
	// Frontmatter (top-level keys of the Agent Skills spec).
	Name          string            // 1-64 chars, ^[a-z0-9]+(-[a-z0-9]+)*$, equals the folder name
	Description   string            // 1-1024 chars
	License       string            // optional
	Compatibility string            // optional, <= 500 chars
	AllowedTools  []string          // host tools the skill may call; everything else is denied
	Metadata      map[string]string // all metadata, including the platform keys below

	// Platform fields, from metadata.
	Version   *semver.Version // metadata.version, strict semver; nil only for instructions skills without one
	Runtime   Runtime         // metadata.runtime; instructions when absent
	Entry     string          // metadata.entry: artifact path inside the package, slash-separated, relative
	Timeout   time.Duration   // metadata.timeout (Go duration); 0 means the host default
	Memory    uint64          // metadata.memory in bytes ("64MiB", "512KiB", plain bytes); 0 means the host default
	Reentrant bool            // metadata.reentrant: "true" lets the skill appear twice on one call chain

	// Body sections.
	Requires     []Requirement   // ## Requires: the skills this skill may call, and its dependencies
	InputSchema  json.RawMessage // ## Input: JSON Schema of the input, compacted (nil for instructions skills without it)
	OutputSchema json.RawMessage // ## Output: optional JSON Schema of the output, compacted
	Body         string          // the markdown body after the frontmatter

	// Where it came from.
	File string // path of SKILL.md as given to Parse (used in errors)
	Dir  string // folder holding SKILL.md ("" when parsed from bytes without a folder)

	// Compiled schemas, cached by Parse so that the host validates every call
	// without compiling again. A jsonschema.Resolved is read-only once built,
	// so sharing it between goroutines is safe.
	inputResolved  *jsonschema.Resolved
	outputResolved *jsonschema.Resolved
	// inputFast checks inputs on the bytes when the ## Input schema is
	// inside its subset (nil otherwise); see ValidateInput.
	inputFast *validate.Validator
}

// Requirement is one bullet of ## Requires: "name constraint".
type Requirement struct {
	Name       string
	Constraint *semver.Constraints
	Raw        string // the constraint as written, e.g. "^1.2"
	Line       int    // line in SKILL.md, for errors
}

// Error is a problem in a SKILL.md, located by file and line (line 0 when the
// problem is about the file as a whole).
type Error struct {
	File string
	Line int
	Msg  string
	Err  error // the underlying cause, when there is one (a read error, for errors.Is)
}

// Error formats the problem as "file:line: msg", the form editors and
// terminals turn into a link.
func (e *Error) Error() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.File + ": " + e.Msg
}

// Unwrap returns the underlying cause, so errors.Is(err, fs.ErrNotExist)
// works on what Load returns.
func (e *Error) Unwrap() error { return e.Err }
