package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"statescope/stores"
	"statescope/stores/graph"
)

// fromEntries is the graph of listed entries, through their rows.
func fromEntries(entries []stores.Entry) *graph.Graph {
	rows := make([]stores.Row, len(entries))
	for i, e := range entries {
		rows[i] = stores.RowOf(e, "")
	}
	return graph.FromRows(rows)
}

func entry(id, status string, deps ...string) stores.Entry {
	return stores.Entry{ID: id, State: &stores.State{ResourceID: id, Status: status, Dependencies: deps}}
}

func TestCyclesAndDangling(t *testing.T) {
	for _, tc := range []struct {
		name     string
		entries  []stores.Entry
		cycles   [][]string
		dangling []string // From->To
	}{
		{"none", []stores.Entry{entry("a", "active", "b"), entry("b", "active")}, nil, nil},
		{"two", []stores.Entry{entry("a", "active", "b"), entry("b", "active", "a")}, [][]string{{"a", "b"}}, nil},
		{"self", []stores.Entry{entry("a", "active", "a")}, [][]string{{"a"}}, nil},
		{"three plus tail", []stores.Entry{entry("z", "active", "c"), entry("c", "active", "a"), entry("a", "active", "b"), entry("b", "active", "c", "ghost")},
			[][]string{{"a", "b", "c"}}, []string{"b->ghost"}},
		{"two separate", []stores.Entry{entry("x", "", "y"), entry("y", "", "x"), entry("p", "", "q"), entry("q", "", "p")},
			[][]string{{"p", "q"}, {"x", "y"}}, nil},
		{"corrupt depended on", []stores.Entry{entry("a", "active", "bad"), {ID: "bad", Problem: "invalid JSON"}}, nil, nil},
		{"one ghost, many dependents", []stores.Entry{entry("a", "active", "ghost"), entry("b", "active", "ghost", "a"), entry("c", "", "ghost", "other")},
			nil, []string{"a->ghost", "b->ghost", "c->ghost", "c->other"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := fromEntries(tc.entries)
			if !reflect.DeepEqual(g.Cycles, tc.cycles) {
				t.Errorf("cycles %v, want %v", g.Cycles, tc.cycles)
			}
			var dangling []string
			for _, e := range g.Edges {
				if e.Dangling {
					dangling = append(dangling, e.From+"->"+e.To)
					if n, _ := g.Node(e.To); !n.Missing {
						t.Errorf("%s is not marked missing", e.To)
					}
				}
				inCycle := false
				for _, c := range tc.cycles {
					for i := range c {
						if c[i] == e.From && c[(i+1)%len(c)] == e.To {
							inCycle = true
						}
					}
				}
				if e.Cyclic != inCycle {
					t.Errorf("edge %s->%s cyclic=%v", e.From, e.To, e.Cyclic)
				}
			}
			if !reflect.DeepEqual(dangling, tc.dangling) {
				t.Errorf("dangling %v, want %v", dangling, tc.dangling)
			}
		})
	}
}

// A long chain must not overflow the stack (the search is iterative).
func TestLongChain(t *testing.T) {
	var entries []stores.Entry
	const n = 100000
	for i := range n {
		entries = append(entries, entry(fmt.Sprint(i), "active", fmt.Sprint(i+1)))
	}
	entries = append(entries, entry(fmt.Sprint(n), "active", "0"))
	g := fromEntries(entries)
	if len(g.Cycles) != 1 || len(g.Cycles[0]) != n+1 {
		t.Fatalf("%d cycles", len(g.Cycles))
	}
}

func TestSubgraph(t *testing.T) {
	g := fromEntries([]stores.Entry{entry("web", "active", "db", "dns"), entry("db", "active", "net"), entry("net", "destroyed"), entry("dns", "active"), entry("other", "active")})
	ids := func(g *graph.Graph) []string {
		var out []string
		for _, n := range g.Nodes {
			out = append(out, n.ID)
		}
		return out
	}
	if got := ids(g.Subgraph("db", false)); !reflect.DeepEqual(got, []string{"db", "net"}) {
		t.Errorf("db's dependencies: %v", got)
	}
	if got := ids(g.Subgraph("db", true)); !reflect.DeepEqual(got, []string{"web", "db"}) {
		t.Errorf("what depends on db: %v", got)
	}
}

func TestRenderings(t *testing.T) {
	g := fromEntries([]stores.Entry{entry(`we"b`, "active", "db", "ghost"), entry("db", "error", `we"b`)})
	var dot, mer, js bytes.Buffer
	if err := g.WriteDOT(&dot); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"we\"b" -> "ghost" [dangling=true`, `"db" -> "we\"b" [cyclic=true`, `status="error"`, `"ghost" [label="ghost\n(missing)", status="missing"`} {
		if !strings.Contains(dot.String(), want) {
			t.Errorf("DOT lacks %s:\n%s", want, dot.String())
		}
	}
	if err := g.WriteMermaid(&mer); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"flowchart LR", `n0["we#quot;b<br/>active"]`, "n0 -.->|dangling| n2", "n1 ==>|cycle| n0", "class n2 missing"} {
		if !strings.Contains(mer.String(), want) {
			t.Errorf("Mermaid lacks %s:\n%s", want, mer.String())
		}
	}
	if err := g.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back graph.Graph
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Nodes) != 3 || len(back.Edges) != 3 || len(back.Cycles) != 1 {
		t.Errorf("JSON %v: %s", err, js.String())
	}
}

// Two records claiming one ID are one node whose edges are both records'
// dependencies, each once; a dependency listed twice is one edge.
func TestDuplicatedIDMergesEdges(t *testing.T) {
	g := fromEntries([]stores.Entry{entry("a", "active", "b", "b"), entry("b", "active"), entry("a", "active", "c", "b")})
	var got []string
	for _, e := range g.Edges {
		got = append(got, fmt.Sprintf("%s->%s dangling=%t", e.From, e.To, e.Dangling))
	}
	want := []string{"a->b dangling=false", "a->c dangling=true"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("edges %v, want %v", got, want)
	}
	if deps := g.DependsOn("a"); len(deps) != 2 || len(g.Dependents("b")) != 1 || len(g.Dependents("c")) != 1 {
		t.Errorf("a depends on %v; b has %d dependents, c %d", deps, len(g.Dependents("b")), len(g.Dependents("c")))
	}
	if n, _ := g.Node("c"); !n.Missing || len(g.Nodes) != 3 {
		t.Errorf("nodes %+v", g.Nodes)
	}
}
