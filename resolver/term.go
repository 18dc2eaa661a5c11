package resolver

// pkgID indexes solver.pkgs; the root is 0.
type pkgID int32

const rootID pkgID = 0

// labelID indexes solver.labels, the constraints as written; 0 is none.
type labelID int32

// term is a statement about one package: positive, "the selected version is
// in set"; negative, "the package is not selected, or its version is not in
// set". A negative term therefore also holds when the package is absent.
type term struct {
	pkg   pkgID
	set   setID
	label labelID // the constraint as written, kept while the set is unchanged
	pos   bool
}

func (t term) negate() term { return term{pkg: t.pkg, pos: !t.pos, set: t.set, label: t.label} }

// tautology reports a term true in every world (not in ∅).
func (t term) tautology() bool { return !t.pos && t.set == emptySet }

// intersect and union keep an operand's label when the result is that
// operand; a new set gets no label and is printed from its versions.
func (a *arena) intersect(x, y term) term {
	// Most intersections leave one side unchanged; return it rather than
	// allocate a copy.
	if a.subset(x, y) {
		return x
	}
	if a.subset(y, x) {
		return y
	}
	w := int(a.width[x.pkg])
	r := term{pkg: x.pkg}
	switch {
	case x.pos && y.pos:
		r.pos, r.set = true, a.and(x.set, y.set, w)
	case x.pos:
		r.pos, r.set = true, a.andNot(x.set, y.set, w)
	case y.pos:
		r.pos, r.set = true, a.andNot(y.set, x.set, w)
	default:
		r.set = a.or(x.set, y.set, w)
	}
	return r
}

func (a *arena) union(x, y term) term {
	if a.subset(x, y) {
		return y
	}
	if a.subset(y, x) {
		return x
	}
	w := int(a.width[x.pkg])
	r := term{pkg: x.pkg}
	switch {
	case x.pos && y.pos:
		r.pos, r.set = true, a.or(x.set, y.set, w)
	case x.pos:
		r.set = a.andNot(y.set, x.set, w)
	case y.pos:
		r.set = a.andNot(x.set, y.set, w)
	default:
		r.set = a.and(x.set, y.set, w)
	}
	return r
}

// subset reports x ⊆ y: every world where x holds, y holds.
func (a *arena) subset(x, y term) bool {
	switch {
	case x.pos && y.pos:
		return x.set == y.set || x.set == emptySet || a.of(x).subsetOf(a.of(y))
	case x.pos:
		return x.set == emptySet || y.set == emptySet || a.of(x).disjoint(a.of(y))
	case y.pos:
		return false // x allows "not selected", y does not
	default:
		return x.set == y.set || y.set == emptySet || a.of(y).subsetOf(a.of(x))
	}
}

// disjointWith reports that x and y never hold together.
func (a *arena) disjointWith(x, y term) bool {
	switch {
	case x.pos && y.pos:
		return x.set == emptySet || y.set == emptySet || a.of(x).disjoint(a.of(y))
	case x.pos:
		return x.set == y.set || x.set == emptySet || a.of(x).subsetOf(a.of(y))
	case y.pos:
		return x.set == y.set || y.set == emptySet || a.of(y).subsetOf(a.of(x))
	default:
		return false // both hold when the package is absent
	}
}

// meetSubset reports x ∩ y ⊆ z, for terms of one package, without building
// x ∩ y: conflict resolution asks this of many earlier assignments.
func (a *arena) meetSubset(x, y, z term) bool {
	pos := x.pos || y.pos
	if !pos && z.pos {
		return false // x ∩ y allows "not selected", z does not
	}
	w := int(a.width[x.pkg])
	xs, ys, zs := a.get(x.set, w), a.get(y.set, w), a.get(z.set, w)
	for i := range w {
		// m: the versions x ∩ y allows when pos, else those it excludes.
		var m uint64
		switch {
		case x.pos && y.pos:
			m = xs[i] & ys[i]
		case x.pos:
			m = xs[i] &^ ys[i]
		case y.pos:
			m = ys[i] &^ xs[i]
		default:
			m = xs[i] | ys[i]
		}
		switch {
		case pos && z.pos:
			if m&^zs[i] != 0 {
				return false
			}
		case pos:
			if m&zs[i] != 0 {
				return false
			}
		default:
			if zs[i]&^m != 0 {
				return false
			}
		}
	}
	return true
}
