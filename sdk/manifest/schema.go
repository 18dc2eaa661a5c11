package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
)

// The $schema values jsonschema-go validates. Resolve accepts any value, but
// Validate then refuses every instance, so an unsupported one is refused at
// parse time instead of on the first call.
const (
	draft7          = "http://json-schema.org/draft-07/schema#"
	draft7HTTPS     = "https://json-schema.org/draft-07/schema#"
	draft2020       = "https://json-schema.org/draft/2020-12/schema"
	supportedDrafts = draft2020 + " or " + draft7
)

// compileSchema unmarshals and resolves a JSON Schema, after the checks
// jsonschema-go leaves out: the $schema version and the type names (it
// would accept "type": "strin" and then reject every instance). An input
// schema must describe an object, because tool calls from models (and MCP)
// carry their arguments as a JSON object.
func compileSchema(raw []byte, input bool) (*jsonschema.Resolved, error) {
	var s jsonschema.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("not a valid JSON Schema: %v", err)
	}
	switch s.Schema {
	case "", draft7, draft7HTTPS, draft2020:
	default:
		return nil, fmt.Errorf("unsupported $schema %q: use %s (or leave $schema out)", s.Schema, supportedDrafts)
	}
	if err := walkSchemas(&s, "", checkTypes); err != nil {
		return nil, fmt.Errorf("not a valid JSON Schema: %v", err)
	}
	if input && s.Type != "object" {
		return nil, fmt.Errorf(`the input schema's root must have "type": "object": a model passes tool input as a JSON object`)
	}
	var rs *jsonschema.Resolved
	err := guard(func() error {
		var err error
		rs, err = s.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("schema does not compile: %v", err)
	}
	return rs, nil
}

func checkTypes(s *jsonschema.Schema, ptr string) error {
	types := s.Types
	if s.Type != "" {
		types = []string{s.Type}
	}
	for _, t := range types {
		switch t {
		case "null", "boolean", "object", "array", "number", "string", "integer":
		default:
			return fmt.Errorf("%s: unknown type %q (want null, boolean, object, array, number, string or integer)", schemaPtr(ptr), t)
		}
	}
	return nil
}

func schemaPtr(ptr string) string {
	if ptr == "" {
		return "schema root"
	}
	return "schema " + ptr
}

// walkSchemas calls f on s and every subschema, depth first and in a fixed
// order (map keys sorted), with its JSON Pointer inside the root. It stops
// at the first error.
func walkSchemas(s *jsonschema.Schema, ptr string, f func(*jsonschema.Schema, string) error) error {
	if s == nil {
		return nil
	}
	if err := f(s, ptr); err != nil {
		return err
	}
	type child struct {
		ptr string
		s   *jsonschema.Schema
	}
	var kids []child
	one := func(name string, c *jsonschema.Schema) {
		if c != nil {
			kids = append(kids, child{ptr + "/" + name, c})
		}
	}
	list := func(name string, cs []*jsonschema.Schema) {
		for i, c := range cs {
			kids = append(kids, child{ptr + "/" + name + "/" + strconv.Itoa(i), c})
		}
	}
	dict := func(name string, cs map[string]*jsonschema.Schema) {
		for _, k := range slices.Sorted(maps.Keys(cs)) {
			kids = append(kids, child{ptr + "/" + name + "/" + escapePtr(k), cs[k]})
		}
	}
	dict("$defs", s.Defs)
	dict("definitions", s.Definitions)
	dict("dependencies", s.DependencySchemas)
	dict("dependentSchemas", s.DependentSchemas)
	dict("properties", s.Properties)
	dict("patternProperties", s.PatternProperties)
	list("prefixItems", s.PrefixItems)
	list("items", s.ItemsArray)
	list("allOf", s.AllOf)
	list("anyOf", s.AnyOf)
	list("oneOf", s.OneOf)
	one("items", s.Items)
	one("additionalItems", s.AdditionalItems)
	one("contains", s.Contains)
	one("unevaluatedItems", s.UnevaluatedItems)
	one("additionalProperties", s.AdditionalProperties)
	one("propertyNames", s.PropertyNames)
	one("unevaluatedProperties", s.UnevaluatedProperties)
	one("not", s.Not)
	one("if", s.If)
	one("then", s.Then)
	one("else", s.Else)
	one("contentSchema", s.ContentSchema)
	for _, k := range kids {
		if err := walkSchemas(k.s, k.ptr, f); err != nil {
			return err
		}
	}
	return nil
}

// escapePtr escapes one JSON Pointer token (RFC 6901).
func escapePtr(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// InputResolved returns the compiled ## Input schema, or nil when the skill
// has none. Parse compiles it once and caches it; a Manifest is immutable
// after Parse (treat every field as read-only), so the result is safe to
// share between goroutines. For a Manifest built by hand rather than by
// Parse, the schema is compiled on each call.
func (m *Manifest) InputResolved() (*jsonschema.Resolved, error) {
	return resolved(m.inputResolved, m.InputSchema, true)
}

// OutputResolved is InputResolved for the optional ## Output schema.
func (m *Manifest) OutputResolved() (*jsonschema.Resolved, error) {
	return resolved(m.outputResolved, m.OutputSchema, false)
}

func resolved(cached *jsonschema.Resolved, raw json.RawMessage, input bool) (*jsonschema.Resolved, error) {
	if cached != nil || raw == nil {
		return cached, nil
	}
	return compileSchema(raw, input)
}

// ValidateInput checks a call's input against the ## Input schema. It
// decodes the input once and reports the first problem with the JSON
// Pointer of the failing value, e.g. "input: /text: expected string, got
// number". A skill without ## Input (an instructions skill) accepts any
// well-formed JSON. Safe for concurrent use.
//
// The host calls this on every skill call, so when the schema is inside
// the subset internal/validate implements, a valid input is accepted in
// one pass over its bytes, without decoding or allocating. Anything that
// pass does not accept takes the jsonschema-go path below, which gives the
// verdict (the two agree, except that the fast pass refuses some inputs
// that repeat an object key) and the error message.
func (m *Manifest) ValidateInput(input []byte) error {
	if m.inputFast != nil && m.inputFast.Valid(input) {
		return nil
	}
	rs, err := m.InputResolved()
	if err != nil {
		return fmt.Errorf("input: %w", err)
	}
	if len(input) == 0 {
		return errors.New("input: empty; want a JSON value")
	}
	if rs == nil {
		if json.Valid(input) {
			return nil
		}
	}
	var v any
	if err := json.Unmarshal(input, &v); err != nil {
		return fmt.Errorf("input: not valid JSON: %v", err)
	}
	if rs == nil {
		return nil
	}
	err = guard(func() error { return rs.Validate(v) })
	if err == nil {
		return nil
	}
	return inputError(rs.Schema(), v, err)
}

// guard runs f and turns a panic into an error. SKILL.md files and skill
// inputs are untrusted and the host must not crash on them; the third-party
// parsers called here are not promised to be panic-free on every input.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal parser failure: %v", r)
		}
	}()
	return f()
}
