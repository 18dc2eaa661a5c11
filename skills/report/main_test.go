package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"html"
	"strings"
	"testing"

	"github.com/skillsdev/skills/sdk"
	"github.com/yuin/goldmark"
)

func TestParseDocument(t *testing.T) {
	tests := []struct {
		name, path, content string
		want                document
	}{
		{"plain text keeps everything", "notes/todo.txt", "# Not a heading here\n    indented line.\n",
			document{Title: "todo.txt", Prose: "# Not a heading here\n    indented line.\n"}},
		{"no extension is plain text", "README", "Hello.", document{Title: "README", Prose: "Hello."}},
		{"markdown title and prose", "doc.md", "# The Title\n\nFirst para\nwraps here.\n\n## Part\n\nSecond *para*.\n",
			document{Title: "The Title", Prose: "First para wraps here.\n\nSecond para."}},
		{"first heading of any level", "a.md", "Intro text.\n\n### Deep title\n\n# Later\n",
			document{Title: "Deep title", Prose: "Intro text."}},
		{"setext heading", "a.markdown", "Big Title\n=========\n\nBody.\n", document{Title: "Big Title", Prose: "Body."}},
		{"no heading uses file name", `C:\docs\plan.MD`, "Just text.", document{Title: "plan.MD", Prose: "Just text."}},
		{"heading inline markup", "a.md", "# The `go` *tool* [docs](http://x.y)\n", document{Title: "The go tool docs"}},
		{"code and html dropped", "a.md", "Text one.\n\n```go\nfunc main() {}\n```\n\n    indented code\n\n<div>\nhtml block\n</div>\n\nText <b>two</b>.\n",
			document{Title: "a.md", Prose: "Text one.\n\nText two."}},
		{"list items are blocks", "a.md", "- first item\n- second item\n\n1. third\n",
			document{Title: "a.md", Prose: "first item\n\nsecond item\n\nthird"}},
		{"blockquote and autolink", "a.md", "> Quoted <https://go.dev> text.\n", document{Title: "a.md", Prose: "Quoted https://go.dev text."}},
		{"empty markdown", "a.md", "", document{Title: "a.md"}},
		{"empty heading skipped", "a.md", "#\n\n## Real\n", document{Title: "Real"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseDocument(tt.path, tt.content); got != tt.want {
				t.Errorf("parseDocument(%q) =\n %q\nwant\n %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	base := report{
		Title: "Notes", Path: "notes.md", GeneratedAt: "2025-01-02 03:04:05 UTC",
		Words: 12, Lines: 3, Characters: 80, Size: 82, Read: 82,
		Summary: "Cats sleep. Dogs bark.",
		Top:     []wordCount{{"cats", 2}, {"dogs", 1}},
	}
	tests := []struct {
		name   string
		modify func(*report)
		want   string
	}{
		{"full", func(*report) {}, `# Notes

Report on ` + "`notes.md`" + `, generated at 2025-01-02 03:04:05 UTC.

## Statistics

| Measure | Value |
| --- | ---: |
| Words | 12 |
| Lines | 3 |
| Characters | 80 |
| Bytes | 82 |

## Summary

Cats sleep. Dogs bark.

## Top words

| Word | Count |
| --- | ---: |
| cats | 2 |
| dogs | 1 |
`},
		{"empty file", func(r *report) {
			r.Words, r.Lines, r.Characters, r.Size, r.Read, r.Summary, r.Top = 0, 0, 0, 0, 0, "", nil
		}, `# Notes

Report on ` + "`notes.md`" + `, generated at 2025-01-02 03:04:05 UTC.

## Statistics

| Measure | Value |
| --- | ---: |
| Words | 0 |
| Lines | 0 |
| Characters | 0 |
| Bytes | 0 |

## Summary

_The file has no sentences to summarize._

## Top words

_The file has no words besides stopwords._
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base
			tt.modify(&r)
			if got := render(r); got != tt.want {
				t.Errorf("render =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestRenderEscapesAndTruncation(t *testing.T) {
	r := report{
		Title: "*Bold* | title", Path: "we`ird.md", GeneratedAt: "now",
		Size: 2000, Read: 1000, Summary: "- a <b>x</b> & 1|2",
		Top: []wordCount{{"it's", 1}},
	}
	got := render(r)
	for _, want := range []string{
		`# \*Bold\* \| title`,
		"Report on ``we`ird.md``",
		"> Only the first 1000 of 2000 bytes could be read",
		`\- a \<b\>x\</b\> \& 1\|2`,
		"| it's | 1 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("render output lacks %q:\n%s", want, got)
		}
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain words", "plain words"},
		{"a*b_c", `a\*b\_c`},
		{"line\nbreak  here", "line break here"},
		{"- item", `\- item`},
		{"a - b", "a - b"},
		{"1. first", `1\. first`},
		{"12) x", `12\) x`},
		{"version 1.2", "version 1.2"},
		{"# not heading", `\# not heading`},
		{"back\\slash", `back\\slash`},
		{"&amp;", `\&amp;`},
		{"", ""},
	}
	for _, tt := range tests {
		if got := escape(tt.in); got != tt.want {
			t.Errorf("escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCodeSpan(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a.md", "`a.md`"},
		{"a`b", "``a`b``"},
		{"a``b`c", "```a``b`c```"},
		{"`start", "`` `start ``"},
		{"two\nlines", "`two lines`"},
		{" padded ", "`  padded  `"},
	}
	for _, tt := range tests {
		if got := codeSpan(tt.in); got != tt.want {
			t.Errorf("codeSpan(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// renderInline renders one line of Markdown and returns its text, the way
// a reader of the report sees it.
func renderInline(t *testing.T, md string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := goldmark.Convert([]byte(md), &buf); err != nil {
		t.Fatalf("convert %q: %v", md, err)
	}
	out := strings.TrimSuffix(buf.String(), "\n")
	out = strings.TrimPrefix(out, "<p>")
	out = strings.TrimSuffix(out, "</p>")
	return html.UnescapeString(out)
}

// FuzzEscape checks that escaped text renders as exactly the text.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"a*b*", "1. x", "- x", "<b>", "&amp;", "`x`", "[a](b)", "x\\", "*  *", "===", "!["} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !validPlain(s) {
			return
		}
		want := strings.Join(strings.Fields(s), " ")
		if want == "" {
			return
		}
		if got := renderInline(t, escape(s)); got != want {
			t.Fatalf("escape(%q) = %q renders as %q, want %q", s, escape(s), got, want)
		}
	})
}

// FuzzCodeSpan checks that a code span shows its text verbatim.
func FuzzCodeSpan(f *testing.F) {
	for _, s := range []string{"a.md", "a`b", "``", "` x `", "x`"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Spans of only whitespace and backticks are left out: renderers
		// disagree on whether to strip their padding.
		if !validPlain(s) || strings.ContainsAny(s, "\r\n") || strings.TrimSpace(strings.ReplaceAll(s, "`", "")) == "" {
			return
		}
		got := renderInline(t, codeSpan(s))
		if want := "<code>" + s + "</code>"; html.UnescapeString(got) != html.UnescapeString(want) {
			t.Fatalf("codeSpan(%q) = %q renders as %q", s, codeSpan(s), got)
		}
	})
}

// validPlain limits fuzz inputs to valid UTF-8 without NUL or control
// characters, which Markdown renderers replace by design.
func validPlain(s string) bool {
	for _, r := range s {
		if r == 0 || r == '\uFFFD' || (r < 0x20 && r != ' ' && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			return false
		}
	}
	return true
}

// FuzzParseDocument checks that any file gives a title and never panics.
func FuzzParseDocument(f *testing.F) {
	for _, s := range []string{"", "# T\n\nx", "```\ncode", "<div>", "- a\n  - b\n", "Setext\n---"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d := parseDocument("f.md", s); d.Title == "" {
			t.Fatalf("no title for %q", s)
		}
	})
}

func TestParseFile(t *testing.T) {
	tests := []struct {
		name     string
		out      string
		want     file
		wantCode string
	}{
		{"text", `{"path":"a.md","content":"hi","size":2}`, file{Content: "hi", Size: 2}, ""},
		{"truncated", `{"path":"a.md","content":"hi","size":10,"truncated":true}`, file{Content: "hi", Size: 10}, ""},
		{"no size", `{"content":"hello"}`, file{Content: "hello", Size: 5}, ""},
		{"binary", `{"path":"a.bin","content":"AAE=","encoding":"base64","size":2}`, file{}, "invalid_input"},
		{"bad base64", `{"content":"@@","encoding":"base64"}`, file{}, "internal"},
		{"unknown encoding", `{"content":"x","encoding":"rot13"}`, file{}, "internal"},
		{"not json", `"text"`, file{}, "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFile("a.md", json.RawMessage(tt.out))
			if tt.wantCode != "" {
				var e *sdk.Error
				if !errors.As(err, &e) || string(e.Code) != tt.wantCode || !strings.Contains(e.Message, `"a.md"`) {
					t.Fatalf("err = %v, want code %s naming the path", err, tt.wantCode)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseFile = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseNow(t *testing.T) {
	tests := []struct {
		out, want string
		wantErr   bool
	}{
		{`{"time":"2025-01-02T03:04:05.123456789Z","unix":1735787045}`, "2025-01-02 03:04:05 UTC", false},
		{`{"time":"2025-01-02T05:04:05+02:00"}`, "2025-01-02 03:04:05 UTC", false},
		{`{"time":"yesterday"}`, "", true},
		{`{}`, "", true},
		{`[]`, "", true},
	}
	for _, tt := range tests {
		got, err := parseNow(json.RawMessage(tt.out))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseNow(%s) = %q, %v; want %q (error %v)", tt.out, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestHandleBadInput covers the input checks, which end before any call to
// the host.
func TestHandleBadInput(t *testing.T) {
	tests := []struct{ input, wantErr string }{
		{`{}`, "path is required"},
		{`{"path":""}`, "path is required"},
		{`{"path":"a.md","sentences":0}`, "sentences must be between 1 and 50, got 0"},
		{`{"path":"a.md","sentences":99}`, "got 99"},
		{`{"path":"a.md","extra":1}`, `unknown field "extra"`},
	}
	for _, tt := range tests {
		_, err := handle(nil, json.RawMessage(tt.input))
		if !errors.Is(err, sdk.ErrInvalidInput) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("handle(%s) error = %v, want invalid_input containing %q", tt.input, err, tt.wantErr)
		}
	}
}
