package resolver

// causeKind says where an incompatibility came from.
type causeKind uint8

const (
	causeRoot       causeKind = iota // {not root}: the root must be selected
	causeDependency                  // {depender, not dependee}
	causeNoVersions                  // {p S}: no allowed version of p is in S
	causePinned                      // {p all-but-pin}: p is pinned
	causeSelfDep                     // {p R\S}: versions R of p require p S (note: S as written)
	causeConflict                    // derived from two others in conflict resolution
)

// incompat is a set of terms that must not all hold. Terms are kept in a
// stable order (it shapes the wording of explanations) with at most one term
// per package.
type incompat struct {
	terms  []term
	kind   causeKind
	c1, c2 int32  // causes, for causeConflict
	note   string // extra words for external causes (pinned version, yanked matches)
}

func (in *incompat) external() bool { return in.kind != causeConflict }

// isFailure reports the incompatibility that ends solving: no terms, or only
// "root is selected", not counting tautological terms (a dependency on a
// constraint no known version meets says the same as its depender alone).
func (in *incompat) isFailure() bool {
	n, root := 0, false
	for _, t := range in.terms {
		if t.tautology() {
			continue
		}
		n++
		root = t.pkg == rootID && t.pos
	}
	return n == 0 || (n == 1 && root)
}

func (in *incompat) termFor(p pkgID) (term, bool) {
	for _, t := range in.terms {
		if t.pkg == p {
			return t, true
		}
	}
	return term{}, false
}

// priorCause applies generalized resolution: from {t1, q...} (in) and
// {t2, r...} (cause), both mentioning p, derive {t1 ∪ t2, q..., r...}, where
// terms on the same other package are intersected, a tautological term is
// dropped, and the positive root term is dropped unless it is alone.
func priorCause(ar *arena, in, cause *incompat, p pkgID) []term {
	terms := ar.termSlice(len(in.terms) + len(cause.terms))
	t2, _ := cause.termFor(p)
	for _, t := range in.terms {
		if t.pkg == p {
			if u := union(ar, t, t2); !u.tautology() {
				terms = append(terms, u)
			}
			continue
		}
		if !t.tautology() {
			terms = append(terms, t)
		}
	}
next:
	for _, t := range cause.terms {
		if t.pkg == p || t.tautology() {
			continue
		}
		for i := range terms {
			if terms[i].pkg == t.pkg {
				terms[i] = intersect(ar, terms[i], t)
				continue next
			}
		}
		terms = append(terms, t)
	}
	if len(terms) > 1 {
		kept := terms[:0]
		for _, t := range terms {
			if !(t.pkg == rootID && t.pos) {
				kept = append(kept, t)
			}
		}
		terms = kept
	}
	return terms
}
