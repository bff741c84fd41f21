package tui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"statescope/keymap"

	"statescope/tui/grid"
)

// tableFilter is the "/" filter every table view shares: typing narrows
// the grid as you type, enter keeps the filter, esc clears it.
type tableFilter[T any] struct {
	typing bool
	in     input
}

func newTableFilter[T any]() tableFilter[T] { return tableFilter[T]{in: input{prompt: "/"}} }

// start begins typing, continuing the filter in force.
func (f *tableFilter[T]) start(g *grid.Model[T]) {
	f.typing = true
	f.in.SetValue(g.Query())
}

// key handles a key while typing; the command is the grid's filter work.
func (f *tableFilter[T]) key(msg tea.KeyPressMsg, k keymap.Input, g *grid.Model[T]) tea.Cmd {
	switch {
	case key.Matches(msg, k.Accept):
		f.typing = false
		return nil
	case key.Matches(msg, k.Cancel):
		f.typing = false
		f.in.SetValue("")
		return g.SetQuery("")
	case key.Matches(msg, k.Up):
		g.Move(-1)
		return nil
	case key.Matches(msg, k.Down):
		g.Move(1)
		return nil
	}
	if f.in.Update(msg) {
		return g.SetQuery(f.in.Value())
	}
	return nil
}

// paste adds pasted text to the filter being typed.
func (f *tableFilter[T]) paste(text string, g *grid.Model[T]) tea.Cmd {
	f.in.Paste(text)
	return g.SetQuery(f.in.Value())
}

// clear drops a filter in force; it reports whether there was one.
func (f *tableFilter[T]) clear(g *grid.Model[T]) bool {
	if g.Query() == "" {
		return false
	}
	f.in.SetValue("")
	g.SetQuery("")
	return true
}

// line shows where the cursor is (row 12/58), and the filter being typed
// or the one in force with how many rows it keeps.
func (f *tableFilter[T]) line(st Styles, g *grid.Model[T]) string {
	pos := fmt.Sprintf("row %d/%d", min(g.Cursor()+1, g.Visible()), g.Visible())
	if g.Query() != "" || f.typing {
		pos += fmt.Sprintf(" of %d", g.Len())
	}
	count := st.Dim.Render("  " + pos)
	if g.Filtering() {
		count = st.Dim.Render("  filtering…")
	}
	switch {
	case f.typing:
		return f.in.View(st.Key) + count
	case g.Query() != "":
		return st.Key.Render("/") + g.Query() + count + st.Dim.Render("  (esc clears)")
	}
	return st.Dim.Render(pos)
}
