package resolver

import "math/bits"

// bitset is a set of version indexes of one package (bit i is the i-th
// version in ascending order). Every bitset of a package has the same length,
// and bits past the package's version count are always zero.
type bitset []uint64

// setID names an immutable bitset kept in the arena. Terms hold a setID
// rather than a slice so that terms, assignments and the arena's chunks of
// them contain no pointers: a solve builds a hundred thousand of each on the
// backtracking benchmarks, and both their size and the collector's work
// scanning them were a large part of its cost.
type setID int32

// emptySet is the empty set of every package. Every operation returns it
// for an empty result, so a set's emptiness is a comparison.
const emptySet setID = -1

// arena hands out the solver's sets, terms and incompatibilities from large
// chunks. A solve creates tens of thousands of these small immutable
// values; allocating them one by one made the garbage collector the
// biggest cost on the backtracking benchmarks.
type arena struct {
	chunks [][]uint64 // set words; a setID is chunk<<chunkShift | offset
	cur    []uint64   // the last chunk
	used   int        // words of cur handed out
	width  []int32    // words per set, by package
	zeros  []uint64   // what emptySet reads as, as long as the widest package; never written
	terms  []term
}

const (
	chunkShift = 13
	chunkWords = 1 << chunkShift
	termChunk  = 1 << 10
)

// addPkg records the width of the sets of a new package of n versions.
func (a *arena) addPkg(n int) {
	w := (n + 63) / 64
	a.width = append(a.width, int32(w))
	if w > len(a.zeros) {
		a.zeros = make([]uint64, w)
	}
}

// alloc returns a new zeroed set of w words, to be filled and then sealed.
// A set wider than a chunk gets a chunk of its own (at offset 0).
func (a *arena) alloc(w int) (setID, bitset) {
	if a.used+w > len(a.cur) {
		a.cur = make([]uint64, max(chunkWords, w))
		a.chunks = append(a.chunks, a.cur)
		a.used = 0
	}
	id := setID(len(a.chunks)-1)<<chunkShift | setID(a.used)
	b := a.cur[a.used : a.used+w : a.used+w]
	a.used += w
	return id, b
}

// seal finishes the set b that the last alloc returned as id: an empty one
// is given back and emptySet returned instead.
func (a *arena) seal(id setID, b bitset) setID {
	if b.empty() {
		a.used -= len(b)
		return emptySet
	}
	return id
}

// get returns the words of set id, w words wide. They must not be written.
func (a *arena) get(id setID, w int) bitset {
	if id < 0 {
		return a.zeros[:w:w]
	}
	c := a.chunks[id>>chunkShift]
	o := int(id & (chunkWords - 1))
	return c[o : o+w : o+w]
}

// of returns the words of t's set.
func (a *arena) of(t term) bitset { return a.get(t.set, int(a.width[t.pkg])) }

// full returns the set of all n versions.
func (a *arena) full(n int) setID {
	id, b := a.alloc((n + 63) / 64)
	for i := range b {
		b[i] = ^uint64(0)
	}
	if r := n % 64; r != 0 {
		b[len(b)-1] = (1 << r) - 1
	}
	return a.seal(id, b)
}

func (a *arena) singleton(n, i int) setID {
	id, b := a.alloc((n + 63) / 64)
	b.set(i)
	return id
}

// termSlice returns an empty slice with room for n terms.
func (a *arena) termSlice(n int) []term {
	if n > len(a.terms) {
		a.terms = make([]term, max(termChunk, n))
	}
	t := a.terms[:0:n]
	a.terms = a.terms[n:]
	return t
}

// and, or and andNot combine two sets of w words.
func (a *arena) and(x, y setID, w int) setID {
	id, r := a.alloc(w)
	xs, ys := a.get(x, w), a.get(y, w)
	for i := range r {
		r[i] = xs[i] & ys[i]
	}
	return a.seal(id, r)
}

func (a *arena) or(x, y setID, w int) setID {
	id, r := a.alloc(w)
	xs, ys := a.get(x, w), a.get(y, w)
	for i := range r {
		r[i] = xs[i] | ys[i]
	}
	return a.seal(id, r)
}

func (a *arena) andNot(x, y setID, w int) setID {
	id, r := a.alloc(w)
	xs, ys := a.get(x, w), a.get(y, w)
	for i := range r {
		r[i] = xs[i] &^ ys[i]
	}
	return a.seal(id, r)
}

func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }

func (b bitset) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

func (b bitset) equal(o bitset) bool {
	for i := range b {
		if b[i] != o[i] {
			return false
		}
	}
	return true
}

// subsetOf reports b ⊆ o.
func (b bitset) subsetOf(o bitset) bool {
	for i := range b {
		if b[i]&^o[i] != 0 {
			return false
		}
	}
	return true
}

// disjoint reports b ∩ o = ∅.
func (b bitset) disjoint(o bitset) bool {
	for i := range b {
		if b[i]&o[i] != 0 {
			return false
		}
	}
	return true
}

// andCount returns |a ∩ b|.
func andCount(a, b bitset) int {
	n := 0
	for i := range a {
		n += bits.OnesCount64(a[i] & b[i])
	}
	return n
}

// andHighest returns the largest index in a ∩ b, or -1.
func andHighest(a, b bitset) int {
	for i := len(a) - 1; i >= 0; i-- {
		if w := a[i] & b[i]; w != 0 {
			return i*64 + 63 - bits.LeadingZeros64(w)
		}
	}
	return -1
}

// room returns s with space for one more element, doubling its capacity
// when full. append grows large slices by only a quarter, so a list that
// ends with n elements would have allocated about 5n on the way; the
// solver's long lists (incompatibilities, parked entries) made that a
// large share of its garbage.
func room[T any](s []T) []T {
	if len(s) < cap(s) {
		return s
	}
	n := make([]T, len(s), max(2*cap(s), 64))
	copy(n, s)
	return n
}
