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
	buf  strings.Builder
}

// New returns a Tokenizer.
func New() *Tokenizer {
	return &Tokenizer{fold: cases.Fold()}
}

// Each calls fn with every word of s, in order, case-folded.
func (t *Tokenizer) Each(s string, fn func(word string)) {
	inWord := false
	var prevDigit bool
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isWordStart(r) || (inWord && unicode.Is(unicode.M, r)):
			t.buf.WriteRune(r)
			inWord = true
			prevDigit = unicode.IsDigit(r)
		case inWord && isApostrophe(r) && nextIsWordStart(s[i+size:]):
			// Normalized so that "don’t" and "don't" are one term.
			t.buf.WriteByte('\'')
			prevDigit = false
		case inWord && prevDigit && (r == '.' || r == ',') && nextIsDigit(s[i+size:]):
			t.buf.WriteRune(r)
			prevDigit = false
		default:
			if inWord {
				t.flush(fn)
				inWord = false
			}
		}
		i += size
	}
	if inWord {
		t.flush(fn)
	}
}

// Tokens returns the words of s, in order, case-folded.
func (t *Tokenizer) Tokens(s string) []string {
	var out []string
	t.Each(s, func(w string) { out = append(out, w) })
	return out
}

func (t *Tokenizer) flush(fn func(string)) {
	w := t.buf.String()
	t.buf.Reset()
	// Most words are already folded; skip the transformer's allocation then.
	if needsFold(w) {
		// Full case folding maps "Straße" and "STRASSE" to one term. The
		// lowercasing after it makes the result a fixed point: x/text's
		// Fold swaps the two Cherokee cases instead of settling on one, so
		// without it a folded word would fold again to something else.
		w = strings.ToLower(t.fold.String(w))
	}
	fn(w)
}

// needsFold reports whether w has a rune that case folding could change.
// ASCII lowercase letters, digits and punctuation never change.
func needsFold(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			return true
		}
	}
	return false
}

func isWordStart(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
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
	return len(s) > 0 && unicode.IsDigit(r)
}
