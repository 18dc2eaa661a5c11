package resolver

// pkgID indexes solver.pkgs; the root is 0.
type pkgID int32

const rootID pkgID = 0

// term is a statement about one package: positive, "the selected version is
// in set"; negative, "the package is not selected, or its version is not in
// set". A negative term therefore also holds when the package is absent.
type term struct {
	pkg   pkgID
	pos   bool
	set   bitset
	label string // the constraint as written, kept while the set is unchanged
}

func (t term) negate() term { return term{pkg: t.pkg, pos: !t.pos, set: t.set, label: t.label} }

func (t term) same(o term) bool { return t.pos == o.pos && t.set.equal(o.set) }

// tautology reports a term true in every world (not in ∅).
func (t term) tautology() bool { return !t.pos && t.set.empty() }

// intersect and union keep an operand's label when the result is that
// operand; a new set gets no label and is printed from its versions.
func intersect(ar *arena, a, b term) term {
	// Most intersections leave one side unchanged; return it rather than
	// allocate a copy.
	if a.subsetOf(b) {
		return a
	}
	if b.subsetOf(a) {
		return b
	}
	r := term{pkg: a.pkg}
	switch {
	case a.pos && b.pos:
		r.pos, r.set = true, ar.and(a.set, b.set)
	case a.pos:
		r.pos, r.set = true, ar.andNot(a.set, b.set)
	case b.pos:
		r.pos, r.set = true, ar.andNot(b.set, a.set)
	default:
		r.set = ar.or(a.set, b.set)
	}
	return r
}

func union(ar *arena, a, b term) term {
	if a.subsetOf(b) {
		return b
	}
	if b.subsetOf(a) {
		return a
	}
	r := term{pkg: a.pkg}
	switch {
	case a.pos && b.pos:
		r.pos, r.set = true, ar.or(a.set, b.set)
	case a.pos:
		r.set = ar.andNot(b.set, a.set)
	case b.pos:
		r.set = ar.andNot(a.set, b.set)
	default:
		r.set = ar.and(a.set, b.set)
	}
	return r
}

// subsetOf reports a ⊆ b: every world where a holds, b holds.
func (a term) subsetOf(b term) bool {
	switch {
	case a.pos && b.pos:
		return a.set.subsetOf(b.set)
	case a.pos:
		return a.set.disjoint(b.set)
	case b.pos:
		return false // a allows "not selected", b does not
	default:
		return b.set.subsetOf(a.set)
	}
}

// disjointWith reports that a and b never hold together.
func (a term) disjointWith(b term) bool {
	switch {
	case a.pos && b.pos:
		return a.set.disjoint(b.set)
	case a.pos:
		return a.set.subsetOf(b.set)
	case b.pos:
		return b.set.subsetOf(a.set)
	default:
		return false // both hold when the package is absent
	}
}
