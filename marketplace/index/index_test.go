package index

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/skillsdev/skills/sdk/manifest"
)

func day(d int) time.Time { return time.Date(2026, 9, d, 12, 0, 0, 0, time.UTC) }

const (
	shaA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	shaB = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
)

// sample is a small index that uses every field.
func sample() *Index {
	return &Index{
		Schema:    SchemaVersion,
		Version:   7,
		Generated: day(1),
		Expires:   day(30),
		Skills: map[string]*Skill{
			"wordcount": {
				Description: "Counts words & lines <fast>.",
				Versions: map[string]*Release{
					"1.0.0": {
						Runtime:   manifest.RuntimeWasm,
						Artifacts: map[string]Artifact{AnyPlatform: {URL: "artifacts/wordcount-1.0.0.tar.gz", SHA256: shaA, Size: 1234}},
						Published: day(1),
						Yanked:    &Yank{Reason: "counts wrong", Time: day(2)},
						History: []Event{
							{Action: ActionYanked, Time: day(2), Reason: "crashes on empty input"},
							{Action: ActionUnyanked, Time: day(2).Add(time.Hour)},
							{Action: ActionYanked, Time: day(2).Add(2 * time.Hour), Reason: "counts wrong"},
						},
					},
					"1.1.0": {
						Runtime:     manifest.RuntimeWasm,
						Description: "Counts words.",
						Requirements: []Requirement{
							{Name: "tokenize", Constraint: "^1.0.0"},
							{Name: "stem", Constraint: ">=0.2.0, <0.4.0"},
						},
						Artifacts:  map[string]Artifact{AnyPlatform: {URL: "https://cdn.example.com/wc-1.1.0.tar.gz?sig=x", SHA256: shaB, Size: 99}},
						Published:  day(3),
						Deprecated: &Deprecation{Message: "use wc2", Replacement: "wc2", ReplacementConstraint: "^2.0", Sunset: "2027-01-01", Time: day(4)},
						History:    []Event{{Action: ActionDeprecated, Time: day(4), Reason: "use wc2"}},
					},
					"2.0.0-rc.1": {
						Runtime:   manifest.RuntimeWasm,
						Artifacts: map[string]Artifact{AnyPlatform: {URL: "artifacts/wordcount-2.0.0-rc.1.tar.gz", SHA256: shaA, Size: 1}},
						Published: day(4),
					},
				},
			},
			"fetcher": {
				Description: "Fetches URLs.",
				Versions: map[string]*Release{
					"0.1.0": {
						Runtime: manifest.RuntimePlugin,
						Artifacts: map[string]Artifact{
							"linux/amd64":  {URL: "artifacts/fetcher-0.1.0-linux-amd64.tar.gz", SHA256: shaA, Size: 5 << 20},
							"darwin/arm64": {URL: "file:///srv/skills/fetcher-0.1.0-darwin-arm64.tar.gz", SHA256: shaB, Size: 6 << 20},
						},
						Published: day(5),
					},
				},
			},
		},
	}
}

// golden is the canonical encoding of a one-skill index: sorted keys,
// two-space indent, UTC times, requirements sorted, trailing newline.
const golden = `{
  "expires": "2026-09-30T12:00:00Z",
  "generated": "2026-09-01T12:00:00Z",
  "schema": 1,
  "skills": {
    "hello": {
      "description": "Says <hello> & waves.",
      "versions": {
        "0.1.0": {
          "artifacts": {
            "any": {
              "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
              "size": 10,
              "url": "artifacts/hello-0.1.0.tar.gz"
            }
          },
          "published": "2026-09-01T12:00:00.5Z",
          "requirements": [
            {
              "constraint": "*",
              "name": "a"
            },
            {
              "constraint": "~1.2",
              "name": "b"
            }
          ],
          "runtime": "instructions"
        }
      }
    }
  },
  "version": 1
}
`

func TestEncodeGolden(t *testing.T) {
	plus2 := time.FixedZone("plus2", 2*3600)
	x := &Index{
		Schema: 1, Version: 1,
		Generated: day(1).In(plus2), Expires: day(30),
		Skills: map[string]*Skill{"hello": {
			Description: "Says <hello> & waves.",
			Versions: map[string]*Release{"0.1.0": {
				Runtime:      manifest.RuntimeInstructions,
				Requirements: []Requirement{{Name: "b", Constraint: "~1.2"}, {Name: "a", Constraint: "*"}},
				Artifacts:    map[string]Artifact{AnyPlatform: {URL: "artifacts/hello-0.1.0.tar.gz", SHA256: shaA, Size: 10}},
				Published:    day(1).Add(500 * time.Millisecond),
			}},
		}},
	}
	got, err := Encode(x)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != golden {
		t.Fatalf("canonical encoding differs:\n got:\n%s\nwant:\n%s", got, golden)
	}
	back, err := Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Encode(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, got) {
		t.Fatalf("Encode(Parse(Encode(x))) != Encode(x)")
	}
}

func TestRoundTrip(t *testing.T) {
	x := sample()
	a, err := Encode(x)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two encodings of the same index differ")
	}
	y, err := Parse(a)
	if err != nil {
		t.Fatalf("parse canonical: %v\n%s", err, a)
	}
	if y.Version != 7 || !y.Expires.Equal(day(30)) || !y.Generated.Equal(day(1)) || len(y.Skills) != 2 {
		t.Fatalf("top level lost: %+v", y)
	}
	r, err := y.Lookup("wordcount", "1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	if r.Deprecated == nil || r.Deprecated.Replacement != "wc2" || r.Deprecated.Sunset != "2027-01-01" || len(r.Requirements) != 2 || r.Requirements[0].Name != "stem" {
		t.Fatalf("release lost fields: %+v", r)
	}
	if d := r.Deprecated; d.ReplacementConstraint != "^2.0" || !d.Time.Equal(day(4)) || len(r.History) != 1 || r.History[0].Action != ActionDeprecated {
		t.Fatalf("deprecation time, replacement constraint or history lost: %+v %+v", d, r.History)
	}
	y0 := y.Skills["wordcount"].Versions["1.0.0"]
	if y0.Yanked == nil {
		t.Fatal("yank lost")
	}
	if h := y0.History; len(h) != 3 || h[1].Action != ActionUnyanked || h[1].Reason != "" || h[2].Reason != "counts wrong" || !h[0].Time.Equal(day(2)) {
		t.Fatalf("history lost or reordered: %+v", h)
	}
	c, err := Encode(y)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, c) {
		t.Fatalf("round trip changed bytes:\n%s\n---\n%s", a, c)
	}
}

func TestHelpers(t *testing.T) {
	x := sample()
	if got := strings.Join(x.Names(), ","); got != "fetcher,wordcount" {
		t.Errorf("Names = %s", got)
	}
	if got := strings.Join(x.Skills["wordcount"].Sorted(), ","); got != "1.0.0,1.1.0,2.0.0-rc.1" {
		t.Errorf("Sorted = %s", got)
	}
	if v, _, err := x.Latest("wordcount", false); err != nil || v != "1.1.0" {
		t.Errorf("Latest stable = %q, %v", v, err)
	}
	if v, _, err := x.Latest("wordcount", true); err != nil || v != "2.0.0-rc.1" {
		t.Errorf("Latest prerelease = %q, %v", v, err)
	}
	if _, _, err := x.Latest("nope", false); err == nil {
		t.Error("Latest of unknown skill: no error")
	}
	if _, err := x.Lookup("wordcount", "9.9.9"); err == nil || !strings.Contains(err.Error(), "have 1.0.0, 1.1.0, 2.0.0-rc.1") {
		t.Errorf("Lookup missing version: %v", err)
	}
	if _, err := x.Lookup("nope", "1.0.0"); err == nil || !strings.Contains(err.Error(), `no skill "nope"`) {
		t.Errorf("Lookup missing skill: %v", err)
	}
	plugin := x.Skills["fetcher"].Versions["0.1.0"]
	if a, key, err := plugin.ArtifactFor("linux", "amd64"); err != nil || key != "linux/amd64" || a.Size != 5<<20 {
		t.Errorf("ArtifactFor linux/amd64 = %v %q %v", a, key, err)
	}
	if _, _, err := plugin.ArtifactFor("windows", "386"); err == nil || !strings.Contains(err.Error(), "available: darwin/arm64, linux/amd64") {
		t.Errorf("ArtifactFor missing platform: %v", err)
	}
	wasm := x.Skills["wordcount"].Versions["1.1.0"]
	if _, key, err := wasm.ArtifactFor("plan9", "arm"); err != nil || key != AnyPlatform {
		t.Errorf("ArtifactFor wasm = %q %v", key, err)
	}
	if x.Expired(day(29)) || !x.Expired(day(30)) {
		t.Error("Expired: wrong boundary")
	}
}

// base is a hand-written index; the error cases edit one spot of it so the
// expected line and column are easy to check by eye.
const base = `{
  "schema": 1,
  "version": 3,
  "generated": "2026-09-01T00:00:00Z",
  "expires": "2026-10-01T00:00:00Z",
  "skills": {
    "wordcount": {
      "description": "Counts words.",
      "versions": {
        "1.2.0": {
          "runtime": "wasm",
          "requirements": [{"name": "tokenize", "constraint": "^1.0.0"}],
          "artifacts": {
            "any": {"url": "a/wc.tar.gz", "sha256": "` + shaA + `", "size": 10}
          },
          "published": "2026-09-01T00:00:00Z"
        }
      }
    }
  }
}
`

func TestParseBase(t *testing.T) {
	x, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := x.Lookup("wordcount", "1.2.0"); err != nil || r.Artifacts["any"].Size != 10 {
		t.Fatalf("lookup: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // edit of base; old == "" means new is the whole document
		want     []string
	}{
		{"empty", "", "", []string{"empty document"}},
		{"not json", "", "hello", []string{"line 1, col 1", "invalid JSON"}},
		{"truncated", "", base[:200], []string{"unexpected end of input"}},
		{"array", "", "[]", []string{"want an object, got an array"}},
		{"trailing", "", base + "{}", []string{"line 22, col 1", "unexpected data after the index object"}},
		{"unknown top field", `"version": 3,`, `"version": 3, "extra": true,`, []string{"line 3, col 17", `unknown field "extra"`}},
		{"duplicate top key", `"version": 3,`, `"version": 3, "version": 4,`, []string{"line 3, col 17", `duplicate key "version"`}},
		{"schema 2", `"schema": 1`, `"schema": 2`, []string{"unsupported index schema 2"}},
		{"schema 2 with new fields", `"schema": 1,`, `"schema": 2, "mirrors": [],`, []string{"unsupported index schema 2"}},
		{"version float", `"version": 3`, `"version": 3.5`, []string{"line 3, col 14", "version: want an integer, got 3.5"}},
		{"version string", `"version": 3`, `"version": "3"`, []string{"version: want an integer, got a string"}},
		{"version zero", `"version": 3`, `"version": 0`, []string{"line 3, col 14", "version: must be at least 1"}},
		{"missing expires", `"expires": "2026-10-01T00:00:00Z",`, ``, []string{"line 1, col 1", `missing field "expires"`}},
		{"bad time", `"expires": "2026-10-01T00:00:00Z"`, `"expires": "next week"`, []string{"line 5, col 14", "expires: want an RFC 3339 time", `"next week"`}},
		{"expires before generated", `"expires": "2026-10-01T00:00:00Z"`, `"expires": "2026-08-01T00:00:00Z"`, []string{"line 5, col 14", "is not after generated"}},
		{"skills null", `"skills": {`, `"skills": null, "x": {`, []string{"skills: want an object, got null"}},
		{"bad skill name", `"wordcount": {`, `"Word_Count": {`, []string{"line 7, col 5", `skill "Word_Count": invalid skill name`}},
		{"missing description", `"description": "Counts words.",`, ``, []string{`skill "wordcount"`, `missing field "description"`}},
		{"long description", `"Counts words."`, `"` + strings.Repeat("x", 1025) + `"`, []string{`skill "wordcount": description: 1025 characters, over the limit of 1024`}},
		{"unknown skill field", `"description": "Counts words.",`, `"description": "Counts words.", "homepage": "x",`, []string{"line 8, col 39", `skill "wordcount": unknown field "homepage"`}},
		{"no versions", "", strings.Replace(base, base[strings.Index(base, `"versions": {`):strings.Index(base, "\n    }\n  }")], `"versions": {}`, 1), []string{`skill "wordcount": versions: no versions`}},
		{"bad semver", `"1.2.0": {`, `"1.2": {`, []string{"line 10, col 9", `skill "wordcount" version "1.2": not a strict semver version`}},
		{"v prefix", `"1.2.0": {`, `"v1.2.0": {`, []string{`version "v1.2.0": not a strict semver`}},
		{"unknown runtime", `"runtime": "wasm"`, `"runtime": "python"`, []string{"line 11, col 22", `skill "wordcount" version "1.2.0": runtime: unknown runtime "python"`}},
		{"runtime number", `"runtime": "wasm"`, `"runtime": 1`, []string{"line 11, col 22", `version "1.2.0": runtime: want a string, got a number`}},
		{"unknown release field", `"runtime": "wasm",`, `"runtime": "wasm", "sig": "x",`, []string{"line 11, col 30", `version "1.2.0": unknown field "sig"`}},
		{"missing published", `,
          "published": "2026-09-01T00:00:00Z"`, ``, []string{"line 10, col 18", `version "1.2.0": missing field "published"`}},
		{"bad requirement name", `"name": "tokenize"`, `"name": "Tokenize"`, []string{"line 12, col 37", `version "1.2.0": requirements[0].name: invalid skill name "Tokenize"`}},
		{"self requirement", `"name": "tokenize"`, `"name": "wordcount"`, []string{"requirements[0].name: a skill cannot require itself"}},
		{"bad constraint", `"constraint": "^1.0.0"`, `"constraint": "lots"`, []string{"line 12, col 63", `requirements[0].constraint: invalid constraint "lots"`}},
		{"empty constraint", `"constraint": "^1.0.0"`, `"constraint": ""`, []string{"requirements[0].constraint: empty constraint"}},
		{"unknown requirement field", `"constraint": "^1.0.0"}`, `"constraint": "^1.0.0", "optional": true}`, []string{`requirements[0]: unknown field "optional"`}},
		{"duplicate requirement", `{"name": "tokenize", "constraint": "^1.0.0"}`, `{"name": "tokenize", "constraint": "^1.0.0"}, {"name": "tokenize", "constraint": "*"}`, []string{`requirements[1].name: "tokenize" is required twice`}},
		{"bad sha", shaA, "abc", []string{"line 14, col 53", `skill "wordcount" version "1.2.0": artifacts.any.sha256: want 64 lowercase hex digits, got "abc"`}},
		{"upper sha", shaA, strings.ToUpper(shaA), []string{"artifacts.any.sha256: want 64 lowercase hex digits"}},
		{"zero size", `"size": 10`, `"size": 0`, []string{"artifacts.any.size: want 1 to"}},
		{"negative size", `"size": 10`, `"size": -5`, []string{"artifacts.any.size: want 1 to"}},
		{"huge size", `"size": 10`, `"size": 99999999999`, []string{"artifacts.any.size: want 1 to"}},
		{"size overflow", `"size": 10`, `"size": 99999999999999999999`, []string{"artifacts.any.size: want an integer, got 99999999999999999999"}},
		{"missing sha", `"sha256": "` + shaA + `", `, ``, []string{"line 14, col 20", `artifacts.any: missing field "sha256"`}},
		{"bad url scheme", `"a/wc.tar.gz"`, `"ftp://x/wc.tar.gz"`, []string{`artifacts.any.url: "ftp://x/wc.tar.gz": unsupported scheme "ftp"`}},
		{"url with space", `"a/wc.tar.gz"`, `"a/w c.tar.gz"`, []string{"artifacts.any.url:", "spaces"}},
		{"scheme relative url", `"a/wc.tar.gz"`, `"//evil.example/x"`, []string{"artifacts.any.url:", "scheme-relative"}},
		{"http no host", `"a/wc.tar.gz"`, `"http:///x"`, []string{"artifacts.any.url:", "no host"}},
		{"file relative", `"a/wc.tar.gz"`, `"file:x"`, []string{"artifacts.any.url:", "file:///absolute/path"}},
		{"platform key for wasm", `"any": {`, `"linux/amd64": {`, []string{"line 14, col 13", `artifacts.linux/amd64: a wasm skill has one artifact keyed "any"`}},
		{"any key for plugin", `"runtime": "wasm"`, `"runtime": "plugin"`, []string{`artifacts.any: a plugin artifact is keyed by platform like linux/amd64, got "any"`}},
		{"no artifacts", "", strings.Replace(base, base[strings.Index(base, `"artifacts": {`):strings.Index(base, `,
          "published"`)], `"artifacts": {}`, 1), []string{`version "1.2.0": artifacts: no artifacts`}},
		{"duplicate artifact key", `"any": {`, `"any": {"url": "x", "sha256": "` + shaA + `", "size": 1}, "any": {`, []string{`artifacts: duplicate key "any"`}},
		{"deprecated without message", `"runtime": "wasm",`, `"runtime": "wasm", "deprecated": {"replacement": "x"},`, []string{`version "1.2.0": deprecated: missing field "message"`}},
		{"deprecated bad sunset", `"runtime": "wasm",`, `"runtime": "wasm", "deprecated": {"message": "old", "sunset": "soon"},`, []string{`deprecated.sunset: want a date like 2026-12-31, got "soon"`}},
		{"deprecated bad replacement", `"runtime": "wasm",`, `"runtime": "wasm", "deprecated": {"message": "old", "replacement": "A B"},`, []string{`deprecated.replacement: invalid skill name "A B"`}},
		{"deprecated null", `"runtime": "wasm",`, `"runtime": "wasm", "deprecated": null,`, []string{`deprecated: want an object, got null`}},
		{"yanked bool", `"runtime": "wasm",`, `"runtime": "wasm", "yanked": true,`, []string{`version "1.2.0": yanked: want an object, got a boolean`}},
		{"yanked without time", `"runtime": "wasm",`, `"runtime": "wasm", "yanked": {"reason": "bad"},`, []string{`yanked: missing field "time"`}},
		{"yanked empty reason", `"runtime": "wasm",`, `"runtime": "wasm", "yanked": {"reason": "", "time": "2026-09-02T00:00:00Z"},`, []string{`yanked.reason: missing`}},
		{"deprecated bad time", `"runtime": "wasm",`, `"runtime": "wasm", "deprecated": {"message": "old", "time": "yesterday"},`, []string{`deprecated.time: want an RFC 3339 time`}},
		{"replacement constraint alone", `"runtime": "wasm",`, `"runtime": "wasm", "deprecated": {"message": "old", "replacement_constraint": "^2"},`, []string{`deprecated.replacement_constraint: set without replacement`}},
		{"bad replacement constraint", `"runtime": "wasm",`, `"runtime": "wasm", "deprecated": {"message": "old", "replacement": "wc2", "replacement_constraint": "newest"},`, []string{`deprecated.replacement_constraint: invalid constraint "newest"`}},
		{"history not array", `"runtime": "wasm",`, `"runtime": "wasm", "history": {},`, []string{`history: want an array, got an object`}},
		{"history unknown action", `"runtime": "wasm",`, `"runtime": "wasm", "history": [{"action": "deleted", "time": "2026-09-02T00:00:00Z"}],`, []string{`history[0].action: unknown action "deleted"`}},
		{"history without time", `"runtime": "wasm",`, `"runtime": "wasm", "history": [{"action": "unyanked"}],`, []string{`history[0]: missing field "time"`}},
		{"history yank without reason", `"runtime": "wasm",`, `"runtime": "wasm", "history": [{"action": "unyanked", "time": "2026-09-02T00:00:00Z"}, {"action": "yanked", "time": "2026-09-03T00:00:00Z"}],`, []string{`history[1].reason: missing`}},
		{"history unknown field", `"runtime": "wasm",`, `"runtime": "wasm", "history": [{"action": "yanked", "time": "2026-09-02T00:00:00Z", "reason": "x", "by": "me"}],`, []string{`history[0]: unknown field "by"`}},
		{"same version twice", `"1.2.0": {`, `"1.2.0+b": {"runtime": "wasm", "artifacts": {"any": {"url": "x", "sha256": "` + shaA + `", "size": 1}}, "published": "2026-09-01T00:00:00Z"}, "1.2.0": {`, []string{`same version as "1.2.0"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.new
			if tc.old != "" {
				if !strings.Contains(base, tc.old) {
					t.Fatalf("test edit %q not found in base", tc.old)
				}
				doc = strings.Replace(base, tc.old, tc.new, 1)
			}
			_, err := Parse([]byte(doc))
			if err == nil {
				t.Fatalf("no error for:\n%s", doc)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is %T, want *Error: %v", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseSizeCap(t *testing.T) {
	big := make([]byte, MaxSize+1)
	if _, err := Parse(big); err == nil || !strings.Contains(err.Error(), "over the") {
		t.Fatalf("oversized index: %v", err)
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	tests := []struct {
		name string
		edit func(x *Index)
		want string
	}{
		{"no schema", func(x *Index) { x.Schema = 0 }, "unsupported index schema 0"},
		{"zero expires", func(x *Index) { x.Expires = time.Time{} }, "expires: missing"},
		{"nil skill", func(x *Index) { x.Skills["zzz"] = nil }, `skill "zzz": missing`},
		{"nil release", func(x *Index) { x.Skills["fetcher"].Versions["0.2.0"] = nil }, `skill "fetcher" version "0.2.0": missing`},
		{"bad platform", func(x *Index) {
			x.Skills["fetcher"].Versions["0.1.0"].Artifacts["Linux"] = Artifact{URL: "x", SHA256: shaA, Size: 1}
		}, `artifacts.Linux: a plugin artifact is keyed by platform`},
		{"invalid utf8", func(x *Index) { x.Skills["fetcher"].Description = "\xff" }, "not valid UTF-8"},
		{"far future", func(x *Index) { x.Expires = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "year 10000 is out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := sample()
			tc.edit(x)
			_, err := Encode(x)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Encode error %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := Encode(nil); err == nil {
		t.Fatal("Encode(nil): no error")
	}
}
