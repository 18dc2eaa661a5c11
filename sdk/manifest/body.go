package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/google/jsonschema-go/jsonschema"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// section is one structured "## Name" section of the body: its heading and
// the top-level blocks up to the next heading of level 1 or 2.
type section struct {
	key    string // lowercased title
	title  string // as written
	line   int
	blocks []ast.Node
}

// body parses the markdown after the frontmatter and reads the structured
// sections. Offsets inside body are shifted by bodyStart so that lines count
// from the top of the file, frontmatter included.
func (p *parser) body(bodyStart int) error {
	src := p.data[bodyStart:]
	var doc ast.Node
	err := guard(func() error {
		doc = goldmark.DefaultParser().Parse(text.NewReader(src))
		return nil
	})
	if err != nil {
		return p.errf(p.lineAt(bodyStart), "markdown body: %v", err)
	}
	b := &bodyParser{parser: p, src: src, base: bodyStart}

	byKey := map[string]*section{}
	var sections []*section // in file order
	var cur *section
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if h, ok := n.(*ast.Heading); ok && h.Level <= 2 {
			cur = nil
			if h.Level < 2 {
				continue
			}
			title := strings.TrimSpace(string(h.Lines().Value(src)))
			key := strings.ToLower(title)
			switch key {
			case "requires", "input", "output":
			default:
				continue
			}
			line := b.line(h, 0)
			if prev, dup := byKey[key]; dup {
				return p.errf(line, "duplicate ## %s section (first at line %d)", title, prev.line)
			}
			cur = &section{key: key, title: title, line: line}
			byKey[key] = cur
			sections = append(sections, cur)
			continue
		}
		if cur != nil {
			cur.blocks = append(cur.blocks, n)
		}
	}

	for _, s := range sections {
		var err error
		switch s.key {
		case "requires":
			err = b.requires(s)
		case "input":
			p.m.InputSchema, p.m.inputResolved, err = b.schema(s, true)
		case "output":
			p.m.OutputSchema, p.m.outputResolved, err = b.schema(s, false)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

type bodyParser struct {
	*parser
	src  []byte // the body
	base int    // offset of the body in the file
}

// line returns the file line of a block node, falling back to fallback
// when goldmark recorded no position.
func (b *bodyParser) line(n ast.Node, fallback int) int {
	if pos := n.Pos(); pos >= 0 {
		return b.lineAt(b.base + pos)
	}
	if n.Type() == ast.TypeBlock && n.Lines().Len() > 0 {
		return b.lineAt(b.base + n.Lines().At(0).Start)
	}
	return fallback
}

// requires reads the bullets of ## Requires. Paragraphs between lists are
// prose for people and are skipped; every bullet must be "name constraint".
func (b *bodyParser) requires(s *section) error {
	byName := map[string]int{}
	for _, n := range s.blocks {
		list, ok := n.(*ast.List)
		if !ok {
			continue
		}
		if list.IsOrdered() {
			return b.errf(b.line(list, s.line), "## %s must be a bullet list (- name constraint), not a numbered list", s.title)
		}
		for item := list.FirstChild(); item != nil; item = item.NextSibling() {
			line := b.line(item, s.line)
			first := item.FirstChild()
			if first == nil {
				return b.errf(line, "## %s: empty bullet; write - name constraint, e.g. - summarize ^1.0", s.title)
			}
			line = b.line(first, line)
			if first.NextSibling() != nil {
				return b.errf(line, "## %s: a bullet holds one line, name constraint; found nested content", s.title)
			}
			if k := first.Kind(); k != ast.KindTextBlock && k != ast.KindParagraph {
				return b.errf(line, "## %s: a bullet holds one line, name constraint; found %s", s.title, k)
			}
			r, err := b.requirement(first, line)
			if err != nil {
				return err
			}
			if prev, dup := byName[r.Name]; dup {
				return b.errf(line, "## %s: %s is listed twice (first at line %d); merge the constraints into one bullet", s.title, r.Name, prev)
			}
			byName[r.Name] = line
			b.m.Requires = append(b.m.Requires, r)
		}
	}
	return nil
}

// requirement parses one bullet. Backticks are dropped first so that
// "- `summarize` `^1.0`" reads like "- summarize ^1.0": neither a name nor
// a constraint can contain one.
func (b *bodyParser) requirement(block ast.Node, line int) (Requirement, error) {
	raw := strings.ReplaceAll(string(block.Lines().Value(b.src)), "`", "")
	fields := strings.Fields(raw)
	if len(fields) == 0 {
		return Requirement{}, b.errf(line, "## Requires: empty bullet; write - name constraint, e.g. - summarize ^1.0")
	}
	name := fields[0]
	if err := CheckName(name); err != nil {
		return Requirement{}, b.errf(line, "## Requires: %v", err)
	}
	if name == b.m.Name {
		return Requirement{}, b.errf(line, "## Requires: %s requires itself", name)
	}
	cons := strings.Join(fields[1:], " ")
	if cons == "" {
		cons = "*"
	}
	c, err := semver.NewConstraint(cons)
	if err != nil {
		return Requirement{}, b.errf(line, "## Requires: %s: bad version constraint %q: %v (e.g. ^1.2, ~1.2.3, >=1.0 <2.0)", name, cons, err)
	}
	return Requirement{Name: name, Constraint: c, Raw: cons, Line: line}, nil
}

// schema reads the single ```json block of ## Input or ## Output, checks it
// is a JSON object that compiles as a JSON Schema, and returns it compacted
// along with the compiled form.
func (b *bodyParser) schema(s *section, input bool) (json.RawMessage, *jsonschema.Resolved, error) {
	var blocks []*ast.FencedCodeBlock
	for _, n := range s.blocks {
		if fc, ok := n.(*ast.FencedCodeBlock); ok && strings.EqualFold(string(fc.Language(b.src)), "json") {
			blocks = append(blocks, fc)
		}
	}
	switch len(blocks) {
	case 0:
		return nil, nil, b.errf(s.line, "## %s has no ```json block: put the JSON Schema in a fenced code block tagged json", s.title)
	case 1:
	default:
		return nil, nil, b.errf(b.line(blocks[1], s.line), "## %s has more than one ```json block (first at line %d): keep exactly one, the schema", s.title, b.line(blocks[0], s.line))
	}
	fc := blocks[0]
	fence := b.line(fc, s.line)
	raw := fc.Lines().Value(b.src)
	first := fence + 1 // the first content line
	if fc.Lines().Len() > 0 {
		first = b.lineAt(b.base + fc.Lines().At(0).Start)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil, b.errf(fence, "## %s: the ```json block is empty: put the JSON Schema in it", s.title)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		line := first
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// An error at the very end (unexpected end of input) belongs
			// to the last line of the block, not to the closing fence.
			n := bytes.Count(raw[:min(int(se.Offset), len(raw))], []byte("\n"))
			line += min(n, max(bytes.Count(raw, []byte("\n"))-1, 0))
		}
		return nil, nil, b.errf(line, "## %s: invalid JSON: %v", s.title, err)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, nil, b.errf(first, "## %s: the schema must be a JSON object ({...}), found %s", s.title, jsonKind(v))
	}
	rs, err := compileSchema(raw, input)
	if err != nil {
		return nil, nil, b.errf(first, "## %s: %v", s.title, err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil { // cannot fail: raw is valid JSON
		return nil, nil, b.errf(first, "## %s: %v", s.title, err)
	}
	return json.RawMessage(buf.Bytes()), rs, nil
}

// jsonKind names the JSON type of a decoded value, for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64, json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// crossCheck applies the rules that need both frontmatter and body.
func (p *parser) crossCheck() error {
	if p.m.Runtime != RuntimeInstructions && p.m.InputSchema == nil {
		return p.errf(p.metaLine("runtime"), "a %s skill needs a ## Input section holding a ```json JSON Schema: the host validates every input against it and the model sees it as the tool's schema", p.m.Runtime)
	}
	return nil
}
