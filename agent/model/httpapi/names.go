package httpapi

import (
	"strconv"
	"strings"
)

// MaxToolName is the longest tool name the OpenAI and Anthropic APIs accept.
const MaxToolName = 64

// NameMap maps tool names to names the provider accepts
// (^[a-zA-Z0-9_-]{1,64}$) and back. It is built per request from the
// tools offered, so the same tool set always maps the same way.
type NameMap struct {
	toWire   map[string]string
	fromWire map[string]string
}

// NewNameMap sanitizes names in order: characters outside [a-zA-Z0-9_-]
// become '_', names are cut to 64 bytes, and a name that collides with an
// earlier one gets a "_2", "_3", ... suffix.
func NewNameMap(names []string) NameMap {
	m := NameMap{toWire: make(map[string]string, len(names)), fromWire: make(map[string]string, len(names))}
	for _, n := range names {
		if _, done := m.toWire[n]; done {
			continue
		}
		base := Sanitize(n)
		w := base
		for i := 2; ; i++ {
			if _, taken := m.fromWire[w]; !taken {
				break
			}
			suffix := "_" + strconv.Itoa(i)
			w = base[:min(len(base), MaxToolName-len(suffix))] + suffix
		}
		m.toWire[n], m.fromWire[w] = w, n
	}
	return m
}

// Wire is the provider-side name for a tool; a name that was not in the
// map (a tool of an earlier turn) is sanitized alone.
func (m NameMap) Wire(name string) string {
	if w, ok := m.toWire[name]; ok {
		return w
	}
	return Sanitize(name)
}

// Original maps a name the provider sent back to the tool's own name; an
// unknown name is returned as is, so the loop reports it as unknown.
func (m NameMap) Original(wire string) string {
	if n, ok := m.fromWire[wire]; ok {
		return n
	}
	return wire
}

// Sanitize maps a name into ^[a-zA-Z0-9_-]{1,64}$.
func Sanitize(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() >= MaxToolName {
			break
		}
		if r < 128 && (r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "tool"
	}
	return b.String()
}
