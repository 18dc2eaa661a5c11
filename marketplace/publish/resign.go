package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/sign"
)

// Sign (re-)signs the index in dir as it is: for an index written or edited
// by hand. Nothing in index.json changes, not even its version, so the
// editor must have raised "version" above the last signed one if the bytes
// changed (clients refuse different bytes under a version they have seen)
// and kept "expires" in the future. Before signing, the index must parse and
// validate, and every artifact it names by a relative URL must be in dir
// with the size and SHA-256 the index gives. An index already signed by
// this key is left alone (Result.Changed false).
func Sign(ctx context.Context, dir string, o Options) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := openFolder(dir, o, false, false)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	defer f.close()
	x := f.cur
	now := o.now()
	if !x.Expires.After(now) {
		return nil, fmt.Errorf("sign %s: index expires at %s, which is not in the future: set a later \"expires\" (clients refuse an expired index)", dir, x.Expires.UTC().Format("2006-01-02T15:04:05Z07:00"))
	}
	sum := sha256.Sum256(f.raw)
	hash := hex.EncodeToString(sum[:])
	prev := int64(0)
	if len(f.sig) > 0 {
		trust, err := sign.NewTrust(o.Key.Verifier())
		if err != nil {
			return nil, fmt.Errorf("sign %s: %w", dir, err)
		}
		if _, err := sign.Verify(f.sig, f.raw, trust); err == nil {
			res := f.unchanged(o)
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s is already signed by %s; nothing to do", IndexFile, o.Key.ID()))
			return res, nil
		}
		if v, ok := signedVersion(f.sig); ok && !strings.Contains(signedText(f.sig), "sha256 "+hash) {
			prev = v
			if x.Version <= v {
				return nil, fmt.Errorf("sign %s: index.json changed since version %d was signed, but its \"version\" is %d: raise it above %d (clients that saw version %d refuse different bytes under it)", dir, v, x.Version, v, v)
			}
		}
	}
	if err := VerifyArtifacts(ctx, dir, x); err != nil {
		return nil, fmt.Errorf("sign %s: %w", dir, err)
	}
	sig, err := sign.Sign(o.Key.skey, f.raw, sign.Meta{Version: x.Version, Expires: x.Expires})
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", dir, err)
	}
	if err := writeAtomic(filepath.Join(dir, SigFile), sig); err != nil {
		return nil, fmt.Errorf("sign %s: write %s: %w", dir, SigFile, err)
	}
	return &Result{Changed: true, Previous: prev, Version: x.Version, Expires: x.Expires, KeyID: o.Key.ID(), Warnings: f.warn}, nil
}

// ErrArtifact is wrapped by VerifyArtifacts' errors.
var ErrArtifact = errors.New("artifact does not match the index")

// VerifyArtifacts checks that every artifact the index names by a relative
// URL is a regular file inside dir whose size and SHA-256 are the ones the
// index gives. Absolute URLs (another host or folder) are not checked. The
// error lists every bad artifact.
func VerifyArtifacts(ctx context.Context, dir string, x *index.Index) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	var bad []string
	for _, name := range x.Names() {
		s := x.Skills[name]
		for _, v := range s.Sorted() {
			r := s.Versions[v]
			for _, plat := range sortedKeys(r.Artifacts) {
				if err := ctx.Err(); err != nil {
					return err
				}
				a := r.Artifacts[plat]
				if err := checkArtifact(root, a); err != nil {
					bad = append(bad, fmt.Sprintf("%s %s %s: %v", name, v, plat, err))
				}
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w:\n  %s", ErrArtifact, strings.Join(bad, "\n  "))
	}
	return nil
}

func checkArtifact(root *os.Root, a index.Artifact) error {
	u, err := url.Parse(a.URL)
	if err != nil {
		return err
	}
	if u.Scheme != "" || u.Host != "" {
		return nil // hosted elsewhere
	}
	p := path.Clean(u.Path)
	file, err := root.Open(filepath.FromSlash(p))
	if err != nil {
		return fmt.Errorf("%s: %w", a.URL, err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", a.URL, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", a.URL)
	}
	if st.Size() != a.Size {
		return fmt.Errorf("%s: %d bytes, the index says %d", a.URL, st.Size(), a.Size)
	}
	h := sha256.New()
	if _, err := io.Copy(h, file); err != nil {
		return fmt.Errorf("%s: %w", a.URL, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != a.SHA256 {
		return fmt.Errorf("%s: sha256 %s, the index says %s", a.URL, got, a.SHA256)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
