// Command wordcount is the wordcount skill: it counts the words, lines and
// characters of a text and lists its most frequent words. It builds as a
// wasm reactor module (see SKILL.md).
package main

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/skillsdev/skills/sdk"
	"github.com/skillsdev/skills/sdk/wire"
	"github.com/skillsdev/skills/skills/internal/skillkit"
	"github.com/skillsdev/skills/skills/internal/words"
)

// Input limits, as in the ## Input schema of SKILL.md.
const (
	defaultTop = 10
	maxTop     = 100
)

func main() { sdk.Serve(handle) }

// input is the skill's input; pointers tell an absent field from a zero one.
type input struct {
	Text      *string `json:"text"`
	Top       *int    `json:"top"`
	Stopwords bool    `json:"stopwords"`
}

// result is the skill's output.
type result struct {
	Words      int         `json:"words"`
	Lines      int         `json:"lines"`
	Characters int         `json:"characters"`
	Top        []wordCount `json:"top"`
}

type wordCount struct {
	Word  string `json:"word"`
	Count int    `json:"count"`
}

func handle(_ sdk.Context, raw json.RawMessage) (any, error) {
	var in input
	if err := skillkit.Decode(raw, &in); err != nil {
		return nil, err
	}
	if in.Text == nil {
		return nil, sdk.Errorf(wire.CodeInvalidInput, "input: text is required")
	}
	top := defaultTop
	if in.Top != nil {
		top = *in.Top
	}
	if top < 0 || top > maxTop {
		return nil, sdk.Errorf(wire.CodeInvalidInput, "input: top must be between 0 and %d, got %d", maxTop, top)
	}
	return count(*in.Text, top, in.Stopwords), nil
}

// count computes the statistics of text and its top most frequent words,
// leaving out stopwords from the list (never from the word count) when
// dropStopwords is set.
func count(text string, top int, dropStopwords bool) result {
	freq := make(map[string]int)
	n := 0
	words.New().Each(text, func(w string) {
		n++
		freq[w]++
	})
	return result{
		Words:      n,
		Lines:      countLines(text),
		Characters: utf8.RuneCountInString(text),
		Top:        topWords(freq, top, dropStopwords),
	}
}

// countLines counts lines the way an editor shows them: a text without a
// final newline still has a last line, and "\r\n" is one line break. A lone
// "\r" is not a line break (classic Mac OS text is rare enough to ignore).
func countLines(text string) int {
	if text == "" {
		return 0
	}
	n := strings.Count(text, "\n")
	if !strings.HasSuffix(text, "\n") {
		n++
	}
	return n
}

// topWords returns up to n words by count, highest first, ties in word
// order so that the output is deterministic. It never returns nil, so the
// JSON has [] rather than null.
func topWords(freq map[string]int, n int, dropStopwords bool) []wordCount {
	all := make([]wordCount, 0, len(freq))
	for w, c := range freq {
		if dropStopwords && words.IsStopword(w) {
			continue
		}
		all = append(all, wordCount{Word: w, Count: c})
	}
	slices.SortFunc(all, func(a, b wordCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Word, b.Word)
	})
	return all[:min(n, len(all))]
}
