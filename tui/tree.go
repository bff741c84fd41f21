package tui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"statescope/keymap"
	"statescope/stores"
	"statescope/stores/graph"
	ptext "statescope/stores/printable"
)

// treeDepth is how many levels open on entry.
const treeDepth = 2

// treeView is one record's dependencies as a tree (or, toggled, what
// depends on it), expandable level by level; a node met again on its own
// path is a cycle and is not expanded.
type treeView struct {
	scope
	env  *env
	keys keymap.Tree
	root string

	graph   *graph.Graph
	reverse bool
	open    map[string]bool // expanded node paths
	rows    []treeRow
	cursor  int
	offset  int
	loading bool
	err     error
}

// treeRow is one visible line: a node reached along path.
type treeRow struct {
	id       string
	path     string
	depth    int
	node     graph.Node
	children int
	cycle    bool // id is already on its path
}

func newTreeView(e *env, root string) *treeView {
	return &treeView{env: e, keys: e.keys.Tree, root: root, open: map[string]bool{}}
}

func (v *treeView) Title() string     { return "tree" }
func (v *treeView) Keys() help.KeyMap { return v.keys }
func (v *treeView) Capturing() bool   { return false }
func (v *treeView) Busy() bool        { return v.loading }
func (v *treeView) Leave()            {}
func (v *treeView) Enter() tea.Cmd    { return v.load() }

// load builds the graph from the store's rows, which carry each record's
// status and dependencies: no outputs or config are decoded.
func (v *treeView) load() tea.Cmd {
	v.loading = true
	s := v.env.session.Store
	return fetch(&v.scope, func(ctx context.Context) (*graph.Graph, error) {
		rows, err := stores.AllRows(ctx, s, stores.Filter{}, nil)
		if err != nil {
			return nil, err
		}
		return graph.FromRows(rows), nil
	})
}

func (v *treeView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case loaded[*graph.Graph]:
		if !v.current(msg.gen) {
			return nil
		}
		v.loading, v.err = false, quiet(msg.err)
		if msg.err == nil {
			first := v.graph == nil
			v.graph = msg.value
			if first {
				v.expandTo(treeDepth)
			}
			v.flatten()
		}
	case storeChangedMsg:
		return v.load()
	case tea.KeyPressMsg:
		return v.key(msg)
	case tea.MouseWheelMsg:
		v.move(wheelDelta(msg))
	case clickMsg:
		if i := v.offset + msg.y - 1; msg.y >= 1 && i < len(v.rows) { // rows start under the title
			v.move(i - v.cursor)
		}
	}
	return nil
}

func (v *treeView) key(msg tea.KeyPressMsg) tea.Cmd {
	k := v.keys
	switch {
	case key.Matches(msg, k.Up):
		v.move(-1)
	case key.Matches(msg, k.Down):
		v.move(1)
	case key.Matches(msg, k.PageUp):
		v.move(-v.page())
	case key.Matches(msg, k.PageDown):
		v.move(v.page())
	case key.Matches(msg, k.Top):
		v.move(-len(v.rows))
	case key.Matches(msg, k.Bottom):
		v.move(len(v.rows))
	case key.Matches(msg, k.Direction):
		v.reverse = !v.reverse
		v.open, v.cursor, v.offset = map[string]bool{}, 0, 0
		v.expandTo(treeDepth)
		v.flatten()
	case key.Matches(msg, k.Collapse) && !v.isOpen():
		v.toParent()
	case key.Matches(msg, k.Expand), key.Matches(msg, k.Collapse), key.Matches(msg, k.Toggle):
		if r, ok := v.selected(); ok && r.children > 0 && !r.cycle {
			switch {
			case key.Matches(msg, k.Expand):
				v.open[r.path] = true
			case key.Matches(msg, k.Collapse):
				v.open[r.path] = false
			default:
				v.open[r.path] = !v.open[r.path]
			}
			v.flatten()
		}
	case key.Matches(msg, k.Open):
		if r, ok := v.selected(); ok {
			if r.node.Missing {
				return showStatus(noRecord(r.id), true)
			}
			return v.env.router.push(newDetailView(v.env, stores.Row{ID: r.id}))
		}
	}
	return nil
}

func (v *treeView) selected() (treeRow, bool) {
	if v.cursor < 0 || v.cursor >= len(v.rows) {
		return treeRow{}, false
	}
	return v.rows[v.cursor], true
}

// isOpen reports whether the selected row shows its neighbours.
func (v *treeView) isOpen() bool {
	r, ok := v.selected()
	return ok && r.children > 0 && !r.cycle && v.open[r.path]
}

// toParent moves to the row the selected one hangs from.
func (v *treeView) toParent() {
	r, ok := v.selected()
	for i := v.cursor - 1; ok && i >= 0; i-- {
		if v.rows[i].depth < r.depth {
			v.move(i - v.cursor)
			return
		}
	}
}

func (v *treeView) page() int { return max(v.height-3, 1) }

func (v *treeView) move(d int) {
	v.cursor = min(max(v.cursor+d, 0), max(len(v.rows)-1, 0))
	if v.cursor < v.offset {
		v.offset = v.cursor
	}
	if v.cursor >= v.offset+v.page() {
		v.offset = v.cursor - v.page() + 1
	}
}

// expandTo opens every path down to depth levels below the root.
func (v *treeView) expandTo(depth int) {
	var walk func(id, path string, d int, seen map[string]bool)
	walk = func(id, path string, d int, seen map[string]bool) {
		if d >= depth || seen[id] {
			return
		}
		v.open[path] = true
		seen[id] = true
		for _, e := range v.graph.Next(id, v.reverse) {
			next := v.neighbour(e)
			walk(next, path+"\x00"+next, d+1, seen)
		}
		delete(seen, id)
	}
	walk(v.root, v.root, 0, map[string]bool{})
}

func (v *treeView) neighbour(e graph.Edge) string {
	if v.reverse {
		return e.From
	}
	return e.To
}

// flatten lists the visible rows: the root, then each open node's
// neighbours, depth first.
func (v *treeView) flatten() {
	v.rows = v.rows[:0]
	if v.graph == nil {
		return
	}
	var walk func(id, path string, depth int, seen map[string]bool)
	walk = func(id, path string, depth int, seen map[string]bool) {
		node, ok := v.graph.Node(id)
		if !ok {
			node = graph.Node{ID: id, Missing: true}
		}
		next := v.graph.Next(id, v.reverse)
		row := treeRow{id: id, path: path, depth: depth, node: node, children: len(next), cycle: seen[id]}
		v.rows = append(v.rows, row)
		if row.cycle || !v.open[path] {
			return
		}
		seen[id] = true
		for _, e := range next {
			n := v.neighbour(e)
			walk(n, path+"\x00"+n, depth+1, seen)
		}
		delete(seen, id)
	}
	walk(v.root, v.root, 0, map[string]bool{})
	v.move(0)
}

func (v *treeView) Render() string {
	st := v.env.styles
	var b strings.Builder
	what := "dependencies of "
	if v.reverse {
		what = "what depends on "
	}
	b.WriteString(st.Bold.Render(what+ptext.Escape(v.root)) + st.Dim.Render(fmt.Sprintf("   (%s switches)", v.keys.Direction.Help().Key)) + "\n")
	switch {
	case v.err != nil:
		b.WriteString(loadFailed(st, "listing failed", v.err, v.width))
	case v.graph == nil:
		b.WriteString(st.Dim.Render("reading the records…"))
	default:
		end := min(v.offset+v.page(), len(v.rows))
		for i := v.offset; i < end; i++ {
			b.WriteString(v.renderRow(v.rows[i], i == v.cursor) + "\n")
		}
		if len(v.rows) == 1 {
			b.WriteString(st.Dim.Render("  (none)"))
		}
	}
	return fit(b.String(), v.width, v.height)
}

func (v *treeView) renderRow(r treeRow, selected bool) string {
	st := v.env.styles
	marker := "  "
	switch {
	case r.cycle:
		marker = "↻ "
	case r.children > 0 && v.open[r.path]:
		marker = "▾ "
	case r.children > 0:
		marker = "▸ "
	}
	// Deep down the indent stops at a third of the width and gives the
	// depth, so the ID stays on screen.
	indent := strings.Repeat("  ", r.depth)
	if most := v.width / 3; len(indent) > most {
		tag := fmt.Sprintf("…%d ", r.depth)
		indent = strings.Repeat(" ", max(most-len(tag), 0)) + tag
	}
	line := indent + marker + ptext.Escape(r.id)
	var note string
	switch {
	case r.node.Missing:
		note = st.Error.Render("missing")
	case r.node.Corrupt:
		note = st.Error.Render("corrupt")
	default:
		note = st.StatusStyle(r.node.Status).Render(dash(r.node.Status))
	}
	if r.cycle {
		note += " " + st.Warn.Render("cycle")
	}
	if selected {
		line = st.Selected.Render(line)
	}
	return line + "  " + note
}
