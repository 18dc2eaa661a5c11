// Command summarize is the summarize skill: an extractive summary that picks
// the sentences richest in the text's most frequent terms, which it gets by
// calling the wordcount skill. It builds as a wasm reactor module (see
// SKILL.md).
package main

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"strings"

	"github.com/skillsdev/skills/sdk"
	"github.com/skillsdev/skills/sdk/wire"
	"github.com/skillsdev/skills/skills/internal/skillkit"
	"github.com/skillsdev/skills/skills/internal/words"
)

// Input limits, as in the ## Input schema of SKILL.md.
const (
	defaultSentences = 3
	maxSentences     = 50
	// termCount is how many frequent terms are asked of wordcount: its
	// maximum. Terms below the 100th carry little weight in a score anyway.
	termCount = 100
)

func main() { sdk.Serve(handle) }

// input is the skill's input; pointers tell an absent field from a zero one.
type input struct {
	Text      *string `json:"text"`
	Sentences *int    `json:"sentences"`
}

// result is the skill's output.
type result struct {
	Summary   string   `json:"summary"`
	Sentences []picked `json:"sentences"`
}

// picked is one sentence of the summary.
type picked struct {
	Index int     `json:"index"` // position among all sentences of the text, from 0
	Text  string  `json:"text"`
	Score float64 `json:"score"`
}

func handle(ctx sdk.Context, raw json.RawMessage) (any, error) {
	var in input
	if err := skillkit.Decode(raw, &in); err != nil {
		return nil, err
	}
	if in.Text == nil {
		return nil, sdk.Errorf(wire.CodeInvalidInput, "input: text is required")
	}
	n := defaultSentences
	if in.Sentences != nil {
		n = *in.Sentences
	}
	if n < 1 || n > maxSentences {
		return nil, sdk.Errorf(wire.CodeInvalidInput, "input: sentences must be between 1 and %d, got %d", maxSentences, n)
	}
	sentences := splitSentences(*in.Text)
	if len(sentences) == 0 {
		return result{Sentences: []picked{}}, nil
	}
	freq, err := termFrequencies(ctx, *in.Text)
	if err != nil {
		return nil, err
	}
	return summarize(sentences, freq, n), nil
}

// termFrequencies asks wordcount for the most frequent non-stopword terms of
// text. A failure keeps wordcount's error code (depth_exceeded, timeout, ...).
func termFrequencies(ctx sdk.Context, text string) (map[string]int, error) {
	out, err := ctx.CallSkill("wordcount", map[string]any{"text": text, "top": termCount, "stopwords": true})
	if err != nil {
		return nil, skillkit.Wrap(err, "call wordcount")
	}
	return parseFrequencies(out)
}

// parseFrequencies reads the "top" list of wordcount's output.
func parseFrequencies(out json.RawMessage) (map[string]int, error) {
	var wc struct {
		Top []struct {
			Word  string `json:"word"`
			Count int    `json:"count"`
		} `json:"top"`
	}
	if err := json.Unmarshal(out, &wc); err != nil {
		return nil, sdk.Errorf(wire.CodeInternal, "wordcount returned unexpected output: %v", err)
	}
	freq := make(map[string]int, len(wc.Top))
	for _, t := range wc.Top {
		freq[t.Word] = t.Count
	}
	return freq, nil
}

// summarize scores every sentence and keeps the n best, in text order.
func summarize(sentences []string, freq map[string]int, n int) result {
	scores := scoreSentences(sentences, freq)
	best := pick(scores, n)
	res := result{Sentences: make([]picked, 0, len(best))}
	texts := make([]string, 0, len(best))
	for _, i := range best {
		res.Sentences = append(res.Sentences, picked{Index: i, Text: sentences[i], Score: round4(scores[i])})
		texts = append(texts, sentences[i])
	}
	res.Summary = strings.Join(texts, " ")
	return res
}

// scoreSentences scores each sentence by the summed frequency of its terms
// divided by its number of words, so that a long sentence does not win by
// length alone. Terms wordcount did not list (stopwords, rare words) count
// as 0 but still lengthen the sentence; a sentence without words scores 0.
func scoreSentences(sentences []string, freq map[string]int) []float64 {
	tok := words.New()
	scores := make([]float64, len(sentences))
	for i, s := range sentences {
		sum, n := 0, 0
		tok.Each(s, func(w string) {
			sum += freq[w]
			n++
		})
		if n > 0 {
			scores[i] = float64(sum) / float64(n)
		}
	}
	return scores
}

// pick returns the indexes of the n highest scores in ascending order; equal
// scores prefer the earlier sentence, which in most prose states the topic.
func pick(scores []float64, n int) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	idx = idx[:min(n, len(idx))]
	slices.Sort(idx)
	return idx
}

// round4 rounds to 4 decimal places: enough to compare sentences, short
// enough to read.
func round4(f float64) float64 {
	return math.Round(f*1e4) / 1e4
}
