package graph

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"statescope/stores/printable"
)

// WriteDOT writes Graphviz DOT: statuses as node attributes, missing nodes
// dashed, dangling edges dashed red, cyclic edges bold orange. A node is
// named by its ID wherever DOT can spell that exactly (see dotNames); its
// label shows the ID with what does not print escaped.
func (g *Graph) WriteDOT(w io.Writer) error {
	var b strings.Builder
	b.WriteString("digraph statescope {\n  rankdir=LR;\n  node [shape=box];\n")
	name := dotNames(g.Nodes)
	for _, n := range g.Nodes {
		attrs := []string{"label=" + dotLabel(nodeLabel(n))}
		switch {
		case n.Missing:
			attrs = append(attrs, `status="missing"`, `style=dashed`, `color=red`)
		case n.Corrupt:
			attrs = append(attrs, `status="corrupt"`, `color=red`)
		default:
			attrs = append(attrs, "status="+dotValue(n.Status))
		}
		fmt.Fprintf(&b, "  %s [%s];\n", name[n.ID], strings.Join(attrs, ", "))
	}
	for _, e := range g.Edges {
		var attrs []string
		if e.Dangling {
			attrs = append(attrs, `dangling=true`, `style=dashed`, `color=red`)
		}
		if e.Cyclic {
			attrs = append(attrs, `cyclic=true`, `style=bold`, `color=orange`)
		}
		fmt.Fprintf(&b, "  %s -> %s", name[e.From], name[e.To])
		if len(attrs) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(attrs, ", "))
		}
		b.WriteString(";\n")
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// dotNames gives each node its DOT name, quoted: its ID where DOT spells
// it, else a stand-in numbered if another node has it.
func dotNames(nodes []Node) map[string]string {
	name := make(map[string]string, len(nodes))
	taken := make(map[string]bool, len(nodes))
	var stand []string
	for _, n := range nodes {
		if dotSpells(n.ID) {
			name[n.ID] = dotQuote(n.ID)
			taken[n.ID] = true
		} else {
			stand = append(stand, n.ID)
		}
	}
	for _, id := range stand {
		base := dotStandIn(id)
		s := base
		for i := 2; taken[s]; i++ {
			s = fmt.Sprintf("%s (%d)", base, i)
		}
		taken[s] = true
		name[id] = dotQuote(s)
	}
	return name
}

// dotSpells: a DOT quoted string knows one escape, \" (and joins lines at
// a backslash-newline), so it holds s exactly unless a backslash ends s or
// stands before a quote; s must print, too.
func dotSpells(s string) bool {
	return printable.Is(s) && !strings.HasSuffix(s, `\`) && !strings.Contains(s, `\"`)
}

func dotQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// dotStandIn is what DOT can spell in place of s: s escaped, each
// backslash as ⧵.
func dotStandIn(s string) string { return strings.ReplaceAll(printable.Escape(s), `\`, "⧵") }

// dotValue quotes a plain attribute value: exact where DOT spells it.
func dotValue(s string) string {
	if dotSpells(s) {
		return dotQuote(s)
	}
	return dotQuote(dotStandIn(s))
}

// dotLabel quotes a label: backslashes and quotes escaped, newlines as
// Graphviz's line break, & as &amp; (labels read HTML entities).
func dotLabel(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "&", "&amp;").Replace(s) + `"`
}

// nodeLabel is a node's ID, printably, over its status or what it lacks.
func nodeLabel(n Node) string {
	id := printable.Escape(n.ID)
	switch {
	case n.Missing:
		return id + "\n(missing)"
	case n.Corrupt:
		return id + "\n(corrupt)"
	case n.Status != "":
		return id + "\n" + printable.Escape(n.Status)
	}
	return id
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

// mermaidText escapes a label for a quoted Mermaid node: the quote, the
// entity sign #, what HTML reads (&, <, >) and the backtick that starts a
// Markdown string become entity codes; newlines become <br/>.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "#", "#35;", "&", "#amp;", "<", "#lt;", ">", "#gt;", "`", "#96;", "\n", "<br/>").Replace(s)
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
