package install

import (
	"github.com/Masterminds/semver/v3"

	"github.com/skillsdev/skills/marketplace/catalog"
	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/lock"
)

// Status is an installed skill compared with what its registry offers.
type Status struct {
	Name     string
	Current  string // the installed version
	Wanted   string // the highest version every constraint on it allows (and its pin); "" if none
	Latest   string // the highest installable version; "" if none
	Registry string // the registry serving the name now ("" if none does)

	Requested  string    // the user's constraint; "" for a dependency
	Pinned     *lock.Pin // nil unless pinned
	Deprecated *index.Deprecation
	Yanked     *index.Yank
	Missing    bool // no registry lists the installed version any more
}

// Outdated compares every installed skill (sorted by name) with cat.
// Wanted honours the requested constraint, the constraints of the installed
// skills that require it, and its pin; yanked versions are not wanted
// unless installed. Latest skips prereleases unless one is installed.
func Outdated(l *lock.Lock, cat *catalog.Catalog) []Status {
	var out []Status
	for _, n := range l.Names() {
		e := l.Skills[n]
		st := Status{Name: n, Current: e.Version, Requested: e.Requested, Pinned: e.Pinned}
		r, sk := cat.Find(n)
		if sk == nil {
			st.Missing = true
			out = append(out, st)
			continue
		}
		st.Registry = r.Name()
		if rel, ok := sk.Versions[e.Version]; ok {
			st.Deprecated, st.Yanked = rel.Deprecated, rel.Yanked
		} else {
			st.Missing = true
		}
		cur, _ := semver.StrictNewVersion(e.Version)
		pre := cur != nil && cur.Prerelease() != ""
		st.Latest, _, _ = r.Fetched.Index.Latest(n, pre)

		var cs []*semver.Constraints
		add := func(raw string) {
			if c, err := semver.NewConstraint(raw); err == nil {
				cs = append(cs, c)
			}
		}
		if e.Requested != "" {
			add(e.Requested)
		}
		for _, d := range l.Dependents(n) {
			add(l.Skills[d].Requires[n])
		}
		if e.Pinned != nil {
			add("=" + e.Pinned.Version)
		}
		vs := sk.Sorted()
		for i := len(vs) - 1; i >= 0; i-- {
			v, err := semver.StrictNewVersion(vs[i])
			if err != nil {
				continue
			}
			if sk.Versions[vs[i]].Yanked != nil && vs[i] != e.Version {
				continue
			}
			ok := true
			for _, c := range cs {
				if !c.Check(v) {
					ok = false
					break
				}
			}
			if ok {
				st.Wanted = vs[i]
				break
			}
		}
		out = append(out, st)
	}
	return out
}
