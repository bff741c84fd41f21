package graph

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// WriteDOT writes Graphviz DOT: statuses as node attributes, missing nodes
// dashed, dangling edges dashed red, cyclic edges bold orange.
func (g *Graph) WriteDOT(w io.Writer) error {
	var b strings.Builder
	b.WriteString("digraph statescope {\n  rankdir=LR;\n  node [shape=box];\n")
	for _, n := range g.Nodes {
		attrs := []string{"label=" + strconv.Quote(nodeLabel(n))}
		switch {
		case n.Missing:
			attrs = append(attrs, `status="missing"`, `style=dashed`, `color=red`)
		case n.Corrupt:
			attrs = append(attrs, `status="corrupt"`, `color=red`)
		default:
			attrs = append(attrs, "status="+strconv.Quote(n.Status))
		}
		fmt.Fprintf(&b, "  %s [%s];\n", strconv.Quote(n.ID), strings.Join(attrs, ", "))
	}
	for _, e := range g.Edges {
		var attrs []string
		if e.Dangling {
			attrs = append(attrs, `dangling=true`, `style=dashed`, `color=red`)
		}
		if e.Cyclic {
			attrs = append(attrs, `cyclic=true`, `style=bold`, `color=orange`)
		}
		fmt.Fprintf(&b, "  %s -> %s", strconv.Quote(e.From), strconv.Quote(e.To))
		if len(attrs) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(attrs, ", "))
		}
		b.WriteString(";\n")
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func nodeLabel(n Node) string {
	switch {
	case n.Missing:
		return n.ID + "\n(missing)"
	case n.Corrupt:
		return n.ID + "\n(corrupt)"
	case n.Status != "":
		return n.ID + "\n" + n.Status
	}
	return n.ID
}

// WriteMermaid writes a Mermaid flowchart. Node names are n0, n1, … (IDs
// may hold any character); statuses are classes, dangling edges dotted and
// cyclic edges thick.
func (g *Graph) WriteMermaid(w io.Writer) error {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	name := map[string]string{}
	classes := map[string][]string{}
	for i, n := range g.Nodes {
		id := "n" + strconv.Itoa(i)
		name[n.ID] = id
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", id, mermaidText(nodeLabel(n)))
		class := "status_" + classToken(n.Status)
		switch {
		case n.Missing:
			class = "missing"
		case n.Corrupt:
			class = "corrupt"
		}
		classes[class] = append(classes[class], id)
	}
	for _, e := range g.Edges {
		arrow := "-->"
		switch {
		case e.Dangling:
			arrow = "-.->|dangling|"
		case e.Cyclic:
			arrow = "==>|cycle|"
		}
		fmt.Fprintf(&b, "  %s %s %s\n", name[e.From], arrow, name[e.To])
	}
	for _, c := range sortedKeys(classes) {
		fmt.Fprintf(&b, "  class %s %s\n", strings.Join(classes[c], ","), c)
	}
	b.WriteString("  classDef missing stroke:#f00,stroke-dasharray:4\n  classDef corrupt stroke:#f00\n  classDef status_error stroke:#f00\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// mermaidText escapes a label for a quoted Mermaid node: quotes and the
// characters Mermaid reads as markup become entity codes.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "\n", "<br/>", "<", "#lt;", ">", "#gt;").Replace(s)
}

func classToken(s string) string {
	if s == "" {
		return "none"
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}

// WriteJSON writes nodes, edges and cycles.
func (g *Graph) WriteJSON(w io.Writer) error {
	out := *g
	if out.Nodes == nil {
		out.Nodes = []Node{}
	}
	if out.Edges == nil {
		out.Edges = []Edge{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
