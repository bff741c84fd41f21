package tui

import (
	"context"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"statescope/keymap"
	"statescope/stores/repair"
	"statescope/stores/repair/backup"
	"statescope/tui/grid"
)

// backupTime is how backup and audit times are shown: UTC, to the second.
const backupTime = "2006-01-02 15:04:05Z"

// backupsView lists one record's backups, newest first; enter restores one.
type backupsView struct {
	scope
	env  *env
	keys keymap.Backups
	id   string
	// deleted: no record had the ID when the backups were listed.
	deleted bool
	table[backup.Backup]
}

func newBackupsView(e *env, id string) *backupsView {
	g := grid.New([]grid.Column[backup.Backup]{
		{Title: "TIME", MaxWidth: 22, Text: func(b backup.Backup) string { return b.Meta.Time.UTC().Format(backupTime) }},
		{Title: "TAKEN BEFORE", MaxWidth: 14, Text: func(b backup.Backup) string { return b.Meta.Action }},
		{Title: "SHA256", MaxWidth: 14, Text: func(b backup.Backup) string { return shortHash(b.Meta.SHA256) }},
		{Title: "FILE", Flex: true, Text: func(b backup.Backup) string { return filepath.Base(b.Path) }},
	}, func(b backup.Backup) string { return b.Path }, func(b backup.Backup) []string {
		return []string{b.Meta.Action, b.Meta.SHA256, b.Meta.Time.UTC().Format(backupTime)}
	}, e.styles.Grid)
	return &backupsView{env: e, keys: e.keys.Backups, id: id, table: newTable(g, func(b backup.Backup) (string, string) { return b.Path, "backup path" })}
}

func shortHash(h string) string { return h[:min(len(h), 12)] }

func (v *backupsView) Title() string     { return "backups" }
func (v *backupsView) Keys() help.KeyMap { return v.keys }
func (v *backupsView) Leave()            {}
func (v *backupsView) Enter() tea.Cmd    { return v.load() }

func (v *backupsView) SetSize(w, h int) {
	v.scope.SetSize(w, h)
	v.grid.SetSize(w, max(h-2, 2))
}

// backupsMsg is the record's backups as listed, and whether the record
// was gone then.
type backupsMsg struct {
	gen     int
	list    []backup.Backup
	deleted bool
	err     error
}

func (v *backupsView) load() tea.Cmd {
	if v.env.repair == nil {
		return showStatus("no state directory is set, so there are no backups to list", true)
	}
	ctx, gen := v.begin()
	v.loading = true
	eng, id := v.env.repair, v.id
	return v.tag(func() tea.Msg {
		list, err := eng.RecordBackups(id)
		o, oerr := eng.Observe(ctx, id)
		if ctx.Err() != nil {
			return nil
		}
		return backupsMsg{gen: gen, list: list, deleted: oerr == nil && !o.Exists, err: err}
	})
}

// Paste goes to the filter being typed.
func (v *backupsView) Paste(text string) tea.Cmd { return v.tag(v.filter.paste(text, v.grid)) }

func (v *backupsView) Update(msg tea.Msg) tea.Cmd {
	k := v.keys
	if cmd, ok := v.update(msg, v.env.keys.Input, tableKeys{Motion: k.Motion, Filter: k.Filter}); ok {
		return v.tag(cmd)
	}
	switch msg := msg.(type) {
	case backupsMsg:
		if !v.current(msg.gen) {
			return nil
		}
		v.loading, v.loaded, v.err, v.deleted = false, true, msg.err, msg.deleted
		return v.tag(v.grid.SetItems(msg.list))
	case storeChangedMsg:
		return v.load()
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Refresh):
			return v.load()
		case key.Matches(msg, k.CopyPath):
			return v.copyRow()
		case keymap.Pressed(msg, k.Restore):
			return v.restore()
		}
	}
	return nil
}

// restore opens the confirmation of putting the selected backup back.
func (v *backupsView) restore() tea.Cmd {
	if refused := v.env.refuse("restore", v.keys.Restore); refused != nil {
		return refused
	}
	b, ok := v.grid.Selected()
	if !ok {
		return nil
	}
	id, path := v.id, b.Path
	pv := newPlanView(v.env, repair.ActionRestore, id, func(ctx context.Context, eng *repair.Engine, _ bool) (*repair.Plan, error) {
		p, _, err := eng.PlanRestore(ctx, id, path)
		return p, err
	})
	pv.about = "from the backup taken before " + b.Meta.Action + " at " + b.Meta.Time.UTC().Format(backupTime) + " (" + filepath.Base(path) + ")"
	return v.env.router.push(pv)
}

func (v *backupsView) Render() string {
	st := v.env.styles
	var b strings.Builder
	b.WriteString(st.Bold.Render("backups of " + v.id))
	if v.deleted {
		b.WriteString(" · " + st.Error.Render("deleted") + st.Dim.Render("  enter brings it back as it was before the chosen change") + "\n")
	} else {
		b.WriteString(st.Dim.Render("  newest first · the record as it was before each change") + "\n")
	}
	switch {
	case v.err != nil:
		b.WriteString(st.Error.Render("listing backups failed: "+v.err.Error()) + st.Dim.Render("  — press r to retry"))
	case !v.loaded:
		b.WriteString(st.Dim.Render("reading backups…"))
	case v.grid.Len() == 0:
		b.WriteString(st.Dim.Render("no backups of " + v.id + " yet: every change statescope makes backs the record up first"))
	default:
		b.WriteString(v.grid.View())
	}
	return fit(b.String(), v.width, v.height-1) + "\n" + v.footer(st)
}
