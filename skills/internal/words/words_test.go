package words

import (
	"slices"
	"testing"
	"unicode/utf8"
)

func TestTokens(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"spaces only", " \t\n ", nil},
		{"simple", "The quick brown fox", []string{"the", "quick", "brown", "fox"}},
		{"punctuation separates", "Hello, world! (Again?)", []string{"hello", "world", "again"}},
		{"apostrophe inside", "Don't stop; it's fine", []string{"don't", "stop", "it's", "fine"}},
		{"typographic apostrophe normalized", "o’clock DON’T", []string{"o'clock", "don't"}},
		{"leading and trailing apostrophes dropped", "'tis the dogs' 'quote'", []string{"tis", "the", "dogs", "quote"}},
		{"double apostrophe splits", "a''b", []string{"a", "b"}},
		{"hyphen splits", "well-known state-of-the-art", []string{"well", "known", "state", "of", "the", "art"}},
		{"underscore and slash split", "snake_case and/or", []string{"snake", "case", "and", "or"}},
		{"digits are words", "in 2024 we had 3 cats", []string{"in", "2024", "we", "had", "3", "cats"}},
		{"decimal and thousands", "pi is 3.14, not 1,000.5.", []string{"pi", "is", "3.14", "not", "1,000.5"}},
		{"dot after digit at end", "version 2.", []string{"version", "2"}},
		{"letters and dots are not numbers", "e.g. U.S.", []string{"e", "g", "u", "s"}},
		{"unicode letters", "Ça va? Ελληνικά Русский 日本語", []string{"ça", "va", "ελληνικά", "русский", "日本語"}},
		{"full case folding", "STRASSE Straße ΣΊΣΥΦΟΣ", []string{"strasse", "strasse", "σίσυφοσ"}},
		{"combining marks stay in word", "cafe\u0301 नमस्ते", []string{"cafe\u0301", "नमस्ते"}},
		{"mark without word separates", "a \u0301b", []string{"a", "b"}},
		{"emoji and symbols separate", "go🚀go $5 €", []string{"go", "go", "5"}},
		{"invalid utf-8 separates", "ab\xffcd", []string{"ab", "cd"}},
	}
	tok := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tok.Tokens(tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Tokens(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsStopword(t *testing.T) {
	tests := []struct {
		w    string
		want bool
	}{
		{"the", true},
		{"don't", true},
		{"you're", true},
		{"fox", false},
		{"The", false}, // callers pass folded words
		{"", false},
	}
	for _, tt := range tests {
		if got := IsStopword(tt.w); got != tt.want {
			t.Errorf("IsStopword(%q) = %v, want %v", tt.w, got, tt.want)
		}
	}
}

// FuzzTokens checks the invariants on arbitrary input: every word is
// non-empty valid UTF-8, never starts or ends with an apostrophe, and
// tokenizing a word again gives that word back.
func FuzzTokens(f *testing.F) {
	for _, s := range []string{"", "Don't stop", "3.14,15", "o’’clock", "a\u0301\u0301", "\xff'a'", "ΣΑΣ.'1,'"} {
		f.Add(s)
	}
	tok := New()
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range tok.Tokens(s) {
			if w == "" || !utf8.ValidString(w) {
				t.Fatalf("bad word %q from %q", w, s)
			}
			if w[0] == '\'' || w[len(w)-1] == '\'' {
				t.Fatalf("word %q from %q has an outer apostrophe", w, s)
			}
			if again := tok.Tokens(w); len(again) != 1 || again[0] != w {
				t.Fatalf("Tokens(%q) = %q, want itself", w, again)
			}
		}
	})
}
