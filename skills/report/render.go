package main

import (
	"strconv"
	"strings"
)

// report is everything the Markdown report shows.
type report struct {
	Title       string
	Path        string
	GeneratedAt string
	Words       int
	Lines       int
	Characters  int
	// Size is the file's size; Read is how many bytes of it were read, less
	// than Size when the host's read limit cut the file.
	Size, Read int64
	Summary    string
	Top        []wordCount
}

type wordCount struct {
	Word  string `json:"word"`
	Count int    `json:"count"`
}

// render writes the report as Markdown. Text from the file is escaped, so a
// "*" or "|" in it shows as itself instead of changing the layout.
func render(r report) string {
	var b strings.Builder
	b.WriteString("# " + escape(r.Title) + "\n\n")
	b.WriteString("Report on " + codeSpan(r.Path) + ", generated at " + escape(r.GeneratedAt) + ".\n\n")
	if r.Read < r.Size {
		b.WriteString("> Only the first " + strconv.FormatInt(r.Read, 10) + " of " + strconv.FormatInt(r.Size, 10) +
			" bytes could be read: the statistics and the summary cover that part.\n\n")
	}
	b.WriteString("## Statistics\n\n| Measure | Value |\n| --- | ---: |\n")
	b.WriteString("| Words | " + strconv.Itoa(r.Words) + " |\n")
	b.WriteString("| Lines | " + strconv.Itoa(r.Lines) + " |\n")
	b.WriteString("| Characters | " + strconv.Itoa(r.Characters) + " |\n")
	b.WriteString("| Bytes | " + strconv.FormatInt(r.Size, 10) + " |\n\n")
	b.WriteString("## Summary\n\n")
	if r.Summary == "" {
		b.WriteString("_The file has no sentences to summarize._\n\n")
	} else {
		b.WriteString(escape(r.Summary) + "\n\n")
	}
	b.WriteString("## Top words\n\n")
	if len(r.Top) == 0 {
		b.WriteString("_The file has no words besides stopwords._\n")
	} else {
		b.WriteString("| Word | Count |\n| --- | ---: |\n")
		for _, w := range r.Top {
			b.WriteString("| " + escape(w.Word) + " | " + strconv.Itoa(w.Count) + " |\n")
		}
	}
	return b.String()
}

// escape makes s literal inline Markdown text on one line: every ASCII
// punctuation character that can start or end Markdown syntax gets a
// backslash (CommonMark allows one before any ASCII punctuation), a leading
// block marker is defused, and line breaks become spaces.
func escape(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '#', '|', '~', '!', '&':
			b.WriteByte('\\')
		case '-', '+', '=':
			if i == 0 {
				b.WriteByte('\\') // a list item or setext underline otherwise
			}
		case '.', ')':
			if i > 0 && isDigits(s[:i]) {
				b.WriteByte('\\') // "1." would start an ordered list
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// codeSpan returns s as an inline code span, with a fence of backticks
// longer than any run inside s (CommonMark's rule) and padding when s starts
// or ends with a backtick. Line breaks become spaces, as in any code span.
func codeSpan(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || (strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") && strings.Trim(s, " ") != "") {
		s = " " + s + " "
	}
	return fence + s + fence
}
