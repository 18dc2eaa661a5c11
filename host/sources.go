package host

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/skillsdev/skills/sdk/manifest"
)

// DirSources returns the skills in dirs plus, transitively, the skills they
// require, looked up as folders beside the requiring skill's folder (so
// skills/report finds skills/summarize). A requirement not found there is
// left out: an installed copy may provide it, and the call reports it if
// nothing does.
func DirSources(dirs ...string) ([]Source, error) {
	seen := map[string]bool{}
	var out []Source
	var visit func(dir string, explicit bool) error
	visit = func(dir string, explicit bool) error {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("load %s: %w", dir, err)
		}
		if _, err := os.Stat(filepath.Join(abs, "SKILL.md")); err != nil && !explicit {
			return nil
		}
		m, err := manifest.Load(abs)
		if err != nil {
			return err
		}
		if seen[m.Name] {
			return nil
		}
		seen[m.Name] = true
		out = append(out, Source{Dir: abs, Manifest: m, Origin: "dir"})
		for _, r := range m.Requires {
			if err := visit(filepath.Join(filepath.Dir(abs), r.Name), false); err != nil {
				return err
			}
		}
		return nil
	}
	for _, d := range dirs {
		if err := visit(d, true); err != nil {
			return nil, err
		}
	}
	return out, nil
}
