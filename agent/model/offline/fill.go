package offline

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// property is the part of a JSON Schema property the filler reads.
type property struct {
	name     string
	Type     json.RawMessage `json:"type"`
	Default  json.RawMessage `json:"default"`
	Enum     []any           `json:"enum"`
	Minimum  *float64        `json:"minimum"`
	Maximum  *float64        `json:"maximum"`
	required bool
}

// FillInput builds tool arguments from the task, following the schema's
// properties in the order the schema lists them:
//
//   - string properties named like a path (path, file, dir, ...) take the
//     next path-looking token of the task ("notes.txt", "./a/b"); url-like
//     names take the next http(s) URL; enums take a value the task mentions;
//     others take the next quoted text ('...', "...", `...`, “...”); failing
//     that, text-like names (text, input, query, content, ...) and required
//     strings take the schema default or else the whole task.
//   - integer and number properties take the next number in the task (outside
//     quotes) that fits the type and bounds; a required one without it takes
//     the default, the minimum, or 1 within the bounds.
//   - required booleans, arrays and objects take the default or
//     false, [], {}; optional ones are left to the tool's own defaults.
//
// The result is always a JSON object; a schema it cannot read gives {}.
func FillInput(task string, schema json.RawMessage) json.RawMessage {
	props := readProperties(schema)
	c := extract(task)
	var b bytes.Buffer
	b.WriteByte('{')
	for _, p := range props {
		v, ok := c.value(p, task)
		if !ok {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.name)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// readProperties returns the schema's properties in document order.
func readProperties(schema json.RawMessage) []property {
	var top struct {
		Properties json.RawMessage `json:"properties"`
		Required   []string        `json:"required"`
	}
	if json.Unmarshal(schema, &top) != nil || len(top.Properties) == 0 {
		return nil
	}
	required := set(top.Required)
	dec := json.NewDecoder(bytes.NewReader(top.Properties))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var props []property
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return props
		}
		name, _ := tok.(string)
		var p property
		if err := dec.Decode(&p); err != nil {
			return props
		}
		p.name, p.required = name, required[name]
		props = append(props, p)
	}
	return props
}

// kind is the property's first non-null type; "" counts as string.
func (p property) kind() string {
	var one string
	if json.Unmarshal(p.Type, &one) == nil {
		return one
	}
	var many []string
	if json.Unmarshal(p.Type, &many) == nil {
		for _, t := range many {
			if t != "null" {
				return t
			}
		}
	}
	return ""
}

// clues are the pieces of a task the filler hands out, each at most once.
type clues struct {
	quoted, paths, urls, numbers []string
	words                        map[string]bool
}

func (c *clues) value(p property, task string) (json.RawMessage, bool) {
	lname := strings.ToLower(p.name)
	switch p.kind() {
	case "", "string":
		if len(p.Enum) > 0 {
			for _, e := range p.Enum {
				if s, ok := e.(string); ok && c.words[strings.ToLower(s)] {
					return marshal(s), true
				}
			}
			return fallback(p, marshal(p.Enum[0]))
		}
		switch {
		case isPathName(lname):
			if s, ok := take(&c.paths); ok {
				return marshal(s), true
			}
		case isURLName(lname):
			if s, ok := take(&c.urls); ok {
				return marshal(s), true
			}
		}
		if s, ok := take(&c.quoted); ok {
			return marshal(s), true
		}
		if textNames[lname] || p.required {
			if len(p.Default) > 0 {
				return p.Default, true
			}
			return marshal(task), true
		}
		return nil, false
	case "integer", "number":
		for len(c.numbers) > 0 {
			s, _ := take(&c.numbers)
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || (p.kind() == "integer" && f != math.Trunc(f)) ||
				(p.Minimum != nil && f < *p.Minimum) || (p.Maximum != nil && f > *p.Maximum) {
				continue
			}
			return json.RawMessage(s), true
		}
		v := 1.0
		if p.Minimum != nil && v < *p.Minimum {
			v = math.Ceil(*p.Minimum)
		}
		if p.Maximum != nil && v > *p.Maximum {
			v = math.Floor(*p.Maximum)
		}
		return fallback(p, marshal(v))
	case "boolean":
		return fallback(p, json.RawMessage("false"))
	case "array":
		return fallback(p, json.RawMessage("[]"))
	case "object":
		return fallback(p, json.RawMessage("{}"))
	}
	return nil, false
}

// fallback is the value of a property the task says nothing about: the
// default or zero for a required one, nothing for an optional one.
func fallback(p property, zero json.RawMessage) (json.RawMessage, bool) {
	switch {
	case !p.required:
		return nil, false
	case len(p.Default) > 0:
		return p.Default, true
	default:
		return zero, true
	}
}

func take(list *[]string) (string, bool) {
	if len(*list) == 0 {
		return "", false
	}
	s := (*list)[0]
	*list = (*list)[1:]
	return s, true
}

func marshal(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

var textNames = set(strings.Fields("text input query content prompt message msg task q body question string s data sentence topic search description"))

func isPathName(n string) bool {
	switch n {
	case "path", "file", "filename", "filepath", "file_path", "dir", "directory", "folder":
		return true
	}
	return strings.HasSuffix(n, "_path") || strings.HasSuffix(n, "_file") || strings.HasSuffix(n, "path") || strings.HasSuffix(n, "file")
}

func isURLName(n string) bool {
	return n == "url" || n == "uri" || n == "link" || n == "href" || strings.HasSuffix(n, "_url")
}

// quotePairs maps each opening quote to its closing one.
var quotePairs = map[rune]rune{'"': '"', '\'': '\'', '`': '`', '“': '”', '‘': '’'}

var (
	numberRE   = regexp.MustCompile(`^-?\d+(\.\d+)?$`)
	filenameRE = regexp.MustCompile(`^[\w~.-]*?([\w-]+)\.([A-Za-z0-9]{1,8})$`)
)

// extract finds quoted texts, then paths, URLs and numbers in what is left.
// A quote opens only at the start or after a space or bracket and closes only
// before the end, a space or punctuation, so apostrophes ("don't") are not
// quotes.
func extract(task string) *clues {
	c := &clues{words: map[string]bool{}}
	var rest strings.Builder
	for i := 0; i < len(task); {
		r, size := utf8.DecodeRuneInString(task[i:])
		closeQ, isQuote := quotePairs[r]
		if isQuote && opensAt(task, i) {
			if j := closingAt(task, i+size, closeQ); j > i+size {
				c.quoted = append(c.quoted, task[i+size:j])
				rest.WriteByte(' ')
				_, csize := utf8.DecodeRuneInString(task[j:])
				i = j + csize
				continue
			}
		}
		rest.WriteString(task[i : i+size])
		i += size
	}
	for _, f := range strings.Fields(rest.String()) {
		tok := strings.TrimRight(strings.TrimLeft(f, `,;:([{<"'`), `,;:)]}>"'.?!`)
		if tok == "" {
			continue
		}
		c.words[strings.ToLower(tok)] = true
		switch {
		case strings.HasPrefix(tok, "http://") || strings.HasPrefix(tok, "https://"):
			c.urls = append(c.urls, tok)
		case numberRE.MatchString(tok):
			c.numbers = append(c.numbers, tok)
		case looksLikePath(tok):
			c.paths = append(c.paths, tok)
		}
	}
	return c
}

func looksLikePath(tok string) bool {
	if strings.ContainsRune(tok, '/') {
		return true
	}
	m := filenameRE.FindStringSubmatch(tok)
	if m == nil || !strings.ContainsFunc(m[2], unicode.IsLetter) {
		return false
	}
	return len(m[1]) > 1 || len(m[2]) > 1 // not "e.g" or "i.e"
}

func opensAt(s string, i int) bool {
	if i == 0 {
		return true
	}
	prev, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsSpace(prev) || strings.ContainsRune("([{:=,", prev)
}

// closingAt returns the index of the closing quote for a quote opened before
// from, or -1.
func closingAt(s string, from int, closeQ rune) int {
	for j := from; j < len(s); {
		r, size := utf8.DecodeRuneInString(s[j:])
		if r == closeQ {
			if j+size == len(s) {
				return j
			}
			next, _ := utf8.DecodeRuneInString(s[j+size:])
			if unicode.IsSpace(next) || strings.ContainsRune(".,;:!?)]}", next) {
				return j
			}
		}
		j += size
	}
	return -1
}
