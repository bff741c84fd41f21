package tui

import (
	"context"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"statescope/keymap"
	"statescope/tui/grid"
)

// table is a grid with the "/" filter, the part every newer table view
// (backups, audit) shares: filtering, moving, sorting, pasting.
type table[T any] struct {
	grid   *grid.Model[T]
	filter tableFilter[T]
	// id is the text y copies from a row, and what it is called.
	id func(T) (text, what string)
	// loading while a load runs; loaded once one has answered; err is the
	// last load's error (what it read before failing is still shown).
	loading, loaded bool
	err             error
}

// load reads the table's items off the UI goroutine as a new load of the
// view s (fetch).
func (t *table[T]) load(s *scope, read func(context.Context) ([]T, error)) tea.Cmd {
	t.loading = true
	return fetch(s, read)
}

// listed shows what a load read, if it is the view's live load.
func (t *table[T]) listed(s *scope, msg loaded[[]T]) tea.Cmd {
	if !s.current(msg.gen) {
		return nil
	}
	t.loading, t.loaded, t.err = false, true, msg.err
	return s.tag(t.grid.SetItems(msg.value))
}

// Busy while a load runs.
func (t *table[T]) Busy() bool { return t.loading }

func newTable[T any](g *grid.Model[T], id func(T) (text, what string)) table[T] {
	return table[T]{grid: g, filter: newTableFilter[T](), id: id}
}

// tableKeys are a table view's bindings for the shared handling; an unset
// binding (a view without sorting) never matches.
type tableKeys struct {
	keymap.Motion
	Filter, Sort, Reverse key.Binding
}

// update handles what every table does: grid filter replies, the wheel,
// the filter being typed, motion, filter, sort and reverse. It reports
// whether msg was one of those; the command needs the view's tag.
func (t *table[T]) update(msg tea.Msg, in keymap.Input, k tableKeys) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case grid.FilterMsg:
		return t.grid.Apply(msg), true
	case tea.MouseWheelMsg:
		t.grid.Move(wheelDelta(msg))
		return nil, true
	case clickMsg:
		t.grid.Click(msg.y - 1) // under the view's one title line
		return nil, true
	case tea.KeyPressMsg:
		if t.filter.typing {
			return t.filter.key(msg, in, t.grid), true
		}
		if moveGrid(msg, t.grid, k.Motion) {
			return nil, true
		}
		switch {
		case key.Matches(msg, k.Filter):
			t.filter.start(t.grid)
			return nil, true
		case key.Matches(msg, k.Sort):
			return t.grid.CycleSort(), true
		case key.Matches(msg, k.Reverse):
			return t.grid.Reverse(), true
		}
	}
	return nil, false
}

// copyRow copies the selected row's ID. The command goes to the program
// as it is (its clipboard message is not the view's), so it is not tagged.
func (t *table[T]) copyRow() tea.Cmd {
	it, ok := t.grid.Selected()
	if !ok {
		return nil
	}
	return copyCmd(t.id(it))
}

// Capturing reports the filter being typed.
func (t *table[T]) Capturing() bool { return t.filter.typing }

// Back clears the filter before esc leaves the view.
func (t *table[T]) Back() bool { return t.filter.clear(t.grid) }

// footer is the filter line under the table.
func (t *table[T]) footer(st Styles) string { return t.filter.line(st, t.grid) }
