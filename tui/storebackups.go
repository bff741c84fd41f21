package tui

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"statescope/keymap"
	"statescope/stores/redact"
	"statescope/stores/repair"
	"statescope/tui/grid"
)

// storeBackupsView lists every record of the store that has backups —
// deleted ones too, like a trash can — the most recently backed up first;
// enter opens that record's backups to restore one.
type storeBackupsView struct {
	scope
	env  *env
	keys keymap.StoreBackups
	table[repair.BackedUp]
}

func newStoreBackupsView(e *env) *storeBackupsView {
	st := &e.styles
	newest := func(b repair.BackedUp) string { return b.Newest().Meta.Time.UTC().Format(backupTime) }
	g := grid.New([]grid.Column[repair.BackedUp]{
		{Title: "RESOURCE", Flex: true, Middle: true, MinWidth: 16, Text: func(b repair.BackedUp) string { return b.ID }},
		{Title: "NOW", Whole: true, Text: func(b repair.BackedUp) string { return string(b.Now) },
			Style: func(b repair.BackedUp) *lipgloss.Style { return nowStyle(st, b.Now) }},
		{Title: "BACKUPS", MaxWidth: 7, Text: func(b repair.BackedUp) string { return strconv.Itoa(len(b.Backups)) },
			Compare: func(a, b repair.BackedUp) int { return len(a.Backups) - len(b.Backups) }},
		{Title: "NEWEST", MaxWidth: 22, Text: newest,
			Compare: func(a, b repair.BackedUp) int { return a.Newest().Meta.Time.Compare(b.Newest().Meta.Time) }},
		{Title: "TAKEN BEFORE", MaxWidth: 14, Drop: 1, Text: func(b repair.BackedUp) string { return b.Newest().Meta.Action }},
	}, func(b repair.BackedUp) string { return b.ID }, func(b repair.BackedUp) []string {
		return []string{b.ID, string(b.Now), b.Newest().Meta.Action}
	}, st.Grid)
	g.SortBy(3)
	g.Reverse() // newest first
	return &storeBackupsView{env: e, keys: e.keys.StoreBackups, table: newTable(g, func(b repair.BackedUp) (string, string) { return b.ID, "resource ID " + b.ID })}
}

// nowStyle marks what an operator looks for: records that are gone.
func nowStyle(st *Styles, now repair.RecordNow) *lipgloss.Style {
	switch now {
	case repair.NowDeleted, repair.NowUnreadable:
		return &st.Error
	case repair.NowUnknown:
		return &st.Warn
	case repair.NowSame:
		return &st.OK
	}
	return &st.Plain
}

func (v *storeBackupsView) Title() string     { return "all backups" }
func (v *storeBackupsView) Keys() help.KeyMap { return v.keys }
func (v *storeBackupsView) Leave()            {}
func (v *storeBackupsView) Enter() tea.Cmd    { return v.load() }

func (v *storeBackupsView) SetSize(w, h int) {
	v.scope.SetSize(w, h)
	v.grid.SetSize(w, max(h-2, 2))
}

// load lists the store's backups, with each record read.
func (v *storeBackupsView) load() tea.Cmd {
	if v.env.repair == nil {
		v.loaded, v.err = true, fmt.Errorf("no state directory is set, so there are no backups to list")
		return nil
	}
	return v.table.load(&v.scope, v.env.repair.StoreBackups)
}

// Paste goes to the filter being typed.
func (v *storeBackupsView) Paste(text string) tea.Cmd { return v.tag(v.filter.paste(text, v.grid)) }

func (v *storeBackupsView) Update(msg tea.Msg) tea.Cmd {
	k := v.keys
	if cmd, ok := v.update(msg, v.env.keys.Input, tableKeys{Motion: k.Motion, Filter: k.Filter, Sort: k.Sort, Reverse: k.Reverse}); ok {
		return v.tag(cmd)
	}
	switch msg := msg.(type) {
	case loaded[[]repair.BackedUp]:
		return v.listed(&v.scope, msg)
	case storeChangedMsg:
		return v.load()
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Refresh):
			return v.load()
		case key.Matches(msg, k.CopyID):
			return v.copyRow()
		case key.Matches(msg, k.Open):
			if b, ok := v.grid.Selected(); ok {
				return v.env.router.push(newBackupsView(v.env, b.ID))
			}
		}
	}
	return nil
}

func (v *storeBackupsView) Render() string {
	st := v.env.styles
	var b strings.Builder
	deleted, unread := 0, []string{}
	for _, it := range v.grid.Items() {
		switch {
		case it.Now == repair.NowDeleted:
			deleted++
		case it.Err != nil:
			unread = append(unread, it.ID+": "+redact.Text(it.Err.Error()))
		}
	}
	records := "records"
	if v.grid.Len() == 1 {
		records = "record"
	}
	b.WriteString(st.Bold.Render(fmt.Sprintf("%d %s with backups", v.grid.Len(), records)))
	if deleted > 0 {
		b.WriteString(" · " + st.Error.Render(fmt.Sprintf("%d deleted", deleted)))
	}
	b.WriteString(st.Dim.Render("  newest first · enter lists its backups") + "\n")
	switch {
	case v.err != nil:
		b.WriteString(loadFailed(st, "listing backups failed", v.err, v.width) + st.Dim.Render("  — press r to retry"))
	case !v.loaded:
		b.WriteString(st.Dim.Render("reading backups…"))
	case v.grid.Len() == 0:
		b.WriteString(st.Dim.Render("no backups from this store yet: every change statescope makes backs the record up first"))
	default:
		if len(unread) > 0 {
			more := ""
			if len(unread) > 1 {
				more = fmt.Sprintf(" (and %d more)", len(unread)-1)
			}
			b.WriteString(st.Warn.Render(wrap("could not read "+unread[0]+more, v.width)) + "\n")
		}
		b.WriteString(v.grid.View())
	}
	return fit(b.String(), v.width, v.height-1) + "\n" + v.footer(st)
}
