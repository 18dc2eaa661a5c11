package install

import (
	"fmt"

	"github.com/skillsdev/skills/marketplace/lock"
	"github.com/skillsdev/skills/marketplace/store"
)

// Problem is one installed file that is not as the lock records.
type Problem struct {
	Skill, Version string
	Dir            string // the store entry
	Path           string // slash path in the entry; "" for the whole entry
	Kind           string // "missing", "modified" or "unexpected"
}

func (p Problem) String() string {
	if p.Path == "" {
		return fmt.Sprintf("%s %s: store entry %s %s", p.Skill, p.Version, p.Dir, p.Kind)
	}
	return fmt.Sprintf("%s %s: %s/%s %s", p.Skill, p.Version, p.Dir, p.Path, p.Kind)
}

// Verify re-hashes every installed store entry against the lock and returns
// every tampered, missing or unexpected file, by skill then path. It also
// returns how many skills it checked.
func Verify(home string) ([]Problem, int, error) {
	l, err := lock.Load(home)
	if err != nil {
		return nil, 0, err
	}
	st, err := store.Open(storePath(home))
	if err != nil {
		return nil, 0, err
	}
	var out []Problem
	for _, n := range l.Names() {
		e := l.Skills[n]
		probs, err := st.Verify(e.SHA256, e.Files)
		if err != nil {
			return nil, 0, err
		}
		for _, p := range probs {
			out = append(out, Problem{Skill: n, Version: e.Version, Dir: st.Path(e.SHA256), Path: p.Path, Kind: p.Kind})
		}
	}
	return out, len(l.Skills), nil
}
