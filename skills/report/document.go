package main

import (
	"path"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// document is what the report needs from a file's content.
type document struct {
	Title string // the first heading, or the file name
	Prose string // the text to summarize: paragraphs separated by blank lines
}

// markdownExts are the extensions read as Markdown. Other files are plain
// text: parsing them as Markdown would turn indented paragraphs into code
// blocks and drop them.
var markdownExts = map[string]bool{".md": true, ".markdown": true, ".mdown": true, ".mkd": true, ".mdx": true}

// parseDocument finds the title and the prose of a file. In Markdown, the
// prose is the text of paragraphs and list items, without headings (short
// and keyword-dense, they would crowd out real sentences), code, HTML or
// link targets; each block is its own paragraph, so that a list item without
// a period does not run into the next.
func parseDocument(filePath, content string) document {
	name := path.Base(strings.ReplaceAll(filePath, `\`, "/"))
	if !markdownExts[strings.ToLower(path.Ext(name))] {
		return document{Title: name, Prose: content}
	}
	src := []byte(content)
	doc := goldmark.DefaultParser().Parse(text.NewReader(src))
	d := document{Title: name}
	foundTitle := false
	var blocks []string
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n.Kind() {
		case ast.KindHeading:
			if t := strings.TrimSpace(inlineText(n, src)); t != "" && !foundTitle {
				d.Title, foundTitle = t, true
			}
			return ast.WalkSkipChildren, nil
		case ast.KindParagraph, ast.KindTextBlock:
			if t := strings.TrimSpace(inlineText(n, src)); t != "" {
				blocks = append(blocks, t)
			}
			return ast.WalkSkipChildren, nil
		case ast.KindCodeBlock, ast.KindFencedCodeBlock, ast.KindHTMLBlock:
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	d.Prose = strings.Join(blocks, "\n\n")
	return d
}

// inlineText returns the plain text of a block's inlines: emphasis and links
// reduced to their text, code spans kept, raw HTML dropped, line breaks as
// spaces.
func inlineText(n ast.Node, src []byte) string {
	var b strings.Builder
	var walk func(ast.Node)
	walk = func(n ast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Text:
				b.Write(c.Value(src))
				if c.SoftLineBreak() || c.HardLineBreak() {
					b.WriteByte(' ')
				}
			case *ast.String:
				b.Write(c.Value)
			case *ast.AutoLink:
				b.Write(c.Label(src))
			case *ast.RawHTML:
			default:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}
