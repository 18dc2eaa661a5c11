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
	// terms is nil for a step of conflict resolution not yet rebuilt (see
	// conflict); solver.terms returns it in any case.
	terms  []term
	c1, c2 int32 // causes, for causeConflict
	pivot  pkgID // for causeConflict: the package c1 and c2 were resolved on
	note   int32 // index in solver.notes of extra words for external causes (pinned version, yanked matches); 0 for none
	kind   causeKind
}

// incStore holds every incompatibility, by id, in fixed chunks: growing it
// never copies them, and ids need no table of pointers.
type incStore struct {
	chunks [][]incompat
	n      int32
}

const incShift = 10

func (st *incStore) at(id int32) *incompat {
	return &st.chunks[id>>incShift][id&(1<<incShift-1)]
}

func (st *incStore) len() int32 { return st.n }

// add returns the id and storage of a new incompatibility.
func (st *incStore) add() (int32, *incompat) {
	if int(st.n>>incShift) == len(st.chunks) {
		st.chunks = append(st.chunks, make([]incompat, 1<<incShift))
	}
	id := st.n
	st.n++
	return id, st.at(id)
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
