package index

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The wire types declare their fields in key order, so the encoder's
// declaration-order output is the sorted-key canonical form; maps are sorted
// by encoding/json.
type (
	wireIndex struct {
		Expires   string               `json:"expires"`
		Generated string               `json:"generated"`
		Schema    int                  `json:"schema"`
		Skills    map[string]wireSkill `json:"skills"`
		Version   int64                `json:"version"`
	}
	wireSkill struct {
		Description string                 `json:"description"`
		Versions    map[string]wireRelease `json:"versions"`
	}
	wireRelease struct {
		Artifacts    map[string]wireArtifact `json:"artifacts"`
		Deprecated   *wireDeprecation        `json:"deprecated,omitempty"`
		Description  string                  `json:"description,omitempty"`
		History      []wireEvent             `json:"history,omitempty"`
		Published    string                  `json:"published"`
		Requirements []wireRequirement       `json:"requirements,omitempty"`
		Runtime      string                  `json:"runtime"`
		Yanked       *wireYank               `json:"yanked,omitempty"`
	}
	wireArtifact struct {
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
		URL    string `json:"url"`
	}
	wireRequirement struct {
		Constraint string `json:"constraint"`
		Name       string `json:"name"`
	}
	wireDeprecation struct {
		Message               string `json:"message"`
		Replacement           string `json:"replacement,omitempty"`
		ReplacementConstraint string `json:"replacement_constraint,omitempty"`
		Sunset                string `json:"sunset,omitempty"`
		Time                  string `json:"time,omitempty"`
	}
	wireEvent struct {
		Action string `json:"action"`
		Reason string `json:"reason,omitempty"`
		Time   string `json:"time"`
	}
	wireYank struct {
		Reason string `json:"reason"`
		Time   string `json:"time"`
	}
)

// Encode validates x and returns its canonical encoding: object keys sorted
// at every level, two-space indent, no HTML escaping, times in UTC RFC 3339
// (fractional seconds only when present), requirements sorted by name,
// history in its given (chronological) order, optional fields omitted when
// empty, and a trailing newline. The same Index
// always gives the same bytes, and Encode(Parse(Encode(x))) == Encode(x).
func Encode(x *Index) ([]byte, error) {
	if x == nil {
		return nil, fmt.Errorf("encode index: nil index")
	}
	if err := x.Validate(); err != nil {
		return nil, fmt.Errorf("encode index: %w", err)
	}
	w := wireIndex{
		Expires:   stamp(x.Expires),
		Generated: stamp(x.Generated),
		Schema:    x.Schema,
		Skills:    make(map[string]wireSkill, len(x.Skills)),
		Version:   x.Version,
	}
	for name, s := range x.Skills {
		ws := wireSkill{Description: s.Description, Versions: make(map[string]wireRelease, len(s.Versions))}
		for v, r := range s.Versions {
			wr := wireRelease{
				Artifacts:   make(map[string]wireArtifact, len(r.Artifacts)),
				Description: r.Description,
				Published:   stamp(r.Published),
				Runtime:     string(r.Runtime),
			}
			for k, a := range r.Artifacts {
				wr.Artifacts[k] = wireArtifact{SHA256: a.SHA256, Size: a.Size, URL: a.URL}
			}
			for _, q := range r.Requirements {
				wr.Requirements = append(wr.Requirements, wireRequirement{Constraint: q.Constraint, Name: q.Name})
			}
			slices.SortFunc(wr.Requirements, func(a, b wireRequirement) int { return strings.Compare(a.Name, b.Name) })
			if d := r.Deprecated; d != nil {
				wr.Deprecated = &wireDeprecation{Message: d.Message, Replacement: d.Replacement, ReplacementConstraint: d.ReplacementConstraint, Sunset: d.Sunset}
				if !d.Time.IsZero() {
					wr.Deprecated.Time = stamp(d.Time)
				}
			}
			for _, e := range r.History {
				wr.History = append(wr.History, wireEvent{Action: string(e.Action), Reason: e.Reason, Time: stamp(e.Time)})
			}
			if y := r.Yanked; y != nil {
				wr.Yanked = &wireYank{Reason: y.Reason, Time: stamp(y.Time)}
			}
			ws.Versions[v] = wr
		}
		w.Skills[name] = ws
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(w); err != nil { // Encode adds the trailing newline
		return nil, fmt.Errorf("encode index: %w", err)
	}
	if buf.Len() > MaxSize {
		return nil, fmt.Errorf("encode index: %d bytes, over the %d-byte limit clients accept", buf.Len(), MaxSize)
	}
	return buf.Bytes(), nil
}
