package tui

import (
	tea "charm.land/bubbletea/v2"

	"statescope/stores"
	"statescope/stores/graph"
)

// missingDepWord marks a record with a dependency no record has, in the
// table's STATUS column and as a filter word.
const missingDepWord = "missing-dep"

// danglingMsg names the listed records that depend on an ID no listed
// record has.
type danglingMsg struct {
	gen     int
	missing map[string]bool
}

// findDangling builds the dependency graph of a complete listing off the
// keystroke path (the rows are never written again) and reports its
// dangling edges.
func (v *resourcesView) findDangling(gen int) tea.Cmd {
	items := v.grid.Items()
	rows := items[:len(items):len(items)]
	return v.tag(func() tea.Msg {
		missing := map[string]bool{}
		for _, e := range graph.FromRows(rows).Edges {
			if e.Dangling {
				missing[e.From] = true
			}
		}
		return danglingMsg{gen: gen, missing: missing}
	})
}

// dangling marks the rows; only those whose mark changed are searched
// differently.
func (v *resourcesView) dangling(msg danglingMsg) tea.Cmd {
	if !v.current(msg.gen) {
		return nil
	}
	old := v.missing
	v.missing, v.header = msg.missing, nil
	return v.tag(v.grid.Recompute(func(r stores.Row) bool { return old[r.ID] != v.missing[r.ID] }))
}

// depMark is what the STATUS cell adds for a missing dependency.
func (v *resourcesView) depMark(r stores.Row) string {
	if v.missing[r.ID] {
		return " ⚠" + missingDepWord
	}
	return ""
}
