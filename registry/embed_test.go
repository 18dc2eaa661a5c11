package registry

import (
	"context"
	"testing"

	mreg "github.com/skillsdev/skills/marketplace/registry"
)

// TestBundled verifies the embedded registry the way every client does: its
// signature against bundled.pub, its expiry, and every artifact's size and
// SHA-256.
func TestBundled(t *testing.T) {
	keys := Keys()
	if len(keys) == 0 {
		t.Fatal("bundled.pub holds no key")
	}
	r, err := mreg.NewFS(Name, keys, FS(), mreg.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f, err := r.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Index.Skills) == 0 {
		t.Fatal("the bundled index lists no skills")
	}
	for _, name := range f.Index.Names() {
		for v, rel := range f.Index.Skills[name].Versions {
			for plat, a := range rel.Artifacts {
				path, err := r.Download(ctx, a, t.TempDir())
				if err != nil {
					t.Errorf("%s %s %s: %v", name, v, plat, err)
					continue
				}
				t.Logf("%s %s %s: %d bytes verified (%s)", name, v, plat, a.Size, path)
			}
		}
	}
}
