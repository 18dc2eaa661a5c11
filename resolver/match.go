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
	// byKey: a ">", ">=", "<" or "<=" against a full release version
	// ("1.2.3", no wildcard, no prerelease), which Masterminds decides for
	// a release version by Version.Compare, that is by its three numbers:
	// the bound is found by comparing key with the release keys, without
	// calling Check (whose failures format an error each).
	byKey bool
	key   [3]uint64
}

type parsedConstraint struct {
	c      *semver.Constraints
	label  labelID         // the text it was parsed from, as a term label
	exact  *semver.Version // the version an exact requirement names, or nil
	split  bool            // groups and ok are set (see comparators)
	groups [][]comparator
	ok     bool // false: check every version
}

var comparatorRe = regexp.MustCompile(`^(!=|>=|=>|<=|=<|~>|>|<|=|~|\^)?(v?([0-9]+|[xX*])(?:\.([0-9]+|[xX*]))?(?:\.([0-9]+|[xX*]))?(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$`)

// parseConstraint returns what the solver keeps about constraint c,
// cached by raw, the text c was parsed from.
func (s *solver) parseConstraint(raw string, c *semver.Constraints) *parsedConstraint {
	if pc, ok := s.parsed[raw]; ok {
		return pc
	}
	pc := &parsedConstraint{c: c, label: labelID(len(s.labels))}
	s.labels = append(s.labels, raw)
	s.parsed[raw] = pc
	pc.exact, _ = exactVersion(raw)
	return pc
}

// comparators splits the canonical form of pc.c (Constraints.String: groups
// joined by " || ", comparators by single spaces) into comparators, on
// first use: exact requirements, the most numerous kind on large
// registries, never need them, and this parse was most of their cost.
func (pc *parsedConstraint) comparators() {
	if pc.split {
		return
	}
	pc.split, pc.ok = true, true
	for _, g := range strings.Split(pc.c.String(), " || ") {
		var group []comparator
		for _, tok := range strings.Split(g, " ") {
			m := comparatorRe.FindStringSubmatch(tok)
			if m == nil || m[1] == "!=" {
				pc.ok = false
				return
			}
			single, err := semver.NewConstraint(tok)
			if err != nil {
				pc.ok = false
				return
			}
			cmp := comparator{op: m[1], single: single}
			switch m[1] {
			case ">", ">=", "=>", "<", "<=", "=<":
				if isNum(m[3]) && isNum(m[4]) && isNum(m[5]) {
					if v, err := semver.NewVersion(m[2]); err == nil && v.Prerelease() == "" {
						cmp.byKey, cmp.key = true, [3]uint64{v.Major(), v.Minor(), v.Patch()}
					}
				}
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
					return
				}
				cmp.base = base
				cmp.exact = (m[1] == "" || m[1] == "=") && isNum(m[3]) && isNum(m[4]) && isNum(m[5])
			}
			group = append(group, cmp)
		}
		pc.groups = append(pc.groups, group)
	}
}

// matchSet returns the versions of p that c accepts (by Check semantics),
// in words just taken from the arena (see matchSetID).
func (s *solver) matchSet(p *pkg, pc *parsedConstraint, c *semver.Constraints) bitset {
	_, set := s.matchSetID(p, pc, c)
	return set
}

// matchSetID is matchSet, also returning the set's id, not yet sealed: the
// caller may still narrow the set in place, then seals it.
func (s *solver) matchSetID(p *pkg, pc *parsedConstraint, c *semver.Constraints) (setID, bitset) {
	id, set := s.a.alloc(p.w())
	pc.comparators()
	if !pc.ok {
		for i, cand := range p.cands {
			if c.Check(cand.Version) {
				set.set(i)
			}
		}
		return id, set
	}
	n := p.releases()
	for _, g := range pc.groups {
		lo, hi := 0, n
		for _, cmp := range g {
			if lo >= hi {
				break
			}
			check := func(i int) bool { return cmp.single.Check(p.ver(p.relAt(i))) }
			switch cmp.op {
			case ">", ">=", "=>":
				if cmp.byKey {
					lo = max(lo, p.releaseSearch(cmp.key, cmp.op == ">"))
				} else {
					lo = max(lo, sort.Search(n, check))
				}
			case "<", "<=", "=<":
				if cmp.byKey {
					hi = min(hi, p.releaseSearch(cmp.key, cmp.op != "<"))
				} else {
					hi = min(hi, sort.Search(n, func(i int) bool { return !check(i) }))
				}
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
			set.set(p.relAt(i))
		}
	}
	for _, i := range p.pre {
		if c.Check(p.ver(i)) {
			set.set(i)
		}
	}
	return id, set
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

// packKey packs a release version's numbers into one ordered key, which
// is how most packages' release versions are kept (8 bytes each instead of
// 24); it reports false when they do not fit.
func packKey(major, minor, patch uint64) (uint64, bool) {
	if major >= 1<<22 || minor >= 1<<21 || patch >= 1<<21 {
		return 0, false
	}
	return major<<42 | minor<<21 | patch, true
}

// releases returns how many of p's versions are releases (no
// prerelease), building relKeys (or relWide), relPos and pre on first use.
func (p *pkg) releases() int {
	if !p.relDone {
		p.relDone = true
		p.relKeys = make([]uint64, 0, p.n())
		for i, cand := range p.cands {
			v := cand.Version
			if v.Prerelease() != "" {
				if p.relPos == nil { // the first prerelease: positions stop being the identity
					p.relPos = make([]int32, len(p.pre)+len(p.relKeys)+len(p.relWide), p.n())
					for j := range p.relPos {
						p.relPos[j] = int32(j)
					}
				}
				p.pre = append(p.pre, i)
				continue
			}
			if p.relPos != nil {
				p.relPos = append(p.relPos, int32(i))
			}
			k3 := [3]uint64{v.Major(), v.Minor(), v.Patch()}
			if p.relWide != nil {
				p.relWide = append(p.relWide, k3)
				continue
			}
			if k, ok := packKey(k3[0], k3[1], k3[2]); ok {
				p.relKeys = append(p.relKeys, k)
				continue
			}
			// Too wide to pack: keep all three numbers of every version.
			p.relWide = make([][3]uint64, len(p.relKeys), p.n())
			for j, k := range p.relKeys {
				p.relWide[j] = unpackKey(k)
			}
			p.relWide = append(p.relWide, k3)
			p.relKeys = nil
		}
	}
	if p.relWide != nil {
		return len(p.relWide)
	}
	return len(p.relKeys)
}

func unpackKey(k uint64) [3]uint64 { return [3]uint64{k >> 42, k >> 21 & (1<<21 - 1), k & (1<<21 - 1)} }

// relKey returns the numbers of the j-th release version.
func (p *pkg) relKey(j int) [3]uint64 {
	if p.relWide != nil {
		return p.relWide[j]
	}
	return unpackKey(p.relKeys[j])
}

// relAt returns the version index of the j-th release version.
func (p *pkg) relAt(j int) int {
	if p.relPos == nil {
		return j
	}
	return int(p.relPos[j])
}

// releaseLowerBound returns the position in releases() of the first
// release version >= base, a release version. Release versions order by
// their three numbers alone, so no Version.Compare is needed.
func (p *pkg) releaseLowerBound(base *semver.Version) int {
	return p.releaseSearch([3]uint64{base.Major(), base.Minor(), base.Patch()}, false)
}

// releaseSearch returns the position in releases() of the first release
// version whose numbers are above k, or at least k when not strict.
func (p *pkg) releaseSearch(k [3]uint64, strict bool) int {
	n := p.releases()
	if packed, ok := packKey(k[0], k[1], k[2]); ok && p.relWide == nil {
		keys := p.relKeys
		lo, hi := 0, n
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if keys[m] < packed || strict && keys[m] == packed {
				lo = m + 1
			} else {
				hi = m
			}
		}
		return lo
	}
	return sort.Search(n, func(i int) bool {
		r := p.relKey(i)
		for d := range 3 {
			if r[d] != k[d] {
				return r[d] > k[d]
			}
		}
		return !strict
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
