package publish

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/sign"
	"github.com/skillsdev/skills/sdk/manifest"
)

// BenchmarkYankLargeRegistry measures one operator change on a registry of
// 2,000 skills x 20 versions: lock, read, verify, parse, change, encode,
// sign and write the index (about 20 MB). Artifacts are not touched by
// operator commands, so none exist here.
func BenchmarkYankLargeRegistry(b *testing.B) {
	dir := b.TempDir()
	k := newTestKey(b, "bench")
	x := &index.Index{Schema: index.SchemaVersion, Version: 1, Generated: now, Expires: now.Add(24 * time.Hour), Skills: map[string]*index.Skill{}}
	for i := 0; i < 2000; i++ {
		s := &index.Skill{Description: "A benchmark skill.", Versions: map[string]*index.Release{}}
		for v := 0; v < 20; v++ {
			s.Versions[fmt.Sprintf("1.%d.0", v)] = &index.Release{
				Runtime:      manifest.RuntimeWasm,
				Requirements: []index.Requirement{{Name: fmt.Sprintf("skill-%d", (i+1)%2000), Constraint: "^1.0"}},
				Artifacts:    map[string]index.Artifact{index.AnyPlatform: {URL: fmt.Sprintf("artifacts/skill-%d/1.%d.0/skill-%d-1.%d.0.tar.gz", i, v, i, v), SHA256: fmt.Sprintf("%064x", i*20+v), Size: 1 << 20}},
				Published:    now,
			}
		}
		x.Skills[fmt.Sprintf("skill-%d", i)] = s
	}
	raw, err := index.Encode(x)
	if err != nil {
		b.Fatal(err)
	}
	sig, err := sign.Sign(k.skey, raw, sign.Meta{Version: x.Version, Expires: x.Expires})
	if err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, IndexFile), raw, 0o644)
	os.WriteFile(filepath.Join(dir, SigFile), sig, 0o644)
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op := Yank
		if i%2 == 1 {
			op = Unyank
		}
		if _, err := op(context.Background(), dir, "skill-7@1.3.0", "bench", opts(k)); err != nil {
			b.Fatal(err)
		}
	}
}
