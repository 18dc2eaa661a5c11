package manifest

import (
	"encoding/json"
	"errors"
	"maps"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
)

// jsonschema-go decides whether an input is valid, but its messages name
// the failing subschema ("validating /properties/text: type: 5 has type
// \"integer\"...") rather than the failing value, and a model fixing its
// tool call needs the value's path. So on failure only, explain walks the
// schema and the value together over the common keywords and names the
// first failing value by JSON Pointer. When it finds nothing it
// understands (anyOf, oneOf, not, if/then/else, remote $ref, ...), the
// library's message is used as is. The happy path never runs this code.

// maxExplainDepth bounds the walk; real tool inputs are far shallower.
const maxExplainDepth = 64

// inputError builds the error ValidateInput returns for an invalid value.
func inputError(root *jsonschema.Schema, v any, libErr error) error {
	x := explainer{root: root}
	if ptr, msg, ok := x.walk(root, v, "", 0); ok {
		if ptr == "" {
			return errors.New("input: " + msg)
		}
		return errors.New("input: " + ptr + ": " + msg)
	}
	return errors.New("input: " + strings.TrimPrefix(libErr.Error(), "validating root: "))
}

type explainer struct {
	root *jsonschema.Schema
}

// walk returns the JSON Pointer of the first value of v that fails s, and
// why.
func (x *explainer) walk(s *jsonschema.Schema, v any, ptr string, depth int) (string, string, bool) {
	if s == nil || depth > maxExplainDepth {
		return "", "", false
	}
	if isFalseSchema(s) {
		return ptr, "no value is allowed here", true
	}
	if s.Ref != "" {
		if t := x.localRef(s.Ref); t != nil {
			if p, m, ok := x.walk(t, v, ptr, depth+1); ok {
				return p, m, true
			}
		}
	}
	types := s.Types
	if s.Type != "" {
		types = []string{s.Type}
	}
	if len(types) > 0 && !slices.ContainsFunc(types, func(t string) bool { return hasType(v, t) }) {
		return ptr, "expected " + strings.Join(types, " or ") + ", got " + jsonKind(v), true
	}
	if s.Enum != nil && !slices.ContainsFunc(s.Enum, func(e any) bool { return jsonEqual(e, v) }) {
		return ptr, brief(v) + " is not one of " + brief(s.Enum), true
	}
	if s.Const != nil && !jsonEqual(*s.Const, v) {
		return ptr, "must be " + brief(*s.Const) + ", got " + brief(v), true
	}
	switch t := v.(type) {
	case float64:
		if m, ok := numberProblem(s, t); ok {
			return ptr, m, true
		}
	case string:
		if m, ok := stringProblem(s, t); ok {
			return ptr, m, true
		}
	case []any:
		if p, m, ok := x.array(s, t, ptr, depth); ok {
			return p, m, true
		}
	case map[string]any:
		if p, m, ok := x.object(s, t, ptr, depth); ok {
			return p, m, true
		}
	}
	for _, sub := range s.AllOf {
		if p, m, ok := x.walk(sub, v, ptr, depth+1); ok {
			return p, m, true
		}
	}
	return "", "", false
}

func numberProblem(s *jsonschema.Schema, n float64) (string, bool) {
	f := strconv.FormatFloat(n, 'g', -1, 64)
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	switch {
	case s.Minimum != nil && n < *s.Minimum:
		return f + " is less than the minimum " + g(*s.Minimum), true
	case s.Maximum != nil && n > *s.Maximum:
		return f + " is greater than the maximum " + g(*s.Maximum), true
	case s.ExclusiveMinimum != nil && n <= *s.ExclusiveMinimum:
		return f + " must be greater than " + g(*s.ExclusiveMinimum), true
	case s.ExclusiveMaximum != nil && n >= *s.ExclusiveMaximum:
		return f + " must be less than " + g(*s.ExclusiveMaximum), true
	case s.MultipleOf != nil && *s.MultipleOf != 0:
		if _, frac := math.Modf(n / *s.MultipleOf); frac != 0 {
			return f + " is not a multiple of " + g(*s.MultipleOf), true
		}
	}
	return "", false
}

func stringProblem(s *jsonschema.Schema, str string) (string, bool) {
	n := utf8.RuneCountInString(str)
	switch {
	case s.MinLength != nil && n < *s.MinLength:
		return "length " + strconv.Itoa(n) + " is shorter than the minimum " + strconv.Itoa(*s.MinLength), true
	case s.MaxLength != nil && n > *s.MaxLength:
		return "length " + strconv.Itoa(n) + " is longer than the maximum " + strconv.Itoa(*s.MaxLength), true
	case s.Pattern != "":
		if re, err := regexp.Compile(s.Pattern); err == nil && !re.MatchString(str) {
			return brief(str) + " does not match the pattern " + strconv.Quote(s.Pattern), true
		}
	}
	return "", false
}

func (x *explainer) array(s *jsonschema.Schema, a []any, ptr string, depth int) (string, string, bool) {
	switch {
	case s.MinItems != nil && len(a) < *s.MinItems:
		return ptr, strconv.Itoa(len(a)) + " items, fewer than the minimum " + strconv.Itoa(*s.MinItems), true
	case s.MaxItems != nil && len(a) > *s.MaxItems:
		return ptr, strconv.Itoa(len(a)) + " items, more than the maximum " + strconv.Itoa(*s.MaxItems), true
	}
	// The two drafts spell positional items differently; each item gets
	// the schema that applies to its position.
	prefix, rest := s.PrefixItems, s.Items
	if s.ItemsArray != nil {
		prefix, rest = s.ItemsArray, s.AdditionalItems
	}
	for i, item := range a {
		sub := rest
		if i < len(prefix) {
			sub = prefix[i]
		}
		if p, m, ok := x.walk(sub, item, ptr+"/"+strconv.Itoa(i), depth+1); ok {
			return p, m, true
		}
	}
	return "", "", false
}

func (x *explainer) object(s *jsonschema.Schema, o map[string]any, ptr string, depth int) (string, string, bool) {
	for _, r := range s.Required {
		if _, ok := o[r]; !ok {
			return ptr, "missing required property " + strconv.Quote(r), true
		}
	}
	switch {
	case s.MinProperties != nil && len(o) < *s.MinProperties:
		return ptr, strconv.Itoa(len(o)) + " properties, fewer than the minimum " + strconv.Itoa(*s.MinProperties), true
	case s.MaxProperties != nil && len(o) > *s.MaxProperties:
		return ptr, strconv.Itoa(len(o)) + " properties, more than the maximum " + strconv.Itoa(*s.MaxProperties), true
	}
	for _, k := range slices.Sorted(maps.Keys(o)) {
		p := ptr + "/" + escapePtr(k)
		if sub, ok := s.Properties[k]; ok {
			if p, m, ok := x.walk(sub, o[k], p, depth+1); ok {
				return p, m, true
			}
			continue
		}
		matched := false
		for pat, sub := range s.PatternProperties {
			if re, err := regexp.Compile(pat); err == nil && re.MatchString(k) {
				matched = true
				if p, m, ok := x.walk(sub, o[k], p, depth+1); ok {
					return p, m, true
				}
			}
		}
		if matched || s.AdditionalProperties == nil {
			continue
		}
		if isFalseSchema(s.AdditionalProperties) {
			allowed := slices.Sorted(maps.Keys(s.Properties))
			return p, "unexpected property (allowed: " + strings.Join(allowed, ", ") + ")", true
		}
		if p, m, ok := x.walk(s.AdditionalProperties, o[k], p, depth+1); ok {
			return p, m, true
		}
	}
	return "", "", false
}

// localRef follows "#/$defs/x" and "#/definitions/x" inside the root, the
// only references hand-written tool schemas use in practice.
func (x *explainer) localRef(ref string) *jsonschema.Schema {
	if name, ok := strings.CutPrefix(ref, "#/$defs/"); ok {
		return x.root.Defs[name]
	}
	if name, ok := strings.CutPrefix(ref, "#/definitions/"); ok {
		return x.root.Definitions[name]
	}
	if ref == "#" {
		return x.root
	}
	return nil
}

// isFalseSchema reports whether s is the boolean schema false, which
// jsonschema-go represents as {"not": {}}.
func isFalseSchema(s *jsonschema.Schema) bool {
	if s.Not == nil || !reflect.ValueOf(*s.Not).IsZero() {
		return false
	}
	c := *s
	c.Not = nil
	return reflect.ValueOf(c).IsZero()
}

func hasType(v any, t string) bool {
	switch t {
	case "null":
		return v == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	case "string":
		_, ok := v.(string)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

// jsonEqual compares two decoded JSON values by their encoding, which is
// canonical for what encoding/json produces (maps are sorted).
func jsonEqual(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// brief renders a value for a message, cut short so that a huge input does
// not become a huge error.
func brief(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "value"
	}
	const max = 60
	if len(b) <= max {
		return string(b)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return string(b[:cut]) + "..."
}
