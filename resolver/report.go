package resolver

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// noSolution wraps the failure incompatibility; the explanation is written
// on first use, since a failed resolution is not always shown.
func (s *solver) noSolution(root int32) error {
	e := &NoSolutionError{}
	var once sync.Once
	e.explain = func() string {
		once.Do(func() { e.explanation = (&writer{s: s, root: root}).write() })
		return e.explanation
	}
	return e
}

// writer turns a derivation graph into prose, following the error reporting
// algorithm of Dart pub's solver.md (and pub's failure.dart): derived
// incompatibilities used more than once get line numbers, linear chains are
// collapsed, and the final line starts with "So,".
type writer struct {
	s           *solver
	root        int32
	derivations map[int32]int
	lines       []reportLine
	lineNumbers map[int32]int
}

type reportLine struct {
	msg func() string // nil for a blank line
	num int           // 0 when unnumbered
}

// Explanations longer than maxLines show their first headLines and last
// tailLines: a proof of thousands of steps (every version failing for its
// own reason) is not read by anyone, and writing it all took seconds.
const (
	maxLines  = 250
	headLines = 200
	tailLines = 40
)

func (w *writer) write() string {
	w.derivations = map[int32]int{}
	w.lineNumbers = map[int32]int{}
	w.count(w.root)
	root := w.s.incs.at(w.root)
	if root.external() {
		w.add(w.root, func() string { return "Because " + w.str(w.root) + ", version solving failed." }, false)
	} else {
		w.visit(w.root, false)
	}
	pad := 0
	if len(w.lineNumbers) > 0 {
		pad = len(fmt.Sprintf("(%d) ", len(w.lineNumbers)))
	}
	var b strings.Builder
	lastEmpty := false
	for i, l := range w.lines {
		if len(w.lines) > maxLines && i >= headLines && i < len(w.lines)-tailLines {
			if i == headLines {
				fmt.Fprintf(&b, "%s... (%d more lines of this proof omitted) ...\n", strings.Repeat(" ", pad), len(w.lines)-headLines-tailLines)
			}
			continue
		}
		if l.msg == nil {
			if !lastEmpty {
				b.WriteString("\n")
			}
			lastEmpty = true
			continue
		}
		lastEmpty = false
		if l.num > 0 {
			n := fmt.Sprintf("(%d)", l.num)
			b.WriteString(n + strings.Repeat(" ", pad-len(n)))
		} else {
			b.WriteString(strings.Repeat(" ", pad))
		}
		b.WriteString(l.msg())
		b.WriteString("\n")
	}
	out := strings.TrimRight(b.String(), "\n")
	if hints := w.yankHints(); len(hints) > 0 {
		out += "\n\n" + strings.Join(hints, "\n")
	}
	return out
}

// yankHints explains yanked versions that the proof mentions through an
// exact requirement: a range elsewhere does not match them, which would
// otherwise look like a contradiction ("a =1.2.0 is required" yet "a ^1.0.0"
// fails).
func (w *writer) yankHints() []string {
	seen := map[string]bool{}
	var hints []string
	for id := range w.derivations {
		in := w.s.incs.at(id)
		if in.kind != causeDependency {
			continue
		}
		dep := in.terms[1]
		p := w.s.pkgs[dep.pkg]
		set := w.s.a.of(dep)
		for i := range p.cands {
			if set.has(i) && p.cands[i].Yanked && !p.allowed.has(i) {
				h := "Note: " + p.name + " " + p.ver(i).String() +
					" is yanked; only an exact requirement, a pin or a lock selects it."
				if !seen[h] {
					seen[h] = true
					hints = append(hints, h)
				}
			}
		}
	}
	sort.Strings(hints)
	return hints
}

func (w *writer) count(id int32) {
	if n, ok := w.derivations[id]; ok {
		w.derivations[id] = n + 1
		return
	}
	w.derivations[id] = 1
	if in := w.s.incs.at(id); !in.external() {
		w.count(in.c1)
		w.count(in.c2)
	}
}

func (w *writer) add(id int32, msg func() string, numbered bool) {
	if numbered {
		n := len(w.lineNumbers) + 1
		w.lineNumbers[id] = n
		w.lines = append(w.lines, reportLine{msg: msg, num: n})
		return
	}
	w.lines = append(w.lines, reportLine{msg: msg})
}

// inc returns incompatibility id with its terms, which a step of conflict
// resolution gets only here, for the lines an explanation shows.
func (w *writer) inc(id int32) *incompat {
	w.s.terms(id)
	return w.s.incs.at(id)
}

func (w *writer) derived(id int32) bool { return !w.s.incs.at(id).external() }

// visit writes the proof of the derived incompatibility id. Messages are
// closures, rendered only for the lines write shows.
func (w *writer) visit(id int32, conclusion bool) {
	numbered := conclusion || w.derivations[id] > 1
	conj := "And"
	if conclusion || id == w.root {
		conj = "So,"
	}
	in := w.s.incs.at(id)
	c1, c2 := in.c1, in.c2

	switch {
	case w.derived(c1) && w.derived(c2):
		l1, ok1 := w.lineNumbers[c1]
		l2, ok2 := w.lineNumbers[c2]
		switch {
		case ok1 && ok2:
			w.add(id, func() string { return "Because " + w.and(c1, c2, l1, l2) + ", " + w.str(id) + "." }, numbered)
		case ok1 || ok2:
			with, without, line := c1, c2, l1
			if !ok1 {
				with, without, line = c2, c1, l2
			}
			w.visit(without, false)
			w.add(id, func() string {
				return fmt.Sprintf("%s because %s (%d), %s.", conj, w.str(with), line, w.str(id))
			}, numbered)
		default:
			single1, single2 := w.singleLine(c1), w.singleLine(c2)
			if single1 || single2 {
				first, second := c2, c1
				if single2 {
					first, second = c1, c2
				}
				w.visit(first, false)
				w.visit(second, false)
				w.add(id, func() string { return "Thus, " + w.str(id) + "." }, numbered)
			} else {
				w.visit(c1, true)
				w.lines = append(w.lines, reportLine{})
				w.visit(c2, false)
				line := w.lineNumbers[c1]
				w.add(id, func() string {
					return fmt.Sprintf("%s because %s (%d), %s.", conj, w.str(c1), line, w.str(id))
				}, numbered)
			}
		}
	case w.derived(c1) || w.derived(c2):
		der, ext := c1, c2
		if !w.derived(c1) {
			der, ext = c2, c1
		}
		if line, ok := w.lineNumbers[der]; ok {
			w.add(id, func() string { return "Because " + w.and(ext, der, 0, line) + ", " + w.str(id) + "." }, numbered)
		} else if w.collapsible(der) {
			d := w.s.incs.at(der)
			collapsedDer, collapsedExt := d.c1, d.c2
			if !w.derived(d.c1) {
				collapsedDer, collapsedExt = d.c2, d.c1
			}
			w.visit(collapsedDer, false)
			w.add(id, func() string {
				return conj + " because " + w.and(collapsedExt, ext, 0, 0) + ", " + w.str(id) + "."
			}, numbered)
		} else {
			w.visit(der, false)
			w.add(id, func() string { return conj + " because " + w.str(ext) + ", " + w.str(id) + "." }, numbered)
		}
	default:
		w.add(id, func() string { return "Because " + w.and(c1, c2, 0, 0) + ", " + w.str(id) + "." }, numbered)
	}
}

// collapsible reports whether id's derivation can be folded into the line
// of the incompatibility it causes: it is used once, has one derived and one
// external cause, and the derived one has no line number.
func (w *writer) collapsible(id int32) bool {
	if w.derivations[id] > 1 {
		return false
	}
	in := w.s.incs.at(id)
	d1, d2 := w.derived(in.c1), w.derived(in.c2)
	if d1 == d2 {
		return false
	}
	complex := in.c1
	if !d1 {
		complex = in.c2
	}
	_, numbered := w.lineNumbers[complex]
	return !numbered
}

// singleLine reports whether id is derived from two external causes.
func (w *writer) singleLine(id int32) bool {
	in := w.s.incs.at(id)
	return !w.derived(in.c1) && !w.derived(in.c2)
}

// Wording of terms.

func (w *writer) name(t term) string { return w.s.pkgs[t.pkg].name }

func (w *writer) isAny(t term) bool {
	all := w.s.pkgs[t.pkg].all
	return t.set == all || w.s.a.of(t).equal(w.s.a.get(all, w.s.pkgs[t.pkg].w()))
}

// terse writes t's package and versions ("foo ^1.2"), or "every version of
// foo" when every is set and t covers them all. The root is just its name.
func (w *writer) terse(t term, every bool) string {
	if t.pkg == rootID {
		return w.name(t)
	}
	if every && w.isAny(t) {
		return "every version of " + w.name(t)
	}
	return w.name(t) + " " + w.versions(t)
}

// versions writes the set of t: the constraint as written when the set is
// unchanged from it, else ranges over the known versions, bounded as pub
// does by the first version in and the first version after each run.
func (w *writer) versions(t term) string {
	if t.label != 0 {
		return w.s.labels[t.label]
	}
	p := w.s.pkgs[t.pkg]
	n := p.n()
	set := w.s.a.of(t)
	var runs []string
	for i := 0; i < n; i++ {
		if !set.has(i) {
			continue
		}
		j := i
		for j+1 < n && set.has(j+1) {
			j++
		}
		switch {
		case i == 0 && j == n-1:
			runs = append(runs, "*")
		case i == 0:
			runs = append(runs, "<"+p.ver(j+1).String())
		case j == n-1:
			runs = append(runs, ">="+p.ver(i).String())
		case i == j:
			runs = append(runs, p.ver(i).String())
		default:
			runs = append(runs, ">="+p.ver(i).String()+" <"+p.ver(j+1).String())
		}
		i = j
	}
	if len(runs) == 0 {
		return "(no versions)"
	}
	return strings.Join(runs, " || ")
}

// str writes what incompatibility id says.
func (w *writer) str(id int32) string {
	in := w.inc(id)
	switch in.kind {
	case causeDependency:
		msg := w.terse(in.terms[0], true) + " depends on " + w.terse(in.terms[1], false)
		if dep := in.terms[1]; dep.tautology() {
			if w.s.pkgs[dep.pkg].n() == 0 {
				return msg + ", and no versions of " + w.name(dep) + " exist"
			}
			return msg + w.noMatch(in)
		}
		return msg
	case causeNoVersions:
		t := in.terms[0]
		if w.s.pkgs[t.pkg].n() == 0 {
			return "no versions of " + w.name(t) + " exist"
		}
		msg := "no versions of " + w.name(t) + " match " + w.versions(t)
		if in.note != 0 {
			msg += " (" + w.s.notes[in.note] + ")"
		}
		return msg
	case causePinned:
		return w.name(in.terms[0]) + " is pinned to " + w.s.notes[in.note]
	case causeSelfDep:
		return w.terse(in.terms[0], true) + " depends on " + w.name(in.terms[0]) + " " + w.s.notes[in.note]
	case causeRoot:
		return w.name(in.terms[0]) + " is required"
	}
	if in.isFailure() {
		return "version solving failed"
	}
	if len(in.terms) == 1 {
		t := in.terms[0]
		verb := "forbidden"
		if !t.pos {
			verb = "required"
		}
		if w.isAny(t) {
			return w.name(t) + " is " + verb
		}
		return w.terse(t, false) + " is " + verb
	}
	if len(in.terms) == 2 {
		t1, t2 := in.terms[0], in.terms[1]
		if t1.pos && t2.pos {
			return w.refOrTerse(t1) + " is incompatible with " + w.refOrTerse(t2)
		}
		if !t1.pos && !t2.pos {
			return "either " + w.terse(t1, false) + " or " + w.terse(t2, false)
		}
	}
	var pos, neg []string
	var onlyPos term
	for _, t := range in.terms {
		if t.pos {
			pos = append(pos, w.terse(t, false))
			onlyPos = t
		} else {
			neg = append(neg, w.terse(t, false))
		}
	}
	switch {
	case len(pos) == 1 && len(neg) > 0:
		return w.terse(onlyPos, true) + " requires " + strings.Join(neg, " or ")
	case len(pos) > 0 && len(neg) > 0:
		return "if " + strings.Join(pos, " and ") + " then " + strings.Join(neg, " or ")
	case len(pos) > 0:
		return "one of " + strings.Join(pos, " or ") + " must be false"
	default:
		return "one of " + strings.Join(neg, " or ") + " must be true"
	}
}

func (w *writer) refOrTerse(t term) string {
	if w.isAny(t) {
		return w.name(t)
	}
	return w.terse(t, false)
}

func lineRef(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d)", n)
}

// and writes "a and b", with line references, phrased more naturally when
// the pair has a known shape.
func (w *writer) and(a, b int32, aLine, bLine int) string {
	if w.deadEnd(a) || w.deadEnd(b) {
		// Keep what makes the dependency impossible visible, last.
		if w.deadEnd(a) && !w.deadEnd(b) {
			a, b, aLine, bLine = b, a, bLine, aLine
		}
		return w.str(a) + lineRef(aLine) + " and " + w.deadEndShort(b) + lineRef(bLine)
	}
	if s, ok := w.requiresBoth(a, b, aLine, bLine); ok {
		return s
	}
	if s, ok := w.requiresThrough(a, b, aLine, bLine); ok {
		return s
	}
	if s, ok := w.requiresForbidden(a, b, aLine, bLine); ok {
		return s
	}
	return w.str(a) + lineRef(aLine) + " and " + w.str(b) + lineRef(bLine)
}

// noMatch says why a dead-end dependency matches nothing.
func (w *writer) noMatch(in *incompat) string {
	msg := ", which matches no versions of " + w.name(in.terms[1])
	if in.note != 0 {
		msg += " (" + w.s.notes[in.note] + ")"
	}
	return msg
}

// deadEndShort words a dead-end dependency to follow an "and".
func (w *writer) deadEndShort(id int32) string {
	in := w.inc(id)
	msg := w.terse(in.terms[0], true) + " depends on " + w.terse(in.terms[1], false)
	if w.s.pkgs[in.terms[1].pkg].n() == 0 {
		return msg + ", which doesn't exist"
	}
	return msg + w.noMatch(in)
}

// deadEnd reports a dependency on a constraint no known version meets.
func (w *writer) deadEnd(id int32) bool {
	in := w.inc(id)
	return in.kind == causeDependency && in.terms[1].tautology()
}

// single returns the only term of in with the given sign.
func single(in *incompat, pos bool) (term, bool) {
	var found term
	n := 0
	for _, t := range in.terms {
		if t.pos == pos {
			found = t
			n++
		}
	}
	return found, n == 1
}

func (w *writer) negatives(in *incompat) string {
	var neg []string
	for _, t := range in.terms {
		if !t.pos {
			neg = append(neg, w.terse(t, false))
		}
	}
	return strings.Join(neg, " or ")
}

func verb(in *incompat) string {
	if in.kind == causeDependency {
		return "depends on"
	}
	return "requires"
}

// requiresBoth: "foo depends on both bar ^1 and baz ^2".
func (w *writer) requiresBoth(a, b int32, aLine, bLine int) (string, bool) {
	ia, ib := w.inc(a), w.inc(b)
	if len(ia.terms) == 1 || len(ib.terms) == 1 {
		return "", false
	}
	pa, ok := single(ia, true)
	if !ok {
		return "", false
	}
	pb, ok := single(ib, true)
	if !ok || pa.pkg != pb.pkg {
		return "", false
	}
	v := "requires"
	if ia.kind == causeDependency && ib.kind == causeDependency {
		v = "depends on"
	}
	return w.terse(pa, true) + " " + v + " both " + w.negatives(ia) + lineRef(aLine) +
		" and " + w.negatives(ib) + lineRef(bLine), true
}

// requiresThrough: "foo depends on bar ^1 which depends on baz ^2".
func (w *writer) requiresThrough(a, b int32, aLine, bLine int) (string, bool) {
	ia, ib := w.inc(a), w.inc(b)
	if len(ia.terms) == 1 || len(ib.terms) == 1 {
		return "", false
	}
	na, okNA := single(ia, false)
	nb, okNB := single(ib, false)
	if !okNA && !okNB {
		return "", false
	}
	pa, okPA := single(ia, true)
	pb, okPB := single(ib, true)
	var prior, latter *incompat
	var priorNeg term
	var priorLine, latterLine int
	switch {
	case okNA && okPB && na.pkg == pb.pkg && w.s.a.subset(na.negate(), pb):
		prior, priorNeg, priorLine, latter, latterLine = ia, na, aLine, ib, bLine
	case okNB && okPA && nb.pkg == pa.pkg && w.s.a.subset(nb.negate(), pa):
		prior, priorNeg, priorLine, latter, latterLine = ib, nb, bLine, ia, aLine
	default:
		return "", false
	}
	var sb strings.Builder
	var priorPos []term
	for _, t := range prior.terms {
		if t.pos {
			priorPos = append(priorPos, t)
		}
	}
	if len(priorPos) == 0 {
		return "", false
	}
	if len(priorPos) > 1 {
		parts := make([]string, len(priorPos))
		for i, t := range priorPos {
			parts[i] = w.terse(t, false)
		}
		sb.WriteString("if " + strings.Join(parts, " or ") + " then ")
	} else {
		sb.WriteString(w.terse(priorPos[0], true) + " " + verb(prior) + " ")
	}
	sb.WriteString(w.terse(priorNeg, false) + lineRef(priorLine) + " which " + verb(latter) + " ")
	sb.WriteString(w.negatives(latter) + lineRef(latterLine))
	return sb.String(), true
}

// requiresForbidden: "foo depends on bar ^2 which is forbidden" and
// its variants for versions that do not exist or a pin.
func (w *writer) requiresForbidden(a, b int32, aLine, bLine int) (string, bool) {
	ia, ib := w.inc(a), w.inc(b)
	if len(ia.terms) != 1 && len(ib.terms) != 1 {
		return "", false
	}
	prior, latter, priorLine, latterLine := ia, ib, aLine, bLine
	if len(ia.terms) == 1 {
		prior, latter, priorLine, latterLine = ib, ia, bLine, aLine
	}
	neg, ok := single(prior, false)
	if !ok || neg.pkg != latter.terms[0].pkg || !w.s.a.subset(neg.negate(), latter.terms[0]) {
		return "", false
	}
	lt := latter.terms[0]
	if latter.kind == causeSelfDep {
		return "", false // "x depends on y which is forbidden" would hide why
	}
	unknown := latter.kind == causeNoVersions && w.s.pkgs[lt.pkg].n() == 0
	var pos []string
	var onlyPos term
	for _, t := range prior.terms {
		if t.pos {
			pos = append(pos, w.terse(t, false))
			onlyPos = t
		}
	}
	if len(pos) == 0 {
		return "", false
	}
	var sb strings.Builder
	if len(pos) > 1 {
		sb.WriteString("if " + strings.Join(pos, " or ") + " then ")
	} else {
		sb.WriteString(w.terse(onlyPos, true) + " " + verb(prior) + " ")
	}
	switch {
	case unknown:
		sb.WriteString(w.terse(neg, false) + lineRef(priorLine) + " and no versions of " + w.name(lt) + " exist")
	case latter.kind == causePinned:
		sb.WriteString(w.terse(neg, false) + lineRef(priorLine) + " but " + w.name(lt) + " is pinned to " + w.s.notes[latter.note])
	case latter.kind == causeNoVersions:
		sb.WriteString(w.terse(lt, false) + lineRef(priorLine) + " which doesn't match any versions")
		if latter.note != 0 {
			sb.WriteString(" (" + w.s.notes[latter.note] + ")")
		}
	default:
		sb.WriteString(w.terse(lt, false) + lineRef(priorLine) + " which is forbidden")
	}
	sb.WriteString(lineRef(latterLine))
	return sb.String(), true
}
