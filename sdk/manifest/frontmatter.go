package manifest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Limits of the Agent Skills spec.
const (
	maxNameLen          = 64
	maxDescriptionLen   = 1024
	maxCompatibilityLen = 500
)

// isPlatformKey reports whether key is a metadata key this platform reads.
// Written at the top level it would break the Agent Skills spec, so the
// error for such an unknown top-level key says where it belongs.
func isPlatformKey(key string) bool {
	switch key {
	case "version", "runtime", "entry", "timeout", "memory", "reentrant":
		return true
	}
	return false
}

// frontmatter decodes the YAML between yamlStart and yamlEnd into a node
// tree (so every value keeps its line) and fills the frontmatter fields.
func (p *parser) frontmatter(yamlStart, yamlEnd int) error {
	base := p.lineAt(yamlStart) - 1 // file line = YAML line + base
	p.yamlBase = base
	var doc yaml.Node
	err := guard(func() error { return yaml.Unmarshal(p.data[yamlStart:yamlEnd], &doc) })
	if err != nil {
		line, msg := yamlErrLine(err)
		return p.errf(line+base, "frontmatter: invalid YAML: %s", msg)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return p.errf(1, "frontmatter is empty: name and description are required")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return p.errf(p.nodeLine(root), "frontmatter must be a YAML mapping (key: value lines), found %s", kindName(root))
	}
	p.keyLines = map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key, err := p.key(k, "frontmatter", p.keyLines)
		if err != nil {
			return err
		}
		if err := p.topLevel(key, k, v); err != nil {
			return err
		}
	}
	if _, ok := p.keyLines["name"]; !ok {
		return p.errf(1, "frontmatter has no name (required by the Agent Skills spec)")
	}
	if _, ok := p.keyLines["description"]; !ok {
		return p.errf(1, "frontmatter has no description (required by the Agent Skills spec)")
	}
	return nil
}

// topLevel checks one top-level key and stores its value.
func (p *parser) topLevel(key string, k, v *yaml.Node) error {
	line := p.nodeLine(k)
	switch key {
	case "name":
		s, err := p.scalar(key, v)
		if err != nil {
			return err
		}
		if err := CheckName(s); err != nil {
			return p.errf(p.nodeLine(v), "%v", err)
		}
		p.m.Name = s
	case "description":
		s, err := p.scalar(key, v)
		if err != nil {
			return err
		}
		n := utf8.RuneCountInString(s)
		if strings.TrimSpace(s) == "" {
			return p.errf(p.nodeLine(v), "description is empty: say what the skill does and when to use it")
		}
		if n > maxDescriptionLen {
			return p.errf(p.nodeLine(v), "description is %d characters, over the %d-character limit", n, maxDescriptionLen)
		}
		p.m.Description = s
	case "license":
		s, err := p.scalar(key, v)
		if err != nil {
			return err
		}
		p.m.License = s
	case "compatibility":
		s, err := p.scalar(key, v)
		if err != nil {
			return err
		}
		if n := utf8.RuneCountInString(s); n > maxCompatibilityLen {
			return p.errf(p.nodeLine(v), "compatibility is %d characters, over the %d-character limit", n, maxCompatibilityLen)
		}
		p.m.Compatibility = s
	case "allowed-tools":
		tools, err := p.allowedTools(v)
		if err != nil {
			return err
		}
		p.m.AllowedTools = tools
	case "metadata":
		return p.metadata(v)
	default:
		msg := fmt.Sprintf("unknown top-level key %q: the Agent Skills spec allows only name, description, license, compatibility, allowed-tools and metadata", key)
		if isPlatformKey(key) {
			msg += fmt.Sprintf("; put platform fields under metadata (metadata.%s)", key)
		}
		return p.errf(line, "%s", msg)
	}
	return nil
}

// allowedTools accepts the spec's space-separated string or a YAML list.
func (p *parser) allowedTools(v *yaml.Node) ([]string, error) {
	var tools []string
	switch v.Kind {
	case yaml.SequenceNode:
		for _, item := range v.Content {
			s, err := p.scalar("allowed-tools item", item)
			if err != nil {
				return nil, err
			}
			if s == "" || strings.ContainsFunc(s, isSpace) {
				return nil, p.errf(p.nodeLine(item), "allowed-tools: tool name %q must be one word with no spaces", s)
			}
			tools = append(tools, s)
		}
	default:
		s, err := p.scalar("allowed-tools", v)
		if err != nil {
			return nil, err
		}
		tools = strings.Fields(s)
	}
	// A tool listed twice is harmless; keep the list as a set.
	out := tools[:0]
	seen := map[string]bool{}
	for _, t := range tools {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// metadata reads the string -> string map. Any YAML scalar is accepted as
// the text it was written as (reentrant: true reads as "true", version: 1.0
// as "1.0"), which is what the spec's reference tooling does with str();
// lists, mappings and nulls are refused because no string can stand for them.
func (p *parser) metadata(v *yaml.Node) error {
	if v.Kind != yaml.MappingNode {
		return p.errf(p.nodeLine(v), "metadata must be a mapping of string keys to string values, found %s", kindName(v))
	}
	p.metaLines = map[string]int{}
	p.m.Metadata = make(map[string]string, len(v.Content)/2)
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		key, err := p.key(k, "metadata", p.metaLines)
		if err != nil {
			return err
		}
		s, err := p.scalar("metadata."+key, val)
		if err != nil {
			return err
		}
		p.m.Metadata[key] = s
		p.metaLines[key] = p.nodeLine(val)
	}
	return nil
}

// key reads a mapping key and refuses duplicates, which yaml.v3 allows in a
// node tree but which would make the meaning of the file depend on order.
func (p *parser) key(k *yaml.Node, where string, seen map[string]int) (string, error) {
	if k.Kind != yaml.ScalarNode || k.Tag == "!!null" {
		return "", p.errf(p.nodeLine(k), "%s: keys must be plain strings, found %s", where, kindName(k))
	}
	if first, dup := seen[k.Value]; dup {
		return "", p.errf(p.nodeLine(k), "%s: duplicate key %q (first at line %d)", where, k.Value, first)
	}
	seen[k.Value] = p.nodeLine(k)
	return k.Value, nil
}

// scalar returns the text of a scalar value.
func (p *parser) scalar(what string, v *yaml.Node) (string, error) {
	switch {
	case v.Kind == yaml.AliasNode:
		return "", p.errf(p.nodeLine(v), "%s: YAML aliases (*%s) are not supported; write the value out", what, v.Value)
	case v.Kind != yaml.ScalarNode:
		return "", p.errf(p.nodeLine(v), "%s must be a string, found %s", what, kindName(v))
	case v.Tag == "!!null":
		return "", p.errf(p.nodeLine(v), "%s has no value", what)
	}
	return v.Value, nil
}

// nodeLine maps a YAML node's line to a line of the whole file.
func (p *parser) nodeLine(n *yaml.Node) int {
	if n.Line <= 0 {
		return 1
	}
	return n.Line + p.yamlBase
}

// keyLine is the file line of a top-level key, or 1 (the frontmatter) when
// the key is absent.
func (p *parser) keyLine(key string) int {
	if l, ok := p.keyLines[key]; ok {
		return l
	}
	return 1
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("the scalar %q", n.Value)
	}
	return "nothing"
}

// yamlErrLine splits yaml.v3's "yaml: line N: msg" into a 1-based YAML
// line and the message. yaml.v3 adds 1 to the 0-based mark of scanner
// errors but not of parser errors, and leaves the line out when the mark
// is 0, so parser errors (a fixed set of messages) are shifted here: without
// that, "description: [unclosed" would be blamed on the line above it.
func yamlErrLine(err error) (int, string) {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, "yaml: ")
	if !ok {
		return 1, msg
	}
	n := 0
	if r, ok := strings.CutPrefix(rest, "line "); ok {
		if i := strings.IndexByte(r, ':'); i > 0 {
			if v, err := strconv.Atoi(r[:i]); err == nil {
				n, rest = v, strings.TrimSpace(r[i+1:])
			}
		}
	}
	if isYAMLParserError(rest) {
		n++
	}
	return max(n, 1), rest
}

// isYAMLParserError reports whether msg is one of the errors yaml.v3's
// parser (rather than its scanner) raises.
func isYAMLParserError(msg string) bool {
	switch msg {
	case "did not find expected node content",
		"did not find expected key",
		"did not find expected '-' indicator",
		"did not find expected ',' or ']'",
		"did not find expected ',' or '}'",
		"did not find expected <document start>",
		"did not find expected <stream-start>",
		"found duplicate %YAML directive",
		"found duplicate %TAG directive",
		"found incompatible YAML document",
		"found undefined tag handle":
		return true
	}
	return false
}

// CheckName reports whether s is a valid skill name under the Agent Skills
// spec: 1-64 characters of lowercase letters, digits and single hyphens, not
// starting or ending with a hyphen (^[a-z0-9]+(-[a-z0-9]+)*$). Requirements
// in ## Requires are checked the same way.
func CheckName(s string) error {
	if s == "" {
		return fmt.Errorf("skill name is empty")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("skill name %q may use only lowercase letters a-z, digits and hyphens (found %q)", s, r)
		}
	}
	switch {
	case len(s) > maxNameLen:
		return fmt.Errorf("skill name %q is %d characters, over the %d-character limit", s, len(s), maxNameLen)
	case s[0] == '-' || s[len(s)-1] == '-':
		return fmt.Errorf("skill name %q must not start or end with a hyphen", s)
	case strings.Contains(s, "--"):
		return fmt.Errorf("skill name %q must not contain consecutive hyphens", s)
	}
	return nil
}
