package index

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/skillsdev/skills/sdk/manifest"
)

// Error is a problem with an index. Line and Col (1-based, Col counts bytes)
// locate it in the document when the index came from Parse; they are 0 for
// an Index validated in memory. Path is where in the document it is, as JSON
// keys (array elements as "[i]"), e.g. skills, wordcount, versions, 1.2.0,
// artifacts, any, sha256; Error renders it as
// `skill "wordcount" version "1.2.0": artifacts.any.sha256`.
type Error struct {
	Line, Col int
	Path      []string
	Msg       string

	atKey bool // the problem is the last key of Path itself, not its value
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d, col %d: ", e.Line, e.Col)
	}
	if w := describe(e.Path); w != "" {
		b.WriteString(w)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// describe renders a path for people: the skill and version first, then the
// field inside the release.
func describe(path []string) string {
	if len(path) >= 2 && path[0] == "skills" {
		s := fmt.Sprintf("skill %q", path[1])
		rest := path[2:]
		if len(rest) >= 2 && rest[0] == "versions" {
			s += fmt.Sprintf(" version %q", rest[1])
			rest = rest[2:]
		}
		if len(rest) > 0 {
			s += ": " + joinPath(rest)
		}
		return s
	}
	return joinPath(path)
}

func joinPath(path []string) string {
	var b strings.Builder
	for i, seg := range path {
		if i > 0 && !strings.HasPrefix(seg, "[") {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

// Parse decodes and validates an index. It is strict: unknown fields,
// duplicate keys, null where a value is expected, wrong types, trailing data
// and every rule of Validate are errors, each an *Error with its line and
// column. Duplicate keys matter for a signed document: two readers that pick
// different duplicates would see different contents under one signature.
//
// Why not json.Decoder.Decode with DisallowUnknownFields: it reports unknown
// fields without a path or position, loses map keys from type-error paths,
// and silently keeps the last of duplicate keys. Parse walks the token stream
// of the same decoder instead, so it knows where every value starts.
func Parse(data []byte) (*Index, error) {
	if len(data) > MaxSize {
		return nil, &Error{Msg: fmt.Sprintf("index is %d bytes, over the %d-byte limit", len(data), MaxSize)}
	}
	p := newParser(data)
	x := &Index{}
	err := p.index(x)
	if err == nil {
		off := p.start()
		if _, terr := p.dec.Token(); terr != io.EOF {
			err = p.errAt(off, nil, "unexpected data after the index object")
		}
	}
	if err != nil {
		// A document of another schema fails on its first new field; say
		// what is really wrong.
		var probe struct {
			Schema json.RawMessage `json:"schema"`
		}
		if json.Unmarshal(data, &probe) == nil && probe.Schema != nil && string(probe.Schema) != strconv.Itoa(SchemaVersion) {
			return nil, &Error{Path: []string{"schema"}, Msg: fmt.Sprintf("unsupported index schema %s (this client reads schema %d)", probe.Schema, SchemaVersion)}
		}
		return nil, err
	}
	if err := x.Validate(); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Line == 0 {
			if off, ok := newParser(data).find(e.Path, e.atKey); ok {
				e.Line, e.Col = lineCol(data, off)
			}
		}
		return nil, err
	}
	return x, nil
}

type parser struct {
	data []byte
	dec  *json.Decoder
}

func newParser(data []byte) *parser {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return &parser{data: data, dec: dec}
}

// start returns the offset where the next token begins: the decoder's offset
// is just past the previous token, before any whitespace and separators.
func (p *parser) start() int64 {
	off := p.dec.InputOffset()
	for off < int64(len(p.data)) {
		switch p.data[off] {
		case ' ', '\t', '\n', '\r', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

func (p *parser) errAt(off int64, path []string, format string, args ...any) *Error {
	line, col := lineCol(p.data, off)
	return &Error{Line: line, Col: col, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// next reads one token, turning decoder errors into positioned ones.
func (p *parser) next(path []string) (json.Token, int64, error) {
	off := p.start()
	t, err := p.dec.Token()
	if err == nil {
		return t, off, nil
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		at := se.Offset - 1
		if at < 0 {
			at = 0
		}
		return nil, at, p.errAt(at, path, "invalid JSON: %s", strings.TrimPrefix(se.Error(), "json: "))
	case err == io.EOF && off == 0:
		return nil, off, p.errAt(off, path, "empty document")
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return nil, int64(len(p.data)), p.errAt(int64(len(p.data)), path, "invalid JSON: unexpected end of input")
	default:
		return nil, off, p.errAt(off, path, "invalid JSON: %v", err)
	}
}

func kind(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		if v == '[' {
			return "an array"
		}
		return "'" + v.String() + "'"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", t)
}

// sub returns path+seg without sharing path's backing array.
func sub(path []string, seg string) []string {
	return append(path[:len(path):len(path)], seg)
}

// fields maps the known keys of an object to decoders of their values; each
// decoder gets the path of its value.
type fields map[string]func(path []string) error

// object decodes an object whose keys must be among fs and include required.
func (p *parser) object(path []string, fs fields, required ...string) error {
	t, off, err := p.next(path)
	if err != nil {
		return err
	}
	if t != json.Delim('{') {
		return p.errAt(off, path, "want an object, got %s", kind(t))
	}
	seen := make(map[string]bool, len(fs))
	for p.dec.More() {
		kt, koff, err := p.next(path)
		if err != nil {
			return err
		}
		key, _ := kt.(string)
		if seen[key] {
			return p.errAt(koff, path, "duplicate key %q", key)
		}
		seen[key] = true
		dec, ok := fs[key]
		if !ok {
			known := make([]string, 0, len(fs))
			for k := range fs {
				known = append(known, k)
			}
			sort.Strings(known)
			return p.errAt(koff, path, "unknown field %q (known fields: %s)", key, strings.Join(known, ", "))
		}
		if err := dec(sub(path, key)); err != nil {
			return err
		}
	}
	if _, _, err := p.next(path); err != nil { // '}'
		return err
	}
	for _, k := range required {
		if !seen[k] {
			return p.errAt(off, path, "missing field %q", k)
		}
	}
	return nil
}

// mapOf decodes an object with arbitrary keys, calling fn for each value.
func (p *parser) mapOf(path []string, fn func(key string, path []string) error) error {
	t, off, err := p.next(path)
	if err != nil {
		return err
	}
	if t != json.Delim('{') {
		return p.errAt(off, path, "want an object, got %s", kind(t))
	}
	seen := make(map[string]bool)
	for p.dec.More() {
		kt, koff, err := p.next(path)
		if err != nil {
			return err
		}
		key, _ := kt.(string)
		if seen[key] {
			return p.errAt(koff, path, "duplicate key %q", key)
		}
		seen[key] = true
		if err := fn(key, sub(path, key)); err != nil {
			return err
		}
	}
	_, _, err = p.next(path) // '}'
	return err
}

// array decodes an array, calling fn for each element.
func (p *parser) array(path []string, fn func(path []string) error) error {
	t, off, err := p.next(path)
	if err != nil {
		return err
	}
	if t != json.Delim('[') {
		return p.errAt(off, path, "want an array, got %s", kind(t))
	}
	for i := 0; p.dec.More(); i++ {
		if err := fn(sub(path, "["+strconv.Itoa(i)+"]")); err != nil {
			return err
		}
	}
	_, _, err = p.next(path) // ']'
	return err
}

func (p *parser) str(path []string, dst *string) error {
	t, off, err := p.next(path)
	if err != nil {
		return err
	}
	s, ok := t.(string)
	if !ok {
		return p.errAt(off, path, "want a string, got %s", kind(t))
	}
	*dst = s
	return nil
}

func (p *parser) int(path []string, dst *int64) error {
	t, off, err := p.next(path)
	if err != nil {
		return err
	}
	n, ok := t.(json.Number)
	if !ok {
		return p.errAt(off, path, "want an integer, got %s", kind(t))
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return p.errAt(off, path, "want an integer, got %s", n)
	}
	*dst = v
	return nil
}

func (p *parser) time(path []string, dst *time.Time) error {
	off := p.start()
	var s string
	if err := p.str(path, &s); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return p.errAt(off, path, "want an RFC 3339 time like 2026-01-02T15:04:05Z, got %q", s)
	}
	*dst = t
	return nil
}

func (p *parser) index(x *Index) error {
	return p.object(nil, fields{
		"schema": func(path []string) error {
			off := p.start()
			var n int64
			if err := p.int(path, &n); err != nil {
				return err
			}
			if n != SchemaVersion {
				return p.errAt(off, path, "unsupported index schema %d (this client reads schema %d)", n, SchemaVersion)
			}
			x.Schema = int(n)
			return nil
		},
		"version":   func(path []string) error { return p.int(path, &x.Version) },
		"expires":   func(path []string) error { return p.time(path, &x.Expires) },
		"generated": func(path []string) error { return p.time(path, &x.Generated) },
		"skills": func(path []string) error {
			x.Skills = make(map[string]*Skill)
			return p.mapOf(path, func(name string, path []string) error {
				s := &Skill{}
				x.Skills[name] = s
				return p.skill(path, s)
			})
		},
	}, "schema", "version", "expires", "generated", "skills")
}

func (p *parser) skill(path []string, s *Skill) error {
	return p.object(path, fields{
		"description": func(path []string) error { return p.str(path, &s.Description) },
		"versions": func(path []string) error {
			s.Versions = make(map[string]*Release)
			return p.mapOf(path, func(v string, path []string) error {
				r := &Release{}
				s.Versions[v] = r
				return p.release(path, r)
			})
		},
	}, "description", "versions")
}

func (p *parser) release(path []string, r *Release) error {
	return p.object(path, fields{
		"runtime": func(path []string) error {
			var s string
			err := p.str(path, &s)
			r.Runtime = manifest.Runtime(s)
			return err
		},
		"description": func(path []string) error { return p.str(path, &r.Description) },
		"requirements": func(path []string) error {
			return p.array(path, func(path []string) error {
				var q Requirement
				err := p.object(path, fields{
					"name":       func(path []string) error { return p.str(path, &q.Name) },
					"constraint": func(path []string) error { return p.str(path, &q.Constraint) },
				}, "name", "constraint")
				r.Requirements = append(r.Requirements, q)
				return err
			})
		},
		"artifacts": func(path []string) error {
			r.Artifacts = make(map[string]Artifact)
			return p.mapOf(path, func(key string, path []string) error {
				var a Artifact
				err := p.object(path, fields{
					"url":    func(path []string) error { return p.str(path, &a.URL) },
					"sha256": func(path []string) error { return p.str(path, &a.SHA256) },
					"size":   func(path []string) error { return p.int(path, &a.Size) },
				}, "url", "sha256", "size")
				r.Artifacts[key] = a
				return err
			})
		},
		"published": func(path []string) error { return p.time(path, &r.Published) },
		"deprecated": func(path []string) error {
			r.Deprecated = &Deprecation{}
			return p.object(path, fields{
				"message":     func(path []string) error { return p.str(path, &r.Deprecated.Message) },
				"replacement": func(path []string) error { return p.str(path, &r.Deprecated.Replacement) },
				"replacement_constraint": func(path []string) error {
					return p.str(path, &r.Deprecated.ReplacementConstraint)
				},
				"sunset": func(path []string) error { return p.str(path, &r.Deprecated.Sunset) },
				"time":   func(path []string) error { return p.time(path, &r.Deprecated.Time) },
			}, "message")
		},
		"history": func(path []string) error {
			return p.array(path, func(path []string) error {
				var e Event
				err := p.object(path, fields{
					"action": func(path []string) error {
						var s string
						err := p.str(path, &s)
						e.Action = Action(s)
						return err
					},
					"time":   func(path []string) error { return p.time(path, &e.Time) },
					"reason": func(path []string) error { return p.str(path, &e.Reason) },
				}, "action", "time")
				r.History = append(r.History, e)
				return err
			})
		},
		"yanked": func(path []string) error {
			r.Yanked = &Yank{}
			return p.object(path, fields{
				"reason": func(path []string) error { return p.str(path, &r.Yanked.Reason) },
				"time":   func(path []string) error { return p.time(path, &r.Yanked.Time) },
			}, "reason", "time")
		},
	}, "runtime", "artifacts", "published")
}

// find returns the offset where the value at path starts (or its key, when
// atKey), for placing Validate's errors (which know paths, not offsets) in
// the document.
func (p *parser) find(path []string, atKey bool) (int64, bool) {
	off := p.start()
	t, err := p.dec.Token()
	if err != nil {
		return 0, false
	}
	if len(path) == 0 {
		return off, true
	}
	switch t {
	case json.Delim('{'):
		for p.dec.More() {
			koff := p.start()
			kt, err := p.dec.Token()
			if err != nil {
				return 0, false
			}
			if k, _ := kt.(string); k == path[0] {
				if atKey && len(path) == 1 {
					return koff, true
				}
				return p.find(path[1:], atKey)
			}
			if !p.skip() {
				return 0, false
			}
		}
	case json.Delim('['):
		for i := 0; p.dec.More(); i++ {
			if "["+strconv.Itoa(i)+"]" == path[0] {
				return p.find(path[1:], atKey)
			}
			if !p.skip() {
				return 0, false
			}
		}
	}
	return 0, false
}

// skip consumes one value.
func (p *parser) skip() bool {
	depth := 0
	for {
		t, err := p.dec.Token()
		if err != nil {
			return false
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return true
		}
	}
}
