package publish

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skillsdev/skills/marketplace/archive"
	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/registry"
	"github.com/skillsdev/skills/sdk/manifest"
)

// bundledDir is the repository's committed registry.
var bundledDir = filepath.Join("..", "..", "registry")

// TestBundledRegistry guards the committed registry/: its index verifies
// with registry/bundled.pub, is canonical and far from expiry, every
// artifact matches its size and hash, every package's SKILL.md agrees with
// its index entry, every skill in skills/ is published at its current
// version, and the committed signer key is the bundled verifier key's pair.
func TestBundledRegistry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pub, err := os.ReadFile(filepath.Join(bundledDir, "bundled.pub"))
	if err != nil {
		t.Fatal(err)
	}
	vkey := strings.TrimSpace(string(pub))
	r, err := registry.New(registry.Config{Name: "bundled", URL: bundledDir, Keys: []string{vkey}}, registry.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	f, err := r.Fetch(ctx)
	if err != nil {
		t.Fatalf("the bundled registry does not verify with registry/bundled.pub: %v", err)
	}
	if canon, err := index.Encode(f.Index); err != nil || !bytes.Equal(canon, f.Raw) {
		t.Errorf("registry/index.json is not canonical (%v): re-sign it with scripts/bundle-registry.sh", err)
	}
	if left := time.Until(f.Index.Expires); left < 5*365*24*time.Hour {
		t.Errorf("the bundled index expires in %v; publish with a long --expires (the script uses 10 years)", left.Round(time.Hour))
	}
	if err := VerifyArtifacts(ctx, bundledDir, f.Index); err != nil {
		t.Fatal(err)
	}

	for _, name := range f.Index.Names() {
		s := f.Index.Skills[name]
		for _, v := range s.Sorted() {
			rel := s.Versions[v]
			for plat, a := range rel.Artifacts {
				t.Run(name+"@"+v+"/"+plat, func(t *testing.T) {
					if rel.Runtime == manifest.RuntimePlugin && plat != DefaultPlatform.String() {
						t.Errorf("bundled plugins are %s only, got %s", DefaultPlatform, plat)
					}
					// VerifyArtifacts has checked the file's size and hash.
					in, err := os.Open(filepath.Join(bundledDir, filepath.FromSlash(a.URL)))
					if err != nil {
						t.Fatal(err)
					}
					defer in.Close()
					var m *manifest.Manifest
					if raceEnabled && a.Size > 2<<20 {
						m = packagedManifest(t, in, name)
					} else {
						dst := filepath.Join(t.TempDir(), name)
						os.Mkdir(dst, 0o755)
						if err := archive.Extract(ctx, in, dst, archive.Limits{}); err != nil {
							t.Fatal(err)
						}
						if m, err = manifest.Load(dst); err != nil {
							t.Fatal(err)
						}
						if m.Runtime != manifest.RuntimeInstructions {
							if st, err := os.Stat(filepath.Join(dst, filepath.FromSlash(m.Entry))); err != nil || st.Size() == 0 {
								t.Errorf("entry %s missing from the package: %v", m.Entry, err)
							}
						}
					}
					if m.Name != name || m.Version.String() != v || m.Runtime != rel.Runtime {
						t.Errorf("package SKILL.md says %s %s %s", m.Name, m.Version, m.Runtime)
					}
					if len(m.Requires) != len(rel.Requirements) {
						t.Errorf("package requires %d skills, the index %d", len(m.Requires), len(rel.Requirements))
					}
					for i, q := range m.Requires {
						if i < len(rel.Requirements) && (q.Name != rel.Requirements[i].Name || q.Raw != rel.Requirements[i].Constraint) {
							t.Errorf("requirement %d: package %s %s, index %+v", i, q.Name, q.Raw, rel.Requirements[i])
						}
					}
				})
			}
		}
	}

	// Every skill in skills/ is published at the version its SKILL.md has:
	// a bumped version means scripts/bundle-registry.sh was not run.
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "skills", "*", manifest.FileName))
	if len(dirs) == 0 {
		t.Fatal("no skills found in skills/")
	}
	for _, p := range dirs {
		m, err := manifest.Load(filepath.Dir(p))
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if key, _ := findVersion(f.Index, m.Name, m.Version); key == "" {
			t.Errorf("skills/%s is at version %s, which the bundled registry lacks: run scripts/bundle-registry.sh", m.Name, m.Version)
		}
	}

	// The committed key signs this registry (mode aside: git does not keep
	// 0600, which is why the script chmods it before use).
	skey, err := os.ReadFile(filepath.Join(bundledDir, "keys", "bundled.key"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKey(strings.TrimSpace(string(skey)))
	if err != nil {
		t.Fatal(err)
	}
	if k.Verifier() != vkey || f.Signed.Key() != k.ID() {
		t.Errorf("registry/keys/bundled.key (%s) is not the pair of registry/bundled.pub, or did not sign the index (%s)", k.ID(), f.Signed.Key())
	}
}

// packagedManifest reads the package's SKILL.md without unpacking the rest:
// packages are sorted, so it comes before any lowercase-named entry artifact.
func packagedManifest(t *testing.T, r io.Reader, name string) *manifest.Manifest {
	t.Helper()
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("no SKILL.md in the package: %v", err)
		}
		if hdr.Name != manifest.FileName {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, manifest.MaxSize+1))
		if err != nil {
			t.Fatal(err)
		}
		m, err := manifest.Parse(name+"/"+manifest.FileName, data)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
}
