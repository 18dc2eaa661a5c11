package audit

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
)

// maxValue bounds each value in a formatted line so one big tool output does
// not flood a terminal.
const maxValue = 80

// Format renders an event as one human-readable line (no newline) for
// streaming to stderr, e.g.
//
//	15:04:05.123 run 3f2a9c1e #7 tool.end name=wordcount ms=3 output={"words":12}
//
// The data members appear in their recorded order; strings are quoted when
// they contain spaces or special characters, and long values are cut with "…".
// The run id is shortened to 8 characters.
func Format(e Event) string {
	var b strings.Builder
	b.WriteString(e.Time.Format("15:04:05.000"))
	b.WriteString(" run ")
	run := e.RunID
	if len(run) > 8 {
		run = run[:8]
	}
	b.WriteString(run)
	b.WriteString(" #")
	b.WriteString(strconv.FormatUint(e.Seq, 10))
	b.WriteByte(' ')
	b.WriteString(e.Type)
	dec := json.NewDecoder(bytes.NewReader(e.Data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return b.String()
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			break
		}
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			break
		}
		b.WriteByte(' ')
		b.WriteString(key.(string))
		b.WriteByte('=')
		b.WriteString(formatValue(val))
	}
	return b.String()
}

// formatValue prints a string bare when it is a plain word, quoted otherwise;
// anything else as compact JSON. Either way it is cut to maxValue runes.
func formatValue(val json.RawMessage) string {
	var s string
	if len(val) > 0 && val[0] == '"' && json.Unmarshal(val, &s) == nil {
		if s != "" && !strings.ContainsAny(s, " \t\r\n\"=\\") && strconv.CanBackquote(s) {
			return cut(s)
		}
		return strconv.Quote(cut(s))
	}
	var c bytes.Buffer
	if json.Compact(&c, val) != nil {
		return cut(string(val))
	}
	return cut(c.String())
}

func cut(s string) string {
	r := []rune(s)
	if len(r) <= maxValue {
		return s
	}
	return string(r[:maxValue-1]) + "…"
}

// StreamTo returns an event sink that writes Format(e) plus a newline to w,
// for use as a live stderr view. Write errors are ignored: the view is a
// convenience, the log is the record.
func StreamTo(w io.Writer) func(Event) {
	return func(e Event) {
		io.WriteString(w, Format(e)+"\n")
	}
}
