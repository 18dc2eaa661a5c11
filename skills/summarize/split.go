package main

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// splitSentences splits text into sentences, each with its whitespace
// collapsed to single spaces. A sentence ends at '.', '!', '?' or '…' (and
// any closing quotes or brackets after them) followed by whitespace or the
// end of the text, at a CJK full stop, and at a blank line (so headings and
// list items without a final period stay apart). A period does not end a
// sentence after a known abbreviation ("e.g.", "Dr."), an initial ("J. R.
// Smith"), a list number at the start of a line ("1. First") or inside a
// number ("3.14"), as the rules in isBoundary describe.
func splitSentences(text string) []string {
	var out []string
	start := 0
	emit := func(end int) {
		if s := strings.Join(strings.Fields(text[start:end]), " "); s != "" {
			out = append(out, s)
		}
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == '\n':
			if next, ok := paragraphBreak(text, i+size); ok {
				emit(i)
				start, i = next, next
				continue
			}
		case isCJKTerminator(r):
			end := skipClosers(text, i+size)
			emit(end)
			start, i = end, end
			continue
		case isTerminator(r):
			runEnd := i + size
			for runEnd < len(text) {
				r2, s2 := utf8.DecodeRuneInString(text[runEnd:])
				if !isTerminator(r2) {
					break
				}
				runEnd += s2
			}
			end := skipClosers(text, runEnd)
			if end < len(text) {
				if r2, _ := utf8.DecodeRuneInString(text[end:]); !unicode.IsSpace(r2) {
					// "3.14", "example.com", "?!x": not the end of anything.
					i = end
					continue
				}
			}
			if isBoundary(text, i, runEnd, end) {
				emit(end)
				start = end
			}
			i = end
			continue
		}
		i += size
	}
	emit(len(text))
	return out
}

// paragraphBreak reports whether the line starting at i is blank, and if so
// where the next non-blank text starts.
func paragraphBreak(text string, i int) (int, bool) {
	j := i
	for j < len(text) && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r') {
		j++
	}
	if j < len(text) && text[j] != '\n' {
		return 0, false
	}
	for j < len(text) && isASCIISpace(text[j]) {
		j++
	}
	return j, true
}

// isBoundary decides whether the terminator run text[i:runEnd], followed by
// closers up to end and then whitespace or the end of the text, ends a
// sentence.
func isBoundary(text string, i, runEnd, end int) bool {
	next, hasNext := nextRune(text, end)
	if !hasNext {
		return true
	}
	run := text[i:runEnd]
	switch {
	case run == ".":
		return periodEnds(text, i, next)
	case strings.Trim(run, ".…") == "":
		// An ellipsis trails off mid-sentence when lowercase text follows:
		// "Wait... what is that?"
		return !unicode.IsLower(next)
	default:
		// `"Really?" she asked.`: a quoted question inside a sentence.
		if end > runEnd && unicode.IsLower(next) {
			return false
		}
		return true
	}
}

// periodEnds decides whether the single '.' at text[i] ends a sentence,
// from the word just before it and the first letter after it.
func periodEnds(text string, i int, next rune) bool {
	wordStart := i
	for wordStart > 0 {
		r, size := utf8.DecodeLastRuneInString(text[:wordStart])
		if unicode.IsSpace(r) {
			break
		}
		wordStart -= size
	}
	word := strings.TrimRight(strings.TrimLeft(text[wordStart:i], `"'([{“‘«`), `"')]}”’»`)
	if word == "" {
		return true
	}
	lower := strings.ToLower(word)
	switch {
	case isAllDigits(word) && lineStartsAt(text, wordStart):
		return false // "1. First item"
	case neverEnds[lower]:
		return false // "Dr. Smith", "e.g. apples"
	case beforeNumber[lower] && unicode.IsDigit(next):
		return false // "Fig. 3", "No. 5"
	case isInitial(word):
		return false // "J. R. R. Tolkien"
	case sometimesEnds[lower] || isDottedInitialism(word):
		// "etc.", "Inc.", "U.S.", "p.m." end a sentence only when a capital
		// follows: "at 5 p.m. The next day" but "5 p.m. today".
		return unicode.IsUpper(next)
	}
	return true
}

// Abbreviations, lowercase and without their final period.
var (
	// neverEnds are titles and Latin abbreviations that are followed by
	// more of the same sentence.
	neverEnds = setOf("mr", "mrs", "ms", "mx", "dr", "prof", "sr", "jr", "st", "mt", "rev", "hon",
		"gen", "col", "capt", "lt", "sgt", "cmdr", "gov", "sen", "rep", "pres", "supt",
		"e.g", "i.e", "cf", "vs", "viz", "approx", "ca", "resp", "esp", "dept", "univ", "assn")
	// beforeNumber abbreviate a noun that a number follows.
	beforeNumber = setOf("no", "nos", "fig", "figs", "vol", "vols", "p", "pp", "ch", "sec",
		"art", "eq", "ref", "op", "ed")
	// sometimesEnds often stand at the end of a sentence.
	sometimesEnds = setOf("etc", "inc", "ltd", "co", "corp", "llc", "al", "jan", "feb", "mar",
		"apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")
)

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// isInitial reports whether word is one capital letter, as in "J. Smith".
func isInitial(word string) bool {
	r, size := utf8.DecodeRuneInString(word)
	return size == len(word) && unicode.IsUpper(r)
}

// isDottedInitialism reports whether word is letters separated by single
// periods, as in "U.S" or "Ph.D" (the final period is not part of word).
func isDottedInitialism(word string) bool {
	if !strings.Contains(word, ".") {
		return false
	}
	for part := range strings.SplitSeq(word, ".") {
		if part == "" || utf8.RuneCountInString(part) > 2 {
			return false
		}
		for _, r := range part {
			if !unicode.IsLetter(r) {
				return false
			}
		}
	}
	return true
}

func isAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// lineStartsAt reports whether only spaces and tabs precede i on its line.
func lineStartsAt(text string, i int) bool {
	for i > 0 {
		c := text[i-1]
		if c == '\n' {
			return true
		}
		if c != ' ' && c != '\t' {
			return false
		}
		i--
	}
	return true
}

// nextRune returns the first rune after the whitespace at text[i:].
func nextRune(text string, i int) (rune, bool) {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsSpace(r) {
			return r, true
		}
		i += size
	}
	return 0, false
}

// skipClosers returns the index after any closing quotes and brackets at i.
func skipClosers(text string, i int) int {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !strings.ContainsRune(`"')]}”’»」』`, r) {
			break
		}
		i += size
	}
	return i
}

func isTerminator(r rune) bool {
	return r == '.' || r == '!' || r == '?' || r == '…'
}

func isCJKTerminator(r rune) bool {
	return r == '。' || r == '！' || r == '？'
}

func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}
