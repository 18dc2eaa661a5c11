package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/skillsdev/skills/sdk"
	"github.com/skillsdev/skills/skills/internal/words"
)

func TestSplitSentences(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"whitespace", " \n\t ", nil},
		{"no terminator", "just words", []string{"just words"}},
		{"three kinds", "One. Two! Three? Four", []string{"One.", "Two!", "Three?", "Four"}},
		{"newline after period", "One.\nTwo.", []string{"One.", "Two."}},
		{"whitespace collapsed", "One  two\nthree.   Four\t five.", []string{"One two three.", "Four five."}},
		{"decimal", "Pi is 3.14 today. Yes.", []string{"Pi is 3.14 today.", "Yes."}},
		{"number at end", "It costs 3.5. Then more.", []string{"It costs 3.5.", "Then more."}},
		{"domain", "See example.com for more. Ok.", []string{"See example.com for more.", "Ok."}},
		{"e.g. and i.e.", "Fruit, e.g. Apples, are good. So i.e. This stays.", []string{"Fruit, e.g. Apples, are good.", "So i.e. This stays."}},
		{"parenthesized e.g.", "Use a tool (e.g. A hammer) here. Done.", []string{"Use a tool (e.g. A hammer) here.", "Done."}},
		{"titles", "Dr. Smith met Mrs. Jones and Prof. Lee. They talked.", []string{"Dr. Smith met Mrs. Jones and Prof. Lee.", "They talked."}},
		{"initials", "J. R. R. Tolkien wrote it. It sold.", []string{"J. R. R. Tolkien wrote it.", "It sold."}},
		{"before number", "See Fig. 3 and No. 5 here. Next.", []string{"See Fig. 3 and No. 5 here.", "Next."}},
		{"no as a word", "I said no. Then I left.", []string{"I said no.", "Then I left."}},
		{"etc then capital", "Apples, pears, etc. Then dessert.", []string{"Apples, pears, etc.", "Then dessert."}},
		{"etc then lowercase", "Apples, pears, etc. are fruit.", []string{"Apples, pears, etc. are fruit."}},
		{"p.m. both ways", "We met at 5 p.m. today. At 6 p.m. The bell rang.", []string{"We met at 5 p.m. today.", "At 6 p.m.", "The bell rang."}},
		{"U.S. at end", "He moved to the U.S. It was big.", []string{"He moved to the U.S.", "It was big."}},
		{"list numbers", "Steps:\n1. Mix it.\n2. Bake it.", []string{"Steps: 1. Mix it.", "2. Bake it."}},
		{"number mid-line ends", "The answer is 42. Right.", []string{"The answer is 42.", "Right."}},
		{"ellipsis then lowercase", "Wait... what is that? A bird.", []string{"Wait... what is that?", "A bird."}},
		{"ellipsis then capital", "He paused… Then he left.", []string{"He paused…", "Then he left."}},
		{"interrobang", "Really?! Yes.", []string{"Really?!", "Yes."}},
		{"closing quote", `He said "Stop." She did.`, []string{`He said "Stop."`, "She did."}},
		{"quoted question mid-sentence", `"Really?" she asked. Yes.`, []string{`"Really?" she asked.`, "Yes."}},
		{"closing paren", "It works (mostly.) Good.", []string{"It works (mostly.)", "Good."}},
		{"paragraph break", "A heading\n\nSome text here.", []string{"A heading", "Some text here."}},
		{"paragraph break with spaces and crlf", "Title\r\n \r\nBody.", []string{"Title", "Body."}},
		{"single newline joins", "line one\nline two.", []string{"line one line two."}},
		{"cjk", "今日は晴れ。明日は雨！本当？", []string{"今日は晴れ。", "明日は雨！", "本当？"}},
		{"terminator only", "...", []string{"..."}},
		{"trailing period in abbreviation at end", "Call Dr.", []string{"Call Dr."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitSentences(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("splitSentences(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzSplitSentences checks that splitting loses and invents nothing: the
// sentences hold exactly the words of the text, in order, and none is empty
// or padded.
func FuzzSplitSentences(f *testing.F) {
	for _, s := range []string{"", "One. Two!", "Dr. Who?", "a.\n\n.b", "3.14...", "“Hi!” he said… ok。", "1. x\n2. y", "\xff. \xfe!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got []string
		for _, sent := range splitSentences(s) {
			if sent == "" || sent != strings.TrimSpace(sent) {
				t.Fatalf("bad sentence %q from %q", sent, s)
			}
			got = append(got, strings.Fields(sent)...)
		}
		// Fields of the text and of the sentences agree, except that a CJK
		// terminator may split a field in two.
		if want := strings.Fields(s); strings.Join(got, "") != strings.Join(want, "") {
			t.Fatalf("words changed:\n got %q\nwant %q", got, want)
		}
	})
}

func TestScoreSentences(t *testing.T) {
	freq := map[string]int{"cat": 4, "dog": 2}
	tests := []struct {
		sentence string
		want     float64
	}{
		{"The cat sat.", 4.0 / 3},     // cat=4 over 3 words
		{"Cat, cat!", 4},              // (4+4)/2
		{"A dog and a cat.", 6.0 / 5}, // (2+4)/5
		{"Nothing here.", 0},
		{"...", 0}, // no words
	}
	sentences := make([]string, len(tests))
	for i, tt := range tests {
		sentences[i] = tt.sentence
	}
	got := scoreSentences(sentences, freq)
	for i, tt := range tests {
		if got[i] != tt.want {
			t.Errorf("score(%q) = %v, want %v", tt.sentence, got[i], tt.want)
		}
	}
}

func TestPick(t *testing.T) {
	tests := []struct {
		scores []float64
		n      int
		want   []int
	}{
		{[]float64{1, 3, 2}, 2, []int{1, 2}},
		{[]float64{1, 3, 2}, 1, []int{1}},
		{[]float64{1, 3, 2}, 5, []int{0, 1, 2}},
		{[]float64{2, 2, 2, 1}, 2, []int{0, 1}}, // ties prefer earlier sentences
		{[]float64{0, 5, 0, 5}, 3, []int{0, 1, 3}},
		{nil, 3, []int{}},
	}
	for _, tt := range tests {
		if got := pick(tt.scores, tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("pick(%v, %d) = %v, want %v", tt.scores, tt.n, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	text := "Cats are small. The weather was fine. Cats chase mice and cats sleep. Dogs bark."
	freq := map[string]int{"cats": 3, "mice": 1, "dogs": 1, "bark": 1, "weather": 1}
	tests := []struct {
		n    int
		want result
	}{
		{1, result{Summary: "Cats chase mice and cats sleep.", Sentences: []picked{{Index: 2, Text: "Cats chase mice and cats sleep.", Score: 1.1667}}}},
		// Sentences 0 and 3 tie at 1: the earlier one wins.
		{2, result{Summary: "Cats are small. Cats chase mice and cats sleep.", Sentences: []picked{
			{Index: 0, Text: "Cats are small.", Score: 1},
			{Index: 2, Text: "Cats chase mice and cats sleep.", Score: 1.1667},
		}}},
		{3, result{Summary: "Cats are small. Cats chase mice and cats sleep. Dogs bark.", Sentences: []picked{
			{Index: 0, Text: "Cats are small.", Score: 1},
			{Index: 2, Text: "Cats chase mice and cats sleep.", Score: 1.1667},
			{Index: 3, Text: "Dogs bark.", Score: 1},
		}}},
	}
	for _, tt := range tests {
		if got := summarize(splitSentences(text), freq, tt.n); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("summarize(n=%d) =\n %+v\nwant\n %+v", tt.n, got, tt.want)
		}
	}
}

// TestSkillExample checks the example of SKILL.md, with the frequencies
// wordcount computes for it (the non-stopword terms of the text).
func TestSkillExample(t *testing.T) {
	text := "Cats are small. The weather was fine. Cats chase mice and cats sleep. Dogs bark."
	freq := map[string]int{}
	for _, w := range words.New().Tokens(text) {
		if !words.IsStopword(w) {
			freq[w]++
		}
	}
	got, _ := json.Marshal(summarize(splitSentences(text), freq, 2))
	want := `{"summary":"Cats are small. Cats chase mice and cats sleep.","sentences":[` +
		`{"index":0,"text":"Cats are small.","score":1.3333},{"index":2,"text":"Cats chase mice and cats sleep.","score":1.5}]}`
	if string(got) != want {
		t.Errorf("summarize = %s\nwant %s", got, want)
	}
}

func TestParseFrequencies(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    map[string]int
		wantErr bool
	}{
		{"wordcount output", `{"words":5,"lines":1,"characters":20,"top":[{"word":"cat","count":3},{"word":"dog","count":1}]}`,
			map[string]int{"cat": 3, "dog": 1}, false},
		{"empty top", `{"words":0,"lines":0,"characters":0,"top":[]}`, map[string]int{}, false},
		{"not an object", `[1]`, nil, true},
		{"wrong type", `{"top":[{"word":1}]}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFrequencies(json.RawMessage(tt.out))
			if tt.wantErr {
				var e *sdk.Error
				if !errors.As(err, &e) || e.Code != "internal" {
					t.Fatalf("err = %v, want an internal *sdk.Error", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseFrequencies = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// TestHandleWithoutCalls covers the paths that end before wordcount is
// called: bad input, and a text with no sentences.
func TestHandleWithoutCalls(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    string
		wantErr string
	}{
		{name: "empty text", input: `{"text":""}`, want: `{"summary":"","sentences":[]}`},
		{name: "blank text", input: `{"text":"  \n\n "}`, want: `{"summary":"","sentences":[]}`},
		{name: "missing text", input: `{}`, wantErr: "text is required"},
		{name: "zero sentences", input: `{"text":"a","sentences":0}`, wantErr: "sentences must be between 1 and 50, got 0"},
		{name: "too many sentences", input: `{"text":"a","sentences":51}`, wantErr: "got 51"},
		{name: "unknown field", input: `{"text":"a","n":1}`, wantErr: `unknown field "n"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := handle(nil, json.RawMessage(tt.input))
			if tt.wantErr != "" {
				if !errors.Is(err, sdk.ErrInvalidInput) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("handle error = %v, want invalid_input containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("handle: %v", err)
			}
			if got, _ := json.Marshal(out); string(got) != tt.want {
				t.Errorf("handle = %s, want %s", got, tt.want)
			}
		})
	}
}

func BenchmarkSplitAndScore(b *testing.B) {
	text := strings.Repeat("Dr. Smith measured 3.14 units, e.g. in the lab. The cats slept! Did the dogs bark? ", 1000) // ~85 KB
	freq := map[string]int{"cats": 1000, "dogs": 1000, "smith": 1000, "lab": 1000}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		summarize(splitSentences(text), freq, 3)
	}
}
