package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/skillsdev/skills/sdk"
)

func TestCount(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		top       int
		stopwords bool
		want      result
	}{
		{"empty", "", 10, false, result{Top: []wordCount{}}},
		{"SKILL.md example", "The cat sat. The cat slept!\nA dog barked.", 3, false, result{
			Words: 9, Lines: 2, Characters: 41,
			Top: []wordCount{{"cat", 2}, {"the", 2}, {"a", 1}},
		}},
		{"SKILL.md example without stopwords", "The cat sat. The cat slept!\nA dog barked.", 2, true, result{
			Words: 9, Lines: 2, Characters: 41,
			Top: []wordCount{{"cat", 2}, {"barked", 1}},
		}},
		{"top 0 lists none", "a b c", 0, false, result{Words: 3, Lines: 1, Characters: 5, Top: []wordCount{}}},
		{"top larger than vocabulary", "b a b", 100, false, result{Words: 3, Lines: 1, Characters: 5, Top: []wordCount{{"b", 2}, {"a", 1}}}},
		{"case folded", "Go GO go gO", 10, false, result{Words: 4, Lines: 1, Characters: 11, Top: []wordCount{{"go", 4}}}},
		{"characters are runes", "héllo wörld", 10, false, result{Words: 2, Lines: 1, Characters: 11, Top: []wordCount{{"héllo", 1}, {"wörld", 1}}}},
		{"only stopwords", "the and of", 5, true, result{Words: 3, Lines: 1, Characters: 10, Top: []wordCount{}}},
		{"contraction stopword dropped", "Don't panic, don't.", 5, true, result{Words: 3, Lines: 1, Characters: 19, Top: []wordCount{{"panic", 1}}}},
		{"trailing newline", "one\ntwo\n", 10, false, result{Words: 2, Lines: 2, Characters: 8, Top: []wordCount{{"one", 1}, {"two", 1}}}},
		{"crlf", "one\r\ntwo", 10, false, result{Words: 2, Lines: 2, Characters: 8, Top: []wordCount{{"one", 1}, {"two", 1}}}},
		{"blank lines count", "\n\n", 10, false, result{Words: 0, Lines: 2, Characters: 2, Top: []wordCount{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := count(tt.text, tt.top, tt.stopwords)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("count(%q, %d, %v) = %+v, want %+v", tt.text, tt.top, tt.stopwords, got, tt.want)
			}
		})
	}
}

func TestCountLines(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"a", 1},
		{"a\n", 1},
		{"a\nb", 2},
		{"\n", 1},
		{"a\rb", 1},
		{"a\r\nb\r\n", 2},
	}
	for _, tt := range tests {
		if got := countLines(tt.text); got != tt.want {
			t.Errorf("countLines(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

func TestTopWordsOrder(t *testing.T) {
	freq := map[string]int{"pear": 2, "apple": 2, "fig": 5, "kiwi": 1, "the": 9}
	tests := []struct {
		n         int
		stopwords bool
		want      []wordCount
	}{
		{10, false, []wordCount{{"the", 9}, {"fig", 5}, {"apple", 2}, {"pear", 2}, {"kiwi", 1}}},
		{3, true, []wordCount{{"fig", 5}, {"apple", 2}, {"pear", 2}}},
		{0, false, []wordCount{}},
	}
	for _, tt := range tests {
		if got := topWords(freq, tt.n, tt.stopwords); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("topWords(%d, %v) = %v, want %v", tt.n, tt.stopwords, got, tt.want)
		}
	}
}

func TestHandle(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    string // JSON of the result, when wantErr is ""
		wantErr string
	}{
		{name: "defaults", input: `{"text":"a a b"}`,
			want: `{"words":3,"lines":1,"characters":5,"top":[{"word":"a","count":2},{"word":"b","count":1}]}`},
		{name: "explicit top 0", input: `{"text":"a","top":0}`,
			want: `{"words":1,"lines":1,"characters":1,"top":[]}`},
		{name: "stopwords", input: `{"text":"the end","stopwords":true}`,
			want: `{"words":2,"lines":1,"characters":7,"top":[{"word":"end","count":1}]}`},
		{name: "missing text", input: `{"top":3}`, wantErr: "text is required"},
		{name: "top too large", input: `{"text":"a","top":101}`, wantErr: "top must be between 0 and 100, got 101"},
		{name: "negative top", input: `{"text":"a","top":-1}`, wantErr: "got -1"},
		{name: "unknown field", input: `{"text":"a","topp":1}`, wantErr: `unknown field "topp"`},
		{name: "wrong type", input: `{"text":5}`, wantErr: "text: want a string"},
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
			got, _ := json.Marshal(out)
			if string(got) != tt.want {
				t.Errorf("handle = %s, want %s", got, tt.want)
			}
		})
	}
}

func BenchmarkCount(b *testing.B) {
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. Don't stop: 3.14 is π!\n", 1500) // ~100 KB
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		count(text, 10, true)
	}
}
