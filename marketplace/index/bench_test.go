package index

import (
	"fmt"
	"testing"

	"github.com/skillsdev/skills/sdk/manifest"
)

// bigIndex has 1000 skills of 10 versions each, every version with two
// requirements: a large public registry.
func bigIndex() *Index {
	x := &Index{Schema: SchemaVersion, Version: 1, Generated: day(1), Expires: day(30), Skills: map[string]*Skill{}}
	for i := range 1000 {
		s := &Skill{Description: "A skill that does a thing, described in a sentence or two.", Versions: map[string]*Release{}}
		for v := range 10 {
			s.Versions[fmt.Sprintf("1.%d.0", v)] = &Release{
				Runtime:      manifest.RuntimeWasm,
				Requirements: []Requirement{{Name: "dep-a", Constraint: "^1.2.0"}, {Name: "dep-b", Constraint: ">=0.3.0, <0.5.0"}},
				Artifacts:    map[string]Artifact{AnyPlatform: {URL: fmt.Sprintf("artifacts/skill-%d-1.%d.0.tar.gz", i, v), SHA256: shaA, Size: 1 << 20}},
				Published:    day(2),
			}
		}
		x.Skills[fmt.Sprintf("skill-%d", i)] = s
	}
	return x
}

func BenchmarkParse(b *testing.B) {
	data, err := Encode(bigIndex())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	x := bigIndex()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(x); err != nil {
			b.Fatal(err)
		}
	}
}
