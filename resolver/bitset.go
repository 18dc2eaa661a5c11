package resolver

import "math/bits"

// bitset is a set of version indexes of one package (bit i is the i-th
// version in ascending order). Every bitset of a package has the same length,
// and bits past the package's version count are always zero. Bitsets are
// treated as immutable once built: operations return new ones.
type bitset []uint64

// arena hands out the solver's bitsets, terms and incompatibilities from
// large chunks. A solve creates tens of thousands of these small immutable
// values; allocating them one by one made the garbage collector the
// biggest cost on the backtracking benchmarks.
type arena struct {
	words []uint64
	terms []term
	incs  []incompat
}

const (
	wordChunk = 1 << 13
	termChunk = 1 << 10
	incChunk  = 1 << 9
)

// bits returns a zeroed bitset for n versions.
func (a *arena) bits(n int) bitset {
	w := (n + 63) / 64
	if w > len(a.words) {
		a.words = make([]uint64, max(wordChunk, w))
	}
	b := a.words[:w:w]
	a.words = a.words[w:]
	return b
}

func (a *arena) full(n int) bitset {
	b := a.bits(n)
	for i := range b {
		b[i] = ^uint64(0)
	}
	if r := n % 64; r != 0 {
		b[len(b)-1] = (1 << r) - 1
	}
	return b
}

func (a *arena) singleton(n, i int) bitset {
	b := a.bits(n)
	b.set(i)
	return b
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

func (a *arena) newIncompat() *incompat {
	if len(a.incs) == 0 {
		a.incs = make([]incompat, incChunk)
	}
	in := &a.incs[0]
	a.incs = a.incs[1:]
	return in
}

func (a *arena) and(x, y bitset) bitset {
	r := a.bits(len(x) * 64)
	for i := range x {
		r[i] = x[i] & y[i]
	}
	return r
}

func (a *arena) or(x, y bitset) bitset {
	r := a.bits(len(x) * 64)
	for i := range x {
		r[i] = x[i] | y[i]
	}
	return r
}

func (a *arena) andNot(x, y bitset) bitset {
	r := a.bits(len(x) * 64)
	for i := range x {
		r[i] = x[i] &^ y[i]
	}
	return r
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

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// highest returns the largest index in b, or -1.
func (b bitset) highest() int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] != 0 {
			return i*64 + 63 - bits.LeadingZeros64(b[i])
		}
	}
	return -1
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
