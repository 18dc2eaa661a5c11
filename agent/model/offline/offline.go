// Package offline is the default model: a deterministic heuristic router
// that needs no network and no API key. It is not a language model. It picks
// the one tool whose name and description best match the task's words
// (TF-IDF over the tool set, with name matches weighted double), fills the
// tool's input from the task by the schema's property names and types,
// calls it once, and then ends the run with a summary of the result.
//
// The same task and tool set always give the same call. Token usage is an
// estimate (4 bytes per token), reported so that token budgets still work.
package offline

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"

	"github.com/skillsdev/skills/agent"
)

// Name is the model's name in events.
const Name = "offline"

// maxSummary bounds how much of a tool result the final reply quotes.
const maxSummary = 2000

// Model is the offline router. The zero value is ready to use.
type Model struct{}

// New returns the offline model.
func New() Model { return Model{} }

// Name returns "offline".
func (Model) Name() string { return Name }

// Complete routes the task to a tool on the first call and summarizes the
// tool's result on the next.
func (Model) Complete(ctx context.Context, req agent.Request) (agent.Response, error) {
	if err := ctx.Err(); err != nil {
		return agent.Response{}, err
	}
	in := estimate(req)
	if last, ok := lastToolResult(req.Messages); ok {
		text := summarize(last)
		return agent.Response{Content: text, Stop: agent.StopEndTurn, Usage: agent.Usage{InputTokens: in, OutputTokens: tokens(text)}}, nil
	}
	task := firstUserMessage(req.Messages)
	tool, ok := Route(task, req.Tools)
	if !ok {
		text := noMatch(task, req.Tools)
		return agent.Response{Content: text, Stop: agent.StopEndTurn, Usage: agent.Usage{InputTokens: in, OutputTokens: tokens(text)}}, nil
	}
	args := FillInput(task, tool.InputSchema)
	content := fmt.Sprintf("Calling %s (best match for the task).", tool.Name)
	return agent.Response{
		Content:   content,
		ToolCalls: []agent.ToolCall{{ID: "offline_1", Name: tool.Name, Arguments: string(args)}},
		Stop:      agent.StopToolUse,
		Usage:     agent.Usage{InputTokens: in, OutputTokens: tokens(content) + tokens(string(args))},
	}, nil
}

func firstUserMessage(msgs []agent.Message) string {
	for _, m := range msgs {
		if m.Role == agent.RoleUser {
			return m.Content
		}
	}
	return ""
}

func lastToolResult(msgs []agent.Message) (agent.Message, bool) {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == agent.RoleTool {
			return msgs[i], true
		}
	}
	return agent.Message{}, false
}

func summarize(m agent.Message) string {
	body := m.Content
	if len(body) > maxSummary {
		cut := maxSummary
		for cut > 0 && body[cut]&0xC0 == 0x80 {
			cut--
		}
		body = body[:cut] + "…"
	}
	if m.IsError {
		return fmt.Sprintf("The tool %s failed: %s", m.Name, body)
	}
	return fmt.Sprintf("Result of %s: %s", m.Name, body)
}

func noMatch(task string, tools []agent.Tool) string {
	if len(tools) == 0 {
		return "The offline model has no tools to route this task to."
	}
	names := make([]string, len(tools))
	for i, t := range tools {
		names[i] = t.Name
	}
	sort.Strings(names)
	return fmt.Sprintf("No tool matches the task %q (the offline model matches words of the task against tool names and descriptions). Tools: %s.", task, strings.Join(names, ", "))
}

func estimate(req agent.Request) int {
	n := len(req.System)
	for _, m := range req.Messages {
		n += len(m.Content)
		for _, c := range m.ToolCalls {
			n += len(c.Name) + len(c.Arguments)
		}
	}
	for _, t := range req.Tools {
		n += len(t.Name) + len(t.Description) + len(t.InputSchema)
	}
	return tokens(strings.Repeat(" ", n))
}

func tokens(s string) int { return (len(s) + 3) / 4 }

// Route picks the tool that best matches task; ok is false when no tool
// shares a word with it. Scores: for each distinct task word, its inverse
// document frequency over the tool set, times 2 when it is a word of the
// tool's name and 1 when it is a word of the description; a task word of 3+
// letters found inside the name with separators removed ("count" in
// "wordcount") counts as a description word. Ties go to the smaller name.
func Route(task string, tools []agent.Tool) (agent.Tool, bool) {
	if len(tools) == 0 {
		return agent.Tool{}, false
	}
	type doc struct {
		name, desc map[string]bool
		compact    string
	}
	docs := make([]doc, len(tools))
	df := map[string]int{}
	for i, t := range tools {
		d := doc{name: set(words(t.Name)), desc: set(words(t.Description)), compact: compactName(t.Name)}
		seen := map[string]bool{}
		for w := range d.name {
			seen[w] = true
		}
		for w := range d.desc {
			seen[w] = true
		}
		for w := range seen {
			df[w]++
		}
		docs[i] = d
	}
	n := float64(len(tools))
	query := set(words(task))
	best, bestScore := -1, 0.0
	for i, d := range docs {
		score := 0.0
		for w := range query {
			idf := math.Log((n+1)/float64(df[w]+1)) + 1
			switch {
			case d.name[w]:
				score += 2 * idf
			case d.desc[w]:
				score += idf
			case len(w) >= 3 && strings.Contains(d.compact, w):
				score += idf
			}
		}
		if score > bestScore || (score == bestScore && score > 0 && tools[i].Name < tools[best].Name) {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return agent.Tool{}, false
	}
	return tools[best], true
}

func compactName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func set(ws []string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// words lowercases s, splits it on anything that is not a letter or digit
// (so "word-count" and "word_count" give "word" and "count"), drops stop
// words and pure numbers, and folds plurals ("files" -> "file").
func words(s string) []string {
	fields := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	out := fields[:0]
	for _, f := range fields {
		if len(f) < 2 || stopwords[f] || isNumber(f) {
			continue
		}
		out = append(out, stem(f))
	}
	return out
}

func stem(w string) string {
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us"):
		return w[:len(w)-1]
	}
	return w
}

func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about above after again all also am an and any are as at be because been
		before being below between both but by can could did do does doing down during each few for from
		further had has have having he her here hers him his how i if in into is it its itself just let me
		more most my no nor not now of off on once only or other our ours out over own please same she
		should so some such than that the their theirs them then there these they this those through to
		too under until up use using very via was we were what when where which while who whom why will
		with would you your yours`) {
		m[w] = true
	}
	return m
}()

var _ agent.Model = Model{}
