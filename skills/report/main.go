// Command report is the report skill: it reads a file through the host's
// read_file tool and writes a Markdown report on it (title, statistics,
// summary, top words) by calling the summarize and wordcount skills. It
// builds as a go-plugin binary (see SKILL.md).
package main

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/skillsdev/skills/sdk"
	"github.com/skillsdev/skills/sdk/wire"
	"github.com/skillsdev/skills/skills/internal/skillkit"
)

// Input limits, as in the ## Input schema of SKILL.md.
const (
	defaultSentences = 3
	maxSentences     = 50
	topWords         = 10
)

func main() { sdk.Serve(handle) }

// input is the skill's input; pointers tell an absent field from a zero one.
type input struct {
	Path      *string `json:"path"`
	Sentences *int    `json:"sentences"`
}

// result is the skill's output.
type result struct {
	Markdown string `json:"markdown"`
	Path     string `json:"path"`
	Words    int    `json:"words"`
}

func handle(ctx sdk.Context, raw json.RawMessage) (any, error) {
	var in input
	if err := skillkit.Decode(raw, &in); err != nil {
		return nil, err
	}
	if in.Path == nil || *in.Path == "" {
		return nil, sdk.Errorf(wire.CodeInvalidInput, "input: path is required")
	}
	n := defaultSentences
	if in.Sentences != nil {
		n = *in.Sentences
	}
	if n < 1 || n > maxSentences {
		return nil, sdk.Errorf(wire.CodeInvalidInput, "input: sentences must be between 1 and %d, got %d", maxSentences, n)
	}
	p := *in.Path

	f, err := readFile(ctx, p)
	if err != nil {
		return nil, err
	}
	generatedAt, err := now(ctx)
	if err != nil {
		return nil, err
	}
	doc := parseDocument(p, f.Content)
	stats, err := wordStats(ctx, f.Content)
	if err != nil {
		return nil, err
	}
	summary, err := summarize(ctx, doc.Prose, n)
	if err != nil {
		return nil, err
	}
	md := render(report{
		Title:       doc.Title,
		Path:        p,
		GeneratedAt: generatedAt,
		Words:       stats.Words,
		Lines:       stats.Lines,
		Characters:  stats.Characters,
		Size:        f.Size,
		Read:        int64(len(f.Content)),
		Summary:     summary,
		Top:         stats.Top,
	})
	return result{Markdown: md, Path: p, Words: stats.Words}, nil
}

// file is read_file's answer.
type file struct {
	Content  string `json:"content"`
	Encoding string `json:"encoding"` // "base64" when the file is not UTF-8
	Size     int64  `json:"size"`     // of the whole file, even when content is cut
}

// readFile reads path through the host's read_file tool. A failure keeps
// its code (tool_denied when the workspace or policy refuses, tool_failed
// when the file is missing) and names the path.
func readFile(ctx sdk.Context, path string) (file, error) {
	out, err := ctx.CallTool("read_file", map[string]string{"path": path})
	if err != nil {
		return file{}, skillkit.Wrap(err, "cannot report on %q", path)
	}
	return parseFile(path, out)
}

// parseFile decodes read_file's answer and refuses what is not text.
func parseFile(path string, out json.RawMessage) (file, error) {
	var f file
	if err := json.Unmarshal(out, &f); err != nil {
		return file{}, sdk.Errorf(wire.CodeInternal, "cannot report on %q: read_file returned unexpected output: %v", path, err)
	}
	switch f.Encoding {
	case "":
	case "base64":
		if _, err := base64.StdEncoding.DecodeString(f.Content); err != nil {
			return file{}, sdk.Errorf(wire.CodeInternal, "cannot report on %q: read_file returned bad base64: %v", path, err)
		}
		return file{}, sdk.Errorf(wire.CodeInvalidInput, "cannot report on %q: it is not UTF-8 text", path)
	default:
		return file{}, sdk.Errorf(wire.CodeInternal, "cannot report on %q: read_file returned unknown encoding %q", path, f.Encoding)
	}
	// A host that leaves size out still gets a consistent report.
	f.Size = max(f.Size, int64(len(f.Content)))
	return f, nil
}

// now returns the host's time for the "generated at" line, in UTC to the
// second.
func now(ctx sdk.Context) (string, error) {
	out, err := ctx.CallTool("now", nil)
	if err != nil {
		return "", skillkit.Wrap(err, "call now")
	}
	return parseNow(out)
}

func parseNow(out json.RawMessage) (string, error) {
	var v struct {
		Time string `json:"time"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return "", sdk.Errorf(wire.CodeInternal, "now returned unexpected output: %v", err)
	}
	t, err := time.Parse(time.RFC3339Nano, v.Time)
	if err != nil {
		return "", sdk.Errorf(wire.CodeInternal, "now returned a time that is not RFC 3339: %q", v.Time)
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC"), nil
}

// stats is the part of wordcount's answer the report shows.
type stats struct {
	Words      int         `json:"words"`
	Lines      int         `json:"lines"`
	Characters int         `json:"characters"`
	Top        []wordCount `json:"top"`
}

// wordStats asks wordcount for the statistics of the whole file, as it is
// (Markdown syntax included), and its top non-stopword words.
func wordStats(ctx sdk.Context, content string) (stats, error) {
	out, err := ctx.CallSkill("wordcount", map[string]any{"text": content, "top": topWords, "stopwords": true})
	if err != nil {
		return stats{}, skillkit.Wrap(err, "call wordcount")
	}
	var s stats
	if err := json.Unmarshal(out, &s); err != nil {
		return stats{}, sdk.Errorf(wire.CodeInternal, "wordcount returned unexpected output: %v", err)
	}
	return s, nil
}

// summarize asks the summarize skill for n sentences of the prose.
func summarize(ctx sdk.Context, prose string, n int) (string, error) {
	out, err := ctx.CallSkill("summarize", map[string]any{"text": prose, "sentences": n})
	if err != nil {
		return "", skillkit.Wrap(err, "call summarize")
	}
	var s struct {
		Summary string `json:"summary"`
	}
	if err := json.Unmarshal(out, &s); err != nil {
		return "", sdk.Errorf(wire.CodeInternal, "summarize returned unexpected output: %v", err)
	}
	return s.Summary, nil
}
