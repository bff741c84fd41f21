package tui

import (
	"context"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"statescope/stores"
	"statescope/stores/graph"
	"statescope/stores/redact"
)

// depGraph is the record's place in the dependency graph, from a listing
// of the store read each time the record is: which of its dependencies
// no record has, and which records depend on it.
type depGraph struct {
	// present says of each dependency of the record as listed whether a
	// record has that ID.
	present map[string]bool
	// requiredBy are the records that depend on this one, sorted; nil
	// until the listing has been read.
	requiredBy []string
	depsErr    error
	// fromTable: what is shown comes from the table's rows, while the
	// store is read again or when it could not be; readGen is the load
	// whose store listing has answered (a table answer after it is stale).
	fromTable bool
	readGen   int
	// depLine is the selected line's number in the pane.
	depLine int
}

// depsMsg is the graph around one record, from the store or (fromTable)
// from the table's rows.
type depsMsg struct {
	gen        int
	present    map[string]bool
	requiredBy []string
	err        error
	fromTable  bool
}

// loadDeps answers at once from the table's rows, then lists the store's
// rows (offering the table's, so a store with versions reads again only
// what changed) and answers from them: on a large filesystem store that
// listing takes a while.
func (d *detailView) loadDeps(ctx context.Context, gen int) tea.Cmd {
	s, id, table := d.env.session.Store, d.entry.ID, d.env.router.listedRows()
	fromStore := d.tag(func() tea.Msg {
		rows, err := stores.AllRows(ctx, s, stores.Filter{}, stores.Known(table))
		if err != nil {
			return depsMsg{gen: gen, err: err}
		}
		return depsAround(gen, id, rows)
	})
	if len(table) == 0 {
		return fromStore
	}
	return tea.Batch(d.tag(func() tea.Msg {
		msg := depsAround(gen, id, table)
		msg.fromTable = true
		return msg
	}), fromStore)
}

// depsAround is the graph around id in rows.
func depsAround(gen int, id string, rows []stores.Row) depsMsg {
	g := graph.FromRows(rows)
	msg := depsMsg{gen: gen, present: map[string]bool{}, requiredBy: []string{}}
	for _, e := range g.DependsOn(id) {
		msg.present[e.To] = !e.Dangling
	}
	for _, e := range g.Dependents(id) {
		msg.requiredBy = append(msg.requiredBy, e.From)
	}
	slices.Sort(msg.requiredBy)
	return msg
}

// listedRows are the resources table's rows, to offer a listing; nil when
// there is no table. They are never written again, so a command may read
// them.
func (m *Model) listedRows() []stores.Row {
	for _, v := range m.stack {
		if r, ok := v.(*resourcesView); ok {
			items := r.grid.Items()
			return items[:len(items):len(items)]
		}
	}
	return nil
}

func (d *detailView) gotDeps(msg depsMsg) {
	if !d.current(msg.gen) {
		return
	}
	if msg.fromTable && d.readGen == msg.gen {
		return // the store has answered already
	}
	if !msg.fromTable && msg.err == nil {
		d.readGen = msg.gen
	}
	d.depsErr = quiet(msg.err)
	if msg.err == nil {
		// A failed store listing leaves the table's answer, marked as such.
		d.present, d.requiredBy, d.fromTable = msg.present, msg.requiredBy, msg.fromTable
	}
	if d.dep >= len(d.depLines()) {
		d.dep = -1
	}
	d.render()
}

// stateDeps are the record's own dependencies.
func (d *detailView) stateDeps() []string {
	if d.state == nil {
		return nil
	}
	return d.state.Dependencies
}

// depLines are the lines tab selects: the dependencies, then the records
// that depend on this one.
func (d *detailView) depLines() []string {
	return append(slices.Clip(d.stateDeps()), d.requiredBy...)
}

// missing reports a dependency the listing found no record for.
func (d *detailView) missing(dep string) bool {
	exists, listed := d.present[dep]
	return listed && !exists
}

// jump opens the selected line's record, or says there is none.
func (d *detailView) jump() tea.Cmd {
	lines := d.depLines()
	if d.dep < 0 || d.dep >= len(lines) {
		return nil
	}
	id := lines[d.dep]
	if d.dep < len(d.stateDeps()) && d.missing(id) {
		return showStatus(noRecord(id), true)
	}
	return d.env.router.push(newDetailView(d.env, stores.Row{ID: id}))
}

// noRecord says an ID named as a dependency has no record.
func noRecord(id string) string {
	return id + " has no record: it is a dependency on a missing ID"
}

// showDep scrolls the selected line into view.
func (d *detailView) showDep() {
	if d.dep >= 0 {
		d.pane.vp.EnsureVisible(d.depLine, 0, 0)
	}
}

// writeDeps is the two dependency sections of the detail.
func (d *detailView) writeDeps(b *strings.Builder) {
	st := d.env.styles
	deps := d.stateDeps()
	b.WriteString("\n" + st.Title.Render("dependencies") + "\n")
	if len(deps) == 0 {
		b.WriteString(st.Dim.Render("  none") + "\n")
	}
	for i, dep := range deps {
		d.writeDepLine(b, i, dep, d.missing(dep))
	}
	b.WriteString("\n" + st.Title.Render("required by") + "\n")
	switch {
	case d.depsErr != nil:
		b.WriteString("  " + st.Warn.Render("?") + st.Dim.Render("  unknown: "+redact.Text(d.depsErr.Error())) + "\n")
	case d.requiredBy == nil:
		b.WriteString(st.Dim.Render("  reading the other records…") + "\n")
	case len(d.requiredBy) == 0:
		b.WriteString(st.Dim.Render("  none") + "\n")
	}
	for j, id := range d.requiredBy {
		d.writeDepLine(b, len(deps)+j, id, false)
	}
	switch {
	case d.fromTable && d.depsErr != nil:
		b.WriteString(st.Dim.Render("  (as the table listed them)") + "\n")
	case d.fromTable:
		b.WriteString(st.Dim.Render("  (as the table listed them; reading the store again…)") + "\n")
	}
}

func (d *detailView) writeDepLine(b *strings.Builder, i int, id string, missing bool) {
	st := d.env.styles
	line := "  " + id
	if i == d.dep {
		d.depLine = strings.Count(b.String(), "\n")
		line = st.Selected.Render("▸ " + id)
		if !missing {
			line += st.Dim.Render("  enter opens")
		}
	}
	if missing {
		line += "  " + st.Error.Render("✗ missing: no record has this ID")
	}
	b.WriteString(line + "\n")
}
