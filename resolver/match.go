package resolver

import (
	"regexp"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Checking every known version against every requirement costs one
// Constraints.Check per pair, and a failing Check formats an error, so on
// registries with many versions it dominated solving. Over release versions
// (no prerelease), each comparator Masterminds supports except "!=" accepts
// a contiguous run of the sorted versions: ">", ">=" a suffix, "<", "<=" a
// prefix, and "=", "~", "^" and x-ranges a run starting at the comparator's
// own version. So the set is found with a few Checks per comparator, each
// comparator checked on its own with Check, by binary and galloping search.
// Prerelease versions (whose acceptance depends on the whole group) are
// still checked one by one, and anything not in this shape (a "!=", a form
// the tokenizer does not know) falls back to checking every version.
// TestMatchSetAgreesWithCheck and FuzzMatchSet hold the two paths equal.

// comparator is one "op version" of an AND group.
type comparator struct {
	op     string
	single *semver.Constraints // the comparator alone
	base   *semver.Version     // for run operators: where the run starts
	exact  bool                // "=1.2.3": the run is at most one version
}

type parsedConstraint struct {
	c      *semver.Constraints
	groups [][]comparator
	ok     bool            // false: check every version
	exact  *semver.Version // the version an exact requirement names, or nil
}

var comparatorRe = regexp.MustCompile(`^(!=|>=|=>|<=|=<|~>|>|<|=|~|\^)?(v?([0-9]+|[xX*])(?:\.([0-9]+|[xX*]))?(?:\.([0-9]+|[xX*]))?(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$`)

// parseConstraint splits the canonical form of c (Constraints.String: groups
// joined by " || ", comparators by single spaces) into comparators. It is
// cached by raw, the text c was parsed from.
func (s *solver) parseConstraint(raw string, c *semver.Constraints) *parsedConstraint {
	if pc, ok := s.parsed[raw]; ok {
		return pc
	}
	pc := &parsedConstraint{c: c, ok: true}
	s.parsed[raw] = pc
	pc.exact, _ = exactVersion(raw)
	for _, g := range strings.Split(c.String(), " || ") {
		var group []comparator
		for _, tok := range strings.Split(g, " ") {
			m := comparatorRe.FindStringSubmatch(tok)
			if m == nil || m[1] == "!=" {
				pc.ok = false
				return pc
			}
			single, err := semver.NewConstraint(tok)
			if err != nil {
				pc.ok = false
				return pc
			}
			cmp := comparator{op: m[1], single: single}
			switch m[1] {
			case "", "=", "~", "~>", "^":
				// As Masterminds does: from the first wildcard or missing
				// part on, every part is zero ("1.x.3" is 1.0.0).
				parts := []string{m[3], m[4], m[5]}
				for i, p := range parts {
					if !isNum(p) {
						for j := i; j < len(parts); j++ {
							parts[j] = "0"
						}
						break
					}
				}
				base, err := semver.NewVersion(strings.Join(parts, "."))
				if err != nil {
					pc.ok = false
					return pc
				}
				cmp.base = base
				cmp.exact = (m[1] == "" || m[1] == "=") && isNum(m[3]) && isNum(m[4]) && isNum(m[5])
			}
			group = append(group, cmp)
		}
		pc.groups = append(pc.groups, group)
	}
	return pc
}

// matchSet returns the versions of p that c accepts (by Check semantics).
func (s *solver) matchSet(p *pkg, pc *parsedConstraint, c *semver.Constraints) bitset {
	set := s.a.bits(p.n())
	if !pc.ok {
		for i, v := range p.versions {
			if c.Check(v) {
				set.set(i)
			}
		}
		return set
	}
	rel := p.releases()
	n := len(rel)
	for _, g := range pc.groups {
		lo, hi := 0, n
		for _, cmp := range g {
			if lo >= hi {
				break
			}
			check := func(i int) bool { return cmp.single.Check(p.versions[rel[i]]) }
			switch cmp.op {
			case ">", ">=", "=>":
				lo = max(lo, sort.Search(n, check))
			case "<", "<=", "=<":
				hi = min(hi, sort.Search(n, func(i int) bool { return !check(i) }))
			default:
				start := p.releaseLowerBound(cmp.base)
				end := start
				if start < n && check(start) {
					end = start + 1
					if !cmp.exact { // versions are unique, so "=" matches one
						end = firstFalse(start+1, n, check)
					}
				}
				lo, hi = max(lo, start), min(hi, end)
			}
		}
		for i := lo; i < hi; i++ {
			set.set(rel[i])
		}
	}
	for _, i := range p.pre {
		if c.Check(p.versions[i]) {
			set.set(i)
		}
	}
	return set
}

// firstFalse returns the first i in [lo, n) where f is false, given that f
// is true up to some point and false after it; it gallops from lo, so a
// short run costs a couple of calls.
func firstFalse(lo, n int, f func(int) bool) int {
	known, hi, step := lo, n, 1
	for known < n {
		probe := min(known+step-1, n-1)
		if !f(probe) {
			hi = probe
			break
		}
		known = probe + 1
		step *= 2
	}
	if known >= hi {
		return hi
	}
	return known + sort.Search(hi-known, func(k int) bool { return !f(known + k) })
}

// releases lists the indexes of p's release versions, ascending, and
// fills p.pre with the others and p.relKeys with the release numbers.
func (p *pkg) releases() []int {
	if p.rel == nil {
		p.rel = make([]int, 0, p.n())
		p.relKeys = make([][3]uint64, 0, p.n())
		for i, v := range p.versions {
			if v.Prerelease() == "" {
				p.rel = append(p.rel, i)
				p.relKeys = append(p.relKeys, [3]uint64{v.Major(), v.Minor(), v.Patch()})
			} else {
				p.pre = append(p.pre, i)
			}
		}
	}
	return p.rel
}

// releaseLowerBound returns the position in releases() of the first
// release version >= base, a release version. Release versions order by
// their three numbers alone, so no Version.Compare is needed.
func (p *pkg) releaseLowerBound(base *semver.Version) int {
	p.releases()
	k := [3]uint64{base.Major(), base.Minor(), base.Patch()}
	return sort.Search(len(p.relKeys), func(i int) bool {
		r := p.relKeys[i]
		if r[0] != k[0] {
			return r[0] > k[0]
		}
		if r[1] != k[1] {
			return r[1] > k[1]
		}
		return r[2] >= k[2]
	})
}

func isNum(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
