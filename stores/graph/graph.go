// Package graph is the dependency graph of a store's records: which record
// depends on which, the dependencies that name no record (dangling), and
// the cycles. It is a leaf: it knows records, not stores or views.
package graph

import (
	"slices"

	"statescope/stores"
)

// Node is one resource: a record, or an ID some record depends on that
// no record has (Missing).
type Node struct {
	ID     string `json:"id"`
	Status string `json:"status,omitempty"`
	// Missing: no readable record has this ID (a dangling dependency).
	Missing bool `json:"missing,omitempty"`
	// Corrupt: the record exists but could not be read.
	Corrupt bool `json:"corrupt,omitempty"`
}

// Edge says From depends on To.
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Dangling: To names no record.
	Dangling bool `json:"dangling,omitempty"`
	// Cyclic: the edge lies on a dependency cycle.
	Cyclic bool `json:"cyclic,omitempty"`
}

// Graph is every record and dependency of a store.
type Graph struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
	// Cycles lists each cycle once, as IDs in dependency order starting at
	// the smallest (a → b → a is [a b]).
	Cycles [][]string `json:"cycles,omitempty"`

	index map[string]int
	out   [][]int // edge indexes by the From node's index
	in    [][]int // edge indexes by the To node's index
}

// FromRows makes the graph of a store's listed rows. Corrupt records are
// nodes (they exist) without dependencies; a duplicated ID is one node.
func FromRows(rows []stores.Row) *Graph {
	// Sized for the listing at once rather than grown a record at a time.
	g := &Graph{index: make(map[string]int, len(rows)), Nodes: make([]Node, 0, len(rows))}
	edges := 0
	for _, r := range rows {
		edges += len(r.Dependencies)
		if _, seen := g.index[r.ID]; !seen {
			g.addNode(Node{ID: r.ID, Status: r.Status, Corrupt: r.Corrupt()})
		}
	}
	records := len(g.Nodes)
	g.Edges = make([]Edge, 0, edges)
	linked := make([]bool, records) // a record of this ID gave its edges
	var dup map[Edge]bool           // every edge, once an ID has two records
	for _, r := range rows {
		from := g.index[r.ID]
		if linked[from] && dup == nil {
			dup = make(map[Edge]bool, len(g.Edges))
			for _, e := range g.Edges {
				dup[Edge{From: e.From, To: e.To}] = true
			}
		}
		linked[from] = true
		for j, dep := range r.Dependencies {
			key := Edge{From: r.ID, To: dep}
			if slices.Contains(r.Dependencies[:j], dep) || dup[key] {
				continue
			}
			if dup != nil {
				dup[key] = true
			}
			k, exists := g.index[dep]
			if !exists {
				// An ID only dangling edges name is a node too, after the records.
				k = g.addNode(Node{ID: dep, Missing: true})
			}
			g.Edges = append(g.Edges, Edge{From: r.ID, To: dep, Dangling: k >= records})
		}
	}
	g.link()
	g.findCycles()
	return g
}

func (g *Graph) addNode(n Node) int {
	i := len(g.Nodes)
	g.index[n.ID] = i
	g.Nodes = append(g.Nodes, n)
	return i
}

// link indexes the edges by node, in edge order: two shared arrays cut
// into one slice per node, rather than a slice grown per edge.
func (g *Graph) link() {
	n := len(g.Nodes)
	ends := make([][2]int, len(g.Edges))
	outStart, inStart := make([]int, n+1), make([]int, n+1)
	for i, e := range g.Edges {
		ends[i] = [2]int{g.index[e.From], g.index[e.To]}
		outStart[ends[i][0]+1]++
		inStart[ends[i][1]+1]++
	}
	for i := range n {
		outStart[i+1] += outStart[i]
		inStart[i+1] += inStart[i]
	}
	outAll, inAll := make([]int, len(g.Edges)), make([]int, len(g.Edges))
	outNext, inNext := slices.Clone(outStart[:n]), slices.Clone(inStart[:n])
	for i, end := range ends {
		outAll[outNext[end[0]]], inAll[inNext[end[1]]] = i, i
		outNext[end[0]]++
		inNext[end[1]]++
	}
	g.out, g.in = make([][]int, n), make([][]int, n)
	for i := range n {
		g.out[i] = outAll[outStart[i]:outStart[i+1]:outStart[i+1]]
		g.in[i] = inAll[inStart[i]:inStart[i+1]:inStart[i+1]]
	}
}

// edgesOf is the edge indexes adj holds for id.
func (g *Graph) edgesOf(adj [][]int, id string) []int {
	if i, ok := g.index[id]; ok {
		return adj[i]
	}
	return nil
}

// Node returns the node with id.
func (g *Graph) Node(id string) (Node, bool) {
	i, ok := g.index[id]
	if !ok {
		return Node{}, false
	}
	return g.Nodes[i], true
}

// DependsOn lists the edges from id (what it depends on), in record order.
func (g *Graph) DependsOn(id string) []Edge { return g.edges(g.edgesOf(g.out, id)) }

// Dependents lists the edges into id (what depends on it).
func (g *Graph) Dependents(id string) []Edge { return g.edges(g.edgesOf(g.in, id)) }

func (g *Graph) edges(idx []int) []Edge {
	out := make([]Edge, len(idx))
	for i, j := range idx {
		out[i] = g.Edges[j]
	}
	return out
}

// Next is the neighbours of id: its dependencies, or with reverse its
// dependents.
func (g *Graph) Next(id string, reverse bool) []Edge {
	if reverse {
		return g.Dependents(id)
	}
	return g.DependsOn(id)
}

// Subgraph keeps what root reaches (its dependencies, or with reverse
// what depends on it, transitively), cycles included.
func (g *Graph) Subgraph(root string, reverse bool) *Graph {
	keep := map[string]bool{root: true}
	queue := []string{root}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, e := range g.Next(id, reverse) {
			next := e.To
			if reverse {
				next = e.From
			}
			if !keep[next] {
				keep[next] = true
				queue = append(queue, next)
			}
		}
	}
	sub := &Graph{index: map[string]int{}}
	for _, n := range g.Nodes {
		if keep[n.ID] {
			sub.addNode(n)
		}
	}
	for _, e := range g.Edges {
		if keep[e.From] && keep[e.To] {
			sub.Edges = append(sub.Edges, e)
		}
	}
	sub.link()
	for _, c := range g.Cycles {
		if keep[c[0]] {
			sub.Cycles = append(sub.Cycles, c)
		}
	}
	return sub
}

// findCycles runs Tarjan's strongly connected components (iteratively, so
// a long chain cannot overflow the stack), marks the edges inside each
// component as cyclic and lists one cycle through each component.
func (g *Graph) findCycles() {
	n := len(g.Nodes)
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	comp := make([]int, n)
	var stack []int
	next, comps := 0, 0
	type frame struct{ v, edge int }
	for start := range n {
		if index[start] >= 0 {
			continue
		}
		call := []frame{{v: start}}
		index[start], low[start] = next, next
		next++
		stack = append(stack, start)
		onStack[start] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			out := g.out[f.v]
			if f.edge < len(out) {
				w := g.index[g.Edges[out[f.edge]].To]
				f.edge++
				switch {
				case index[w] < 0:
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{v: w})
				case onStack[w]:
					low[f.v] = min(low[f.v], index[w])
				}
				continue
			}
			v := f.v
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = comps
					if w == v {
						break
					}
				}
				comps++
			}
		}
	}
	size := make([]int, comps)
	for _, c := range comp {
		size[c]++
	}
	members := map[int][]string{}
	for i := range g.Edges {
		e := &g.Edges[i]
		if e.Dangling {
			continue
		}
		cf, ct := comp[g.index[e.From]], comp[g.index[e.To]]
		if cf == ct && (size[cf] > 1 || e.From == e.To) {
			e.Cyclic = true
			members[cf] = append(members[cf], e.From)
		}
	}
	for c, ids := range members {
		slices.Sort(ids)
		g.Cycles = append(g.Cycles, g.cycleFrom(ids[0], c, comp))
	}
	slices.SortFunc(g.Cycles, func(a, b []string) int { return slices.Compare(a, b) })
}

// cycleFrom finds a shortest path from start back to itself inside its
// component (breadth first), so the cycle shown is a real one.
func (g *Graph) cycleFrom(start string, c int, comp []int) []string {
	prev := map[string]string{}
	queue := []string{start}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, i := range g.edgesOf(g.out, id) {
			e := g.Edges[i]
			if e.Dangling || comp[g.index[e.To]] != c {
				continue
			}
			if e.To == start {
				path := []string{id}
				for p := id; p != start; {
					p = prev[p]
					path = append(path, p)
				}
				slices.Reverse(path)
				return path
			}
			if _, seen := prev[e.To]; !seen {
				prev[e.To] = id
				queue = append(queue, e.To)
			}
		}
	}
	return []string{start}
}
