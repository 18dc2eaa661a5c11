package resolver

import (
	"container/heap"
	"fmt"
	"sort"
	"strings"
)

// plan turns the decisions into install order, after rejecting cycles.
func (s *solver) plan() (*Plan, error) {
	var chosen []*pkg
	for _, p := range s.pkgs[1:] {
		if p.decided >= 0 {
			chosen = append(chosen, p)
		}
	}
	sort.Slice(chosen, func(i, j int) bool { return chosen[i].name < chosen[j].name })
	index := make(map[pkgID]int, len(chosen))
	for i, p := range chosen {
		index[p.id] = i
	}
	// deps[i] lists, sorted and without repeats, the chosen packages that
	// chosen[i] requires.
	deps := make([][]int, len(chosen))
	for i, p := range chosen {
		seen := map[int]bool{}
		for _, r := range p.vers[p.decided].reqs {
			j, ok := index[s.byName[r.Name]]
			if !ok {
				return nil, fmt.Errorf("resolve: internal error: %s %s requires %s, which was not chosen",
					p.name, p.ver(p.decided), r.Name)
			}
			if !seen[j] {
				seen[j] = true
				deps[i] = append(deps[i], j)
			}
		}
		sort.Ints(deps[i])
	}
	decision := func(i int) Decision {
		p := chosen[i]
		return Decision{Name: p.name, Version: p.ver(p.decided), Requirements: p.vers[p.decided].reqs}
	}
	if cyc := findCycle(deps); cyc != nil {
		e := &CycleError{}
		for _, i := range cyc {
			e.Cycle = append(e.Cycle, decision(i))
		}
		return nil, e
	}

	// Kahn's algorithm, always taking the smallest name that is ready.
	waiting := make([]int, len(chosen))
	dependents := make([][]int, len(chosen))
	for i, ds := range deps {
		waiting[i] = len(ds)
		for _, j := range ds {
			dependents[j] = append(dependents[j], i)
		}
	}
	ready := &intHeap{}
	for i := range chosen {
		if waiting[i] == 0 {
			heap.Push(ready, i)
		}
	}
	plan := &Plan{Order: make([]Decision, 0, len(chosen))}
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		plan.Order = append(plan.Order, decision(i))
		for _, j := range dependents[i] {
			if waiting[j]--; waiting[j] == 0 {
				heap.Push(ready, j)
			}
		}
	}
	for _, p := range chosen {
		plan.Warnings = append(plan.Warnings, s.warnings(p)...)
	}
	sort.Strings(plan.Warnings)
	return plan, nil
}

// warnings describes what is notable about the chosen version of p.
func (s *solver) warnings(p *pkg) []string {
	var out []string
	c := p.cands[p.decided]
	id := p.name + " " + c.Version.String()
	if c.Yanked {
		why := "an exact requirement names it"
		switch {
		case p.decided == p.pinned:
			why = "it is pinned"
		case p.decided == p.locked:
			why = "it is locked"
		}
		out = append(out, id+" is yanked; it is used because "+why)
	}
	if d := c.Deprecated; d != nil {
		msg := id + " is deprecated"
		if m := strings.TrimSpace(d.Message); m != "" {
			msg += ": " + m
		}
		if r := strings.TrimSpace(d.Replacement); r != "" {
			msg += "; use " + r + " instead"
		}
		if !d.Sunset.IsZero() {
			day := d.Sunset.UTC().Format("2006-01-02")
			switch {
			case s.opts.Now.IsZero():
				msg += "; sunset " + day
			case s.opts.Now.Before(d.Sunset):
				msg += "; sunset " + day + " (upcoming)"
			default:
				msg += "; sunset " + day + " (passed)"
			}
		}
		out = append(out, msg)
	}
	return out
}

// findCycle returns a dependency cycle as node indexes (first and last the
// same), or nil. Nodes are indexed in name order, so the cycle reported is
// the shortest one through the smallest name that is on any cycle, walking
// neighbours in name order: the same registry always prints the same cycle.
func findCycle(deps [][]int) []int {
	comp := sccs(deps)
	size := map[int]int{}
	for _, c := range comp {
		size[c]++
	}
	for start := range deps {
		self := false
		for _, j := range deps[start] {
			if j == start {
				self = true
			}
		}
		if self {
			return []int{start, start}
		}
		if size[comp[start]] < 2 {
			continue
		}
		// Breadth-first search inside the component back to start.
		prev := map[int]int{start: -1}
		q := []int{start}
		for len(q) > 0 {
			u := q[0]
			q = q[1:]
			for _, v := range deps[u] {
				if comp[v] != comp[start] {
					continue
				}
				if v == start {
					path := []int{start}
					for x := u; x != -1; x = prev[x] {
						path = append(path, x)
					}
					for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
						path[i], path[j] = path[j], path[i]
					}
					return path
				}
				if _, seen := prev[v]; !seen {
					prev[v] = u
					q = append(q, v)
				}
			}
		}
	}
	return nil
}

// sccs labels each node with its strongly connected component (Tarjan's
// algorithm, iterative so deep graphs cannot exhaust the stack).
func sccs(deps [][]int) []int {
	n := len(deps)
	index, low, comp := make([]int, n), make([]int, n), make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i], comp[i] = -1, -1
	}
	var stack []int
	next, ncomp := 0, 0
	type frame struct{ v, edge int }
	for root := 0; root < n; root++ {
		if index[root] >= 0 {
			continue
		}
		call := []frame{{v: root}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			if f.edge < len(deps[f.v]) {
				w := deps[f.v][f.edge]
				f.edge++
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{v: w})
				} else if onStack[w] && index[w] < low[f.v] {
					low[f.v] = index[w]
				}
				continue
			}
			v := f.v
			call = call[:len(call)-1]
			if len(call) > 0 {
				if u := call[len(call)-1].v; low[v] < low[u] {
					low[u] = low[v]
				}
			}
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = ncomp
					if w == v {
						break
					}
				}
				ncomp++
			}
		}
	}
	return comp
}

type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
