package install

import (
	"fmt"

	"github.com/skillsdev/skills/marketplace/catalog"
	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/lock"
	"github.com/skillsdev/skills/marketplace/store"
	"github.com/skillsdev/skills/sdk/manifest"
)

// Skill is an installed skill as the host loads it.
type Skill struct {
	Name, Version string
	Dir           string             // the store entry: SKILL.md and the artifact
	Manifest      *manifest.Manifest // File and Dir point into the store
	// ArtifactSHA256 is the digest the lock records for the artifact; the
	// host refuses to run a file with another ("" for instructions skills).
	ArtifactSHA256 string
	Registry       string
	// Deprecated is the registry's deprecation of this version when the
	// catalog given to Installed knows it; nil otherwise.
	Deprecated *index.Deprecation
}

// Installed returns every installed skill, dependencies first, with its
// manifest read from the store. cat, when not nil, supplies deprecations.
// A missing or unreadable store entry is an error naming the skill: run
// `skills verify` and `skills install --frozen` to repair it.
func Installed(home string, cat *catalog.Catalog) ([]Skill, error) {
	l, err := lock.Load(home)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(storePath(home))
	if err != nil {
		return nil, err
	}
	out := make([]Skill, 0, len(l.Skills))
	for _, n := range l.Order() {
		e := l.Skills[n]
		m, err := st.Load(e.SHA256)
		if err != nil {
			return nil, fmt.Errorf("installed skill %s %s: %w (`skills verify` shows the damage, `skills install --frozen` restores it)", n, e.Version, err)
		}
		s := Skill{Name: n, Version: e.Version, Dir: st.Path(e.SHA256), Manifest: m, Registry: e.Registry}
		if e.Artifact != nil {
			s.ArtifactSHA256 = e.Artifact.SHA256
		}
		if cat != nil {
			if r := cat.Registry(e.Registry); r != nil {
				if rel, err := r.Fetched.Index.Lookup(n, e.Version); err == nil {
					s.Deprecated = rel.Deprecated
				}
			}
		}
		out = append(out, s)
	}
	return out, nil
}
