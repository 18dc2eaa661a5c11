package reload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/skillsdev/skills/sdk/build"
	"github.com/skillsdev/skills/sdk/manifest"
)

// Rebuild builds the skill in the source folder dir when its artifact is
// missing or older than its Go sources (sdk/build.Stale), and says whether
// it built. Instructions skills and folders without Go sources (a prebuilt
// artifact) are never built. It returns the parsed manifest, also when the
// build fails, if SKILL.md parsed.
//
// Builds of one folder are serialized across processes (`skills dev` and a
// watching agent may both react to the same save): the second finds the
// artifact fresh and does not build again.
//
// The artifact's modification time is set to that of the newest source the
// build saw, so a file saved while the build ran still counts as newer and
// the next Rebuild builds again instead of keeping a build of the old text.
func Rebuild(ctx context.Context, dir string) (m *manifest.Manifest, built bool, err error) {
	m, err = manifest.Load(dir)
	if err != nil {
		return nil, false, err
	}
	if m.Runtime == manifest.RuntimeInstructions || m.Entry == "" {
		return m, false, nil
	}
	src, err := hasGoSource(dir)
	if err != nil || !src {
		return m, false, err
	}
	if stale, err := build.Stale(dir, m.Entry); err != nil || !stale {
		return m, false, err
	}
	unlock, err := lockBuild(ctx, dir)
	if err != nil {
		return m, false, fmt.Errorf("build %s: %w", m.Name, err)
	}
	defer unlock()
	// Another process may have built it while this one waited.
	if stale, err := build.Stale(dir, m.Entry); err != nil || !stale {
		return m, false, err
	}
	newest, err := newestSource(dir)
	if err != nil {
		return m, false, fmt.Errorf("build %s: %w", m.Name, err)
	}
	out, err := build.Build(ctx, build.Options{Dir: dir, Runtime: m.Runtime, Output: m.Entry})
	if err != nil {
		return m, false, err
	}
	if !newest.IsZero() {
		if err := os.Chtimes(out, newest, newest); err != nil {
			return m, true, fmt.Errorf("build %s: %w", m.Name, err)
		}
	}
	return m, true, nil
}

func hasGoSource(dir string) (bool, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("build %s: %w", dir, err)
	}
	for _, d := range des {
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".go") && !strings.HasSuffix(d.Name(), "_test.go") {
			return true, nil
		}
	}
	return false, nil
}

// newestSource is the latest modification time among the files that
// build.Stale compares with the artifact, walked by the same rules.
func newestSource(dir string) (time.Time, error) {
	var newest time.Time
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir {
				if _, err := os.Stat(filepath.Join(p, manifest.FileName)); err == nil {
					return filepath.SkipDir
				}
				if n := d.Name(); n == "testdata" || strings.HasPrefix(n, ".") {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if n := d.Name(); strings.HasSuffix(n, ".go") || n == "go.mod" || n == "go.sum" {
			info, err := d.Info()
			if err != nil {
				return err
			}
			if info.ModTime().After(newest) {
				newest = info.ModTime()
			}
		}
		return nil
	})
	return newest, err
}

// buildLockPath names the lock file of builds of dir, outside the folder so
// that taking it makes no file event there.
func buildLockPath(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(os.TempDir(), "skills-build-"+hex.EncodeToString(sum[:8])+".lock")
}
