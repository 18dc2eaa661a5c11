package validate

import (
	"maps"
	"math"
	"reflect"
	"regexp"
	"slices"

	"github.com/google/jsonschema-go/jsonschema"
)

// The $schema values jsonschema-go validates; any other value makes its
// Validate refuse every instance, so Compile leaves such a schema to it.
const (
	draft7      = "http://json-schema.org/draft-07/schema#"
	draft7HTTPS = "https://json-schema.org/draft-07/schema#"
	draft2020   = "https://json-schema.org/draft/2020-12/schema"
)

// maxSchemaDepth bounds how deeply Compile follows nested schemas, which is
// also how deeply Valid recurses: values under the deepest schema are
// checked by the iterative skipper.
const maxSchemaDepth = 256

// maxRequired is the number of required names one object schema may list:
// Valid tracks them in one uint64.
const maxRequired = 64

// Validator checks JSON bytes against a schema compiled by Compile. It is
// read-only after Compile and safe for concurrent use.
type Validator struct {
	root *node // nil: every well-formed value is accepted
}

// Kinds of JSON value, as bits of node.types. JSON Schema's "number" is
// kInt|kFrac: jsonschema-go calls a number an integer when its float64 has
// no fractional part (1.0 and 1e300 are integers).
const (
	kNull uint8 = 1 << iota
	kBool
	kInt  // a number whose float64 value has no fractional part
	kFrac // any other number
	kString
	kArray
	kObject

	kNumber = kInt | kFrac
)

// node is one compiled schema. A nil *node accepts every value.
type node struct {
	never bool // false, {"not": {}}, "type": [] or "enum": []: nothing is valid

	types uint8 // allowed kinds; 0 means any kind

	enum    []scalar // nil: no enum
	hasEnum bool
	konst   *scalar

	// numbers
	hasMin, hasMax, hasExMin, hasExMax, hasMult bool
	min, max, exMin, exMax, mult                float64
	needNum                                     bool // a number's value is needed, not just its kind

	// strings
	hasMinLen, hasMaxLen bool
	minLen, maxLen       int
	pattern              *regexp.Regexp
	needText             bool // the decoded string is needed (pattern, enum, const)

	// arrays
	items              *node
	hasMinItems        bool
	hasMaxItems        bool
	minItems, maxItems int

	// objects
	props       []prop
	index       map[string]int // name -> props index, for objects with many names
	additional  *node          // schema for names outside properties (nil: anything)
	reqMask     uint64         // bits of props that are required
	hasMinProps bool
	hasMaxProps bool
	minProps    int
	maxProps    int
}

// prop is a name the object schema knows: a property, a required name, or
// both. A required name without a property schema takes additionalProperties.
type prop struct {
	name     string
	sub      *node
	declared bool   // listed under properties
	bit      uint64 // its bit in reqMask when required, else 0
}

// scalar is an enum or const value. Arrays and objects are outside the
// subset.
type scalar struct {
	kind uint8 // kNull, kBool, kNumber or kString
	b    bool
	f    float64
	s    string
}

// manyProps is the number of names above which an object uses a map to
// find a property instead of comparing names one by one.
const manyProps = 8

// Compile builds a Validator for s, the root of a schema jsonschema-go
// has resolved. ok is false when s uses anything outside the subset Valid
// implements (see the package documentation); the caller then validates
// with jsonschema-go.
func Compile(s *jsonschema.Schema) (v *Validator, ok bool) {
	if s == nil {
		return nil, false
	}
	switch s.Schema {
	case "", draft7, draft7HTTPS, draft2020:
	default:
		return nil, false
	}
	n, ok := compile(s, 0)
	if !ok {
		return nil, false
	}
	return &Validator{root: n}, true
}

// unsupportedLeft clears, in a copy of s, every field that jsonschema-go's
// Validate ignores or that Valid implements; whatever is left is outside
// the subset. Working on a copy this way means a field added by a newer
// jsonschema-go counts as unsupported until someone looks at it.
func unsupportedLeft(s *jsonschema.Schema) bool {
	c := *s
	// Annotations and identifiers: never read by Validate. $defs matter
	// only through $ref, which is unsupported.
	c.ID, c.Schema, c.Comment = "", "", ""
	c.Defs, c.Definitions = nil, nil
	c.Anchor, c.DynamicAnchor, c.Vocabulary = "", "", nil
	c.Title, c.Description, c.Default = "", "", nil
	c.Deprecated, c.ReadOnly, c.WriteOnly, c.Examples = false, false, false, nil
	c.Format, c.ContentEncoding, c.ContentMediaType, c.ContentSchema = "", "", "", nil
	c.Extra, c.PropertyOrder = nil, nil
	// Implemented.
	c.Type, c.Types, c.Enum, c.Const = "", nil, nil, nil
	c.MultipleOf, c.Minimum, c.Maximum, c.ExclusiveMinimum, c.ExclusiveMaximum = nil, nil, nil, nil, nil
	c.MinLength, c.MaxLength, c.Pattern = nil, nil, ""
	c.Items, c.MinItems, c.MaxItems = nil, nil, nil
	c.Properties, c.Required, c.AdditionalProperties = nil, nil, nil
	c.MinProperties, c.MaxProperties = nil, nil
	if c.Not != nil && reflect.ValueOf(*c.Not).IsZero() {
		c.Not = nil // {"not": {}} is how jsonschema-go spells the false schema
	}
	return !reflect.ValueOf(c).IsZero()
}

func compile(s *jsonschema.Schema, depth int) (*node, bool) {
	if s == nil || depth > maxSchemaDepth || unsupportedLeft(s) {
		return nil, false
	}
	n := &node{}
	if s.Not != nil {
		n.never = true
	}

	switch {
	case s.Type != "":
		t, ok := kindOf(s.Type)
		if !ok {
			return nil, false
		}
		n.types = t
	case s.Types != nil:
		if len(s.Types) == 0 {
			n.never = true
		}
		for _, name := range s.Types {
			t, ok := kindOf(name)
			if !ok {
				return nil, false
			}
			n.types |= t
		}
	}

	if s.Enum != nil {
		n.hasEnum = true
		if len(s.Enum) == 0 {
			n.never = true
		}
		for _, e := range s.Enum {
			sc, ok := toScalar(e)
			if !ok {
				return nil, false
			}
			n.enum = append(n.enum, sc)
		}
	}
	if s.Const != nil {
		sc, ok := toScalar(*s.Const)
		if !ok {
			return nil, false
		}
		n.konst = &sc
	}

	// Numbers. jsonschema-go compares through big.Rat, which panics on a
	// non-finite float; none can come from JSON, but a hand-built schema
	// could hold one, so leave it to the library.
	num := func(p *float64, has *bool, dst *float64) bool {
		if p == nil {
			return true
		}
		if math.IsInf(*p, 0) || math.IsNaN(*p) {
			return false
		}
		*has, *dst = true, *p
		return true
	}
	if !num(s.Minimum, &n.hasMin, &n.min) || !num(s.Maximum, &n.hasMax, &n.max) ||
		!num(s.ExclusiveMinimum, &n.hasExMin, &n.exMin) || !num(s.ExclusiveMaximum, &n.hasExMax, &n.exMax) ||
		!num(s.MultipleOf, &n.hasMult, &n.mult) {
		return nil, false
	}

	// Strings.
	if s.MinLength != nil {
		n.hasMinLen, n.minLen = true, *s.MinLength
	}
	if s.MaxLength != nil {
		n.hasMaxLen, n.maxLen = true, *s.MaxLength
	}
	if s.Pattern != "" {
		// The same dialect and call as jsonschema-go (regexp.Compile, RE2
		// syntax, unanchored match).
		re, err := regexp.Compile(s.Pattern)
		if err != nil {
			return nil, false
		}
		n.pattern = re
	}

	// Arrays.
	if s.Items != nil {
		items, ok := compile(s.Items, depth+1)
		if !ok {
			return nil, false
		}
		n.items = items
	}
	if s.MinItems != nil {
		n.hasMinItems, n.minItems = true, *s.MinItems
	}
	if s.MaxItems != nil {
		n.hasMaxItems, n.maxItems = true, *s.MaxItems
	}

	// Objects.
	if !compileObject(n, s, depth) {
		return nil, false
	}

	n.needNum = n.hasMin || n.hasMax || n.hasExMin || n.hasExMax || n.hasMult ||
		n.hasEnum || n.konst != nil
	n.needText = n.pattern != nil || n.hasEnum || n.konst != nil
	if !n.never && isEmpty(n) {
		return nil, true // accepts everything: the skipper checks syntax only
	}
	return n, true
}

func compileObject(n *node, s *jsonschema.Schema, depth int) bool {
	if s.AdditionalProperties != nil {
		add, ok := compile(s.AdditionalProperties, depth+1)
		if !ok {
			return false
		}
		n.additional = add
	}
	if s.MinProperties != nil {
		n.hasMinProps, n.minProps = true, *s.MinProperties
	}
	if s.MaxProperties != nil {
		n.hasMaxProps, n.maxProps = true, *s.MaxProperties
	}
	pos := map[string]int{}
	find := func(name string) *prop {
		i, ok := pos[name]
		if !ok {
			i = len(n.props)
			pos[name] = i
			n.props = append(n.props, prop{name: name})
		}
		return &n.props[i]
	}
	// Sorted for a deterministic layout; lookups do not depend on order.
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		sub, ok := compile(s.Properties[name], depth+1)
		if !ok {
			return false
		}
		p := find(name)
		p.sub, p.declared = sub, true
	}
	nreq := 0
	for _, name := range s.Required {
		p := find(name)
		if p.bit != 0 {
			continue // listed twice
		}
		if nreq == maxRequired {
			return false
		}
		p.bit = 1 << nreq
		n.reqMask |= p.bit
		nreq++
	}
	if len(n.props) > manyProps {
		n.index = pos
	}
	return true
}

// isEmpty reports whether n constrains nothing.
func isEmpty(n *node) bool {
	return n.types == 0 && !n.hasEnum && n.konst == nil &&
		!n.hasMin && !n.hasMax && !n.hasExMin && !n.hasExMax && !n.hasMult &&
		!n.hasMinLen && !n.hasMaxLen && n.pattern == nil &&
		n.items == nil && !n.hasMinItems && !n.hasMaxItems &&
		len(n.props) == 0 && n.additional == nil && !n.hasMinProps && !n.hasMaxProps
}

func kindOf(name string) (uint8, bool) {
	switch name {
	case "null":
		return kNull, true
	case "boolean":
		return kBool, true
	case "integer":
		return kInt, true
	case "number":
		return kNumber, true
	case "string":
		return kString, true
	case "array":
		return kArray, true
	case "object":
		return kObject, true
	}
	return 0, false
}

// toScalar converts an enum or const value as encoding/json decodes it.
func toScalar(v any) (scalar, bool) {
	switch x := v.(type) {
	case nil:
		return scalar{kind: kNull}, true
	case bool:
		return scalar{kind: kBool, b: x}, true
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return scalar{}, false
		}
		return scalar{kind: kNumber, f: x}, true
	case string:
		return scalar{kind: kString, s: x}, true
	}
	return scalar{}, false
}
