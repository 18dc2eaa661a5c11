// Package words is the tokenizer shared by the wordcount and summarize
// skills. They must split text into the same terms, or the term frequencies
// wordcount reports would not match the terms summarize scores.
package words

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
)

// Tokenizer splits text into case-folded words. A word is a run of Unicode
// letters and digits (combining marks continue a word, so decomposed accents
// and Indic vowel signs stay inside it). An apostrophe (' or U+2019) between
// two word characters stays in the word ("don't", "o’clock" -> "o'clock"), and
// a '.' or ',' between two digits does too ("3.14", "1,000"). Everything else
// separates words: hyphens, slashes, underscores, punctuation, symbols.
//
// A Tokenizer is not safe for concurrent use (its case folder keeps state);
// make one per goroutine. The zero value is not usable: call New.
type Tokenizer struct {
	fold cases.Caser
}

// New returns a Tokenizer.
func New() *Tokenizer {
	return &Tokenizer{fold: cases.Fold()}
}

// Each calls fn with every word of s, in order, case-folded. Words are
// substrings of s where no folding or apostrophe change is needed, so most
// words cost no allocation.
func (t *Tokenizer) Each(s string, fn func(word string)) {
	start := -1        // byte offset of the current word, -1 between words
	curly := false     // the current word holds a U+2019 apostrophe
	prevDigit := false // the last rune of the current word is a digit
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		switch {
		case isWordStart(r) || (start >= 0 && r >= utf8.RuneSelf && unicode.Is(unicode.M, r)):
			if start < 0 {
				start, curly = i, false
			}
			prevDigit = isDigit(r)
		case start >= 0 && isApostrophe(r) && nextIsWordStart(s[i+size:]):
			curly = curly || r != '\''
			prevDigit = false
		case start >= 0 && prevDigit && (r == '.' || r == ',') && nextIsDigit(s[i+size:]):
			prevDigit = false
		default:
			if start >= 0 {
				fn(t.normalize(s[start:i], curly))
				start = -1
			}
		}
		i += size
	}
	if start >= 0 {
		fn(t.normalize(s[start:], curly))
	}
}

// Tokens returns the words of s, in order, case-folded.
func (t *Tokenizer) Tokens(s string) []string {
	var out []string
	t.Each(s, func(w string) { out = append(out, w) })
	return out
}

// normalize turns the raw word w into its term: one apostrophe character,
// case-folded.
func (t *Tokenizer) normalize(w string, curly bool) string {
	if curly {
		// So that "don’t" and "don't" are one term.
		w = strings.ReplaceAll(w, "\u2019", "'")
	}
	switch foldKind(w) {
	case foldASCII:
		return strings.ToLower(w)
	case foldUnicode:
		// Full case folding maps "Straße" and "STRASSE" to one term. The
		// lowercasing after it makes the result a fixed point: x/text's
		// Fold swaps the two Cherokee cases instead of settling on one, so
		// without it a folded word would fold again to something else.
		return strings.ToLower(t.fold.String(w))
	}
	return w
}

const (
	foldNone    = iota // lowercase ASCII, digits, apostrophes: already folded
	foldASCII          // ASCII with capitals: lowercasing is folding
	foldUnicode        // non-ASCII: needs Unicode case folding
)

func foldKind(w string) int {
	kind := foldNone
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf {
			return foldUnicode
		}
		if 'A' <= c && c <= 'Z' {
			kind = foldASCII
		}
	}
	return kind
}

func isWordStart(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isDigit(r rune) bool {
	if r < utf8.RuneSelf {
		return '0' <= r && r <= '9'
	}
	return unicode.IsDigit(r)
}

func isApostrophe(r rune) bool {
	return r == '\'' || r == '\u2019'
}

func nextIsWordStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return len(s) > 0 && isWordStart(r)
}

func nextIsDigit(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return len(s) > 0 && isDigit(r)
}
