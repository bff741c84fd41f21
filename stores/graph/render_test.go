package graph_test

import (
	"bytes"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"statescope/stores"
	"statescope/stores/graph"
	"statescope/stores/printable"
)

// hostileIDs are resource IDs a store may hold: every character DOT,
// Mermaid or a terminal gives a meaning to.
var hostileIDs = []string{
	`q"uote`, "new\nline", `back\slash`, `trail\`, `dbl\\slash`, `esc\"aped`, "cont\\\nline", "crlf\r\n",
	"münchen", "esc\x1b[31mred", "bidi\u202eevil", "tab\there", "ctl\x01\x7f", "zw\u200bsp",
	"hash#x;y`z|[b]", "amp&lt;x", "#quot;", "`md`", "a -> b", "{}", "invalid\xffutf8", "nul\x00",
	// plain IDs a stand-in name could collide with
	"trail⧵", "n0", "n1",
}

func hostileGraph() *graph.Graph {
	var entries []stores.Entry
	for i, id := range hostileIDs {
		entries = append(entries, entry(id, "active", hostileIDs[(i+1)%len(hostileIDs)], "ghost\\\""+id))
	}
	return fromEntries(entries)
}

// dotToken is one token of DOT as Graphviz's scanner reads it.
type dotToken struct {
	text   string
	quoted bool
}

// lexDOT reads DOT as Graphviz's scanner does: inside a quoted string \"
// is a quote, \\ is kept as it is (so \\" ends the string), a backslash
// before a newline joins lines, and everything else is kept as it is.
func lexDOT(t *testing.T, src string) []dotToken {
	t.Helper()
	var toks []dotToken
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\n' || c == '\t':
			i++
		case c == '"':
			var b strings.Builder
			i++
			for {
				if i >= len(src) {
					t.Fatalf("unterminated string in DOT:\n%s", src)
				}
				if src[i] == '"' {
					i++
					break
				}
				if src[i] == '\\' && i+1 < len(src) && src[i+1] == '"' {
					b.WriteByte('"')
					i += 2
					continue
				}
				if src[i] == '\\' && i+1 < len(src) && src[i+1] == '\\' {
					b.WriteString(`\\`) // newer Graphviz keeps a pair as it is
					i += 2
					continue
				}
				if src[i] == '\\' && i+1 < len(src) && src[i+1] == '\n' {
					i += 2
					continue
				}
				b.WriteByte(src[i])
				i++
			}
			toks = append(toks, dotToken{b.String(), true})
		case c == '-' && strings.HasPrefix(src[i:], "->"):
			toks = append(toks, dotToken{"->", false})
			i += 2
		case strings.IndexByte("{}[];,=", c) >= 0:
			toks = append(toks, dotToken{string(c), false})
			i++
		default:
			j := i
			for j < len(src) && (src[j] == '_' || src[j] == '.' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			if j == i {
				t.Fatalf("DOT has %q outside a quoted string at %d:\n%s", c, i, src)
			}
			toks = append(toks, dotToken{src[i:j], false})
			i = j
		}
	}
	return toks
}

// labelText is what Graphviz shows for a label: \n, \l and \r break the
// line, a backslash before any other character keeps that character, and
// HTML entities (&lt;, &#35;) are the characters they name.
func labelText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n', 'l', 'r':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return html.UnescapeString(b.String())
}

// TestDOTKeepsHostileIDs reads the DOT back as Graphviz does: every node
// name is the resource ID itself when DOT can spell it, else a stand-in no
// other node has; labels show the ID (non-printing characters escaped) and
// every edge joins the right two nodes.
func TestDOTKeepsHostileIDs(t *testing.T) {
	g := hostileGraph()
	var out bytes.Buffer
	if err := g.WriteDOT(&out); err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(out.Bytes()) {
		t.Errorf("DOT is not valid UTF-8 (Graphviz's default charset)")
	}
	toks := lexDOT(t, out.String())
	idOf := map[string]string{} // node name -> resource ID, from its label
	type edge struct{ from, to string }
	var edges []edge
	for i := 0; i < len(toks); i++ {
		if !toks[i].quoted {
			continue
		}
		if i+2 < len(toks) && toks[i+1].text == "->" {
			edges = append(edges, edge{toks[i].text, toks[i+2].text})
			i += 2
			continue
		}
		name := toks[i].text
		if _, dup := idOf[name]; dup {
			t.Errorf("two nodes are named %q", name)
		}
		if toks[i+1].text != "[" || toks[i+2].text != "label" || toks[i+3].text != "=" || !toks[i+4].quoted {
			t.Fatalf("node %q has no label first: %v", name, toks[i:i+5])
		}
		shown := labelText(toks[i+4].text)
		id, _, _ := strings.Cut(shown, "\n(missing)")
		id, _, _ = strings.Cut(id, "\nactive")
		idOf[name] = id
		for j := i + 5; toks[j].text != "]"; j++ {
			i = j
		}
	}
	for _, n := range g.Nodes {
		want := visible(n.ID)
		var names []string
		for name, id := range idOf {
			if id == want {
				names = append(names, name)
			}
		}
		if len(names) != 1 {
			t.Errorf("ID %q (shown %q) labels nodes %q", n.ID, want, names)
			continue
		}
		if spellable(n.ID) && names[0] != n.ID {
			t.Errorf("ID %q is named %q in DOT, though DOT can spell it", n.ID, names[0])
		}
	}
	if len(edges) != len(g.Edges) {
		t.Fatalf("%d edges in DOT, %d in the graph", len(edges), len(g.Edges))
	}
	for i, e := range g.Edges {
		if from, to := idOf[edges[i].from], idOf[edges[i].to]; from != visible(e.From) || to != visible(e.To) {
			t.Errorf("edge %q -> %q reads back as %q -> %q", e.From, e.To, from, to)
		}
	}
}

// spellable: the IDs a DOT quoted string holds exactly and printably
// under every Graphviz scanner: no backslash right before a quote or at
// the end, and nothing that does not print.
func spellable(id string) bool {
	return id == visible(id) && !strings.HasSuffix(id, `\`) && !strings.Contains(id, `\"`)
}

func visible(id string) string { return printable.Escape(id) }

// TestMermaidLabelsShowHostileIDs reads each node's quoted label as
// Mermaid does: nothing in it may end the string, start markup, a
// Markdown string or an entity the ID did not mean; decoded (#35;, #quot;,
// <br/>) it shows the ID with what does not print escaped.
func TestMermaidLabelsShowHostileIDs(t *testing.T) {
	g := hostileGraph()
	var out bytes.Buffer
	if err := g.WriteMermaid(&out); err != nil {
		t.Fatal(err)
	}
	node := regexp.MustCompile(`^  (n\d+)\["([^"]*)"\]$`)
	entity := regexp.MustCompile(`#(\d+|[a-z]+);`)
	var labels []string
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if !regexp.MustCompile(`^  n\d+\[`).MatchString(line) {
			continue
		}
		m := node.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("not one quoted node: %q", line)
			continue
		}
		text := strings.ReplaceAll(m[2], "<br/>", "\n")
		if i := strings.IndexAny(entity.ReplaceAllString(text, ""), "#&<>`\x00\r\t"); i >= 0 || !printable.Is(strings.ReplaceAll(text, "\n", "")) {
			t.Errorf("label %q holds markup or what does not print", m[2])
		}
		labels = append(labels, entity.ReplaceAllStringFunc(text, func(e string) string {
			name := strings.Trim(e, "#;")
			if n, err := strconv.Atoi(name); err == nil {
				return string(rune(n))
			}
			return html.UnescapeString("&" + name + ";")
		}))
	}
	if len(labels) != len(g.Nodes) {
		t.Fatalf("%d labels for %d nodes:\n%s", len(labels), len(g.Nodes), out.String())
	}
	for i, n := range g.Nodes {
		want := visible(n.ID) + "\nactive"
		if n.Missing {
			want = visible(n.ID) + "\n(missing)"
		}
		if labels[i] != want {
			t.Errorf("node %q shows %q, want %q", n.ID, labels[i], want)
		}
	}
}

// TestDOTStatusAttribute: a status is a plain attribute value, read back
// as written wherever DOT can spell it.
func TestDOTStatusAttribute(t *testing.T) {
	for _, status := range []string{"active", `we"ird & <odd>`, `back\slash`, "new\nline", `trail\`} {
		var out bytes.Buffer
		if err := fromEntries([]stores.Entry{entry("a", status)}).WriteDOT(&out); err != nil {
			t.Fatal(err)
		}
		toks := lexDOT(t, out.String())
		for i, tok := range toks {
			if tok.text != "status" || toks[i+1].text != "=" {
				continue
			}
			want := status
			if !spellable(status) {
				want = strings.ReplaceAll(visible(status), `\`, "⧵")
			}
			if got := toks[i+2].text; got != want {
				t.Errorf("status %q reads back as %q, want %q", status, got, want)
			}
		}
	}
}
