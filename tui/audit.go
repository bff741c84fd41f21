package tui

import (
	"context"

	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"statescope/keymap"
	"statescope/stores/repair"
	"statescope/stores/repair/audit"
	"statescope/tui/grid"
)

// auditView is the audit log of every mutation statescope attempted,
// from every store, newest first.
type auditView struct {
	scope
	env  *env
	keys keymap.Audit
	log  audit.Log
	table[audit.Entry]
}

func newAuditView(e *env) *auditView {
	st := &e.styles
	g := grid.New([]grid.Column[audit.Entry]{
		{Title: "TIME", MaxWidth: 22, Text: func(a audit.Entry) string { return a.Time.UTC().Format(backupTime) },
			Compare: func(a, b audit.Entry) int { return b.Time.Compare(a.Time) }},
		{Title: "USER@HOST", MaxWidth: 28, Text: func(a audit.Entry) string { return a.Actor }},
		{Title: "ACTION", MaxWidth: 14, Text: func(a audit.Entry) string { return a.Action }},
		{Title: "RESOURCE", Flex: true, Text: func(a audit.Entry) string { return a.Resource }},
		{Title: "RESULT", MaxWidth: 8, Text: func(a audit.Entry) string { return a.Result },
			Style: func(a audit.Entry) *lipgloss.Style { return resultStyle(st, a.Result) }},
		{Title: "STORE · ERROR", MaxWidth: 72, Text: storeAndError},
	}, func(a audit.Entry) string { return a.Time.String() + a.Resource + a.Action }, func(a audit.Entry) []string {
		return []string{a.Resource, a.Action, a.Result, a.Actor, a.Target}
	}, st.Grid)
	g.SortBy(0) // newest first
	v := &auditView{env: e, keys: e.keys.Audit, table: newTable(g, func(a audit.Entry) (string, string) { return a.Resource, "resource ID " + a.Resource })}
	if e.opts.StateDir != "" {
		v.log = repair.AuditLog(e.opts.StateDir)
	}
	return v
}

// auditDialog shows an entry's whole JSON line, secret-looking values
// masked (an error may quote a connection string).
func auditDialog(a audit.Entry) *textDialog {
	raw, err := json.Marshal(a)
	text := prettyJSON(json.RawMessage(raw))
	if err != nil {
		text = err.Error()
	}
	text, _ = maskRaw(text)
	return &textDialog{title: "AUDIT ENTRY", sub: a.Time.UTC().Format(backupTime) + " · " + a.Action + " " + a.Resource, text: text, isErr: a.Result != audit.ResultApplied && a.Result != audit.ResultRefused}
}

func storeAndError(a audit.Entry) string {
	if a.Error == "" {
		return a.Target
	}
	return a.Target + " · " + a.Error
}

func resultStyle(st *Styles, result string) *lipgloss.Style {
	switch result {
	case audit.ResultApplied:
		return &st.OK
	case audit.ResultRefused:
		return &st.Warn
	}
	return &st.Error
}

func (v *auditView) Title() string     { return "audit" }
func (v *auditView) Keys() help.KeyMap { return v.keys }
func (v *auditView) Leave()            {}
func (v *auditView) Enter() tea.Cmd    { return v.load() }

func (v *auditView) SetSize(w, h int) {
	v.scope.SetSize(w, h)
	v.grid.SetSize(w, max(h-2, 2))
}

func (v *auditView) load() tea.Cmd {
	if v.log.Path == "" {
		v.loaded, v.err = true, fmt.Errorf("no state directory is set, so there is no audit log")
		return nil
	}
	log := v.log
	return v.table.load(&v.scope, func(context.Context) ([]audit.Entry, error) {
		entries, err := log.Read()
		slices.Reverse(entries) // the log is appended to: newest last
		return entries, err
	})
}

// Paste goes to the filter being typed.
func (v *auditView) Paste(text string) tea.Cmd { return v.tag(v.filter.paste(text, v.grid)) }

func (v *auditView) Update(msg tea.Msg) tea.Cmd {
	k := v.keys
	if cmd, ok := v.update(msg, v.env.keys.Input, tableKeys{Motion: k.Motion, Filter: k.Filter, Sort: k.Sort, Reverse: k.Reverse}); ok {
		return v.tag(cmd)
	}
	switch msg := msg.(type) {
	case loaded[[]audit.Entry]:
		// A bad line stops the read; what came before it is still shown.
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
			if a, ok := v.grid.Selected(); ok {
				v.env.router.dialog = auditDialog(a)
			}
		}
	}
	return nil
}

func (v *auditView) Render() string {
	st := v.env.styles
	var b strings.Builder
	b.WriteString(st.Bold.Render(fmt.Sprintf("%d audit entries", v.grid.Len())) + st.Dim.Render("  newest first · every mutation statescope attempted, on any store") + "\n")
	if v.err != nil {
		b.WriteString(st.Error.Render(v.err.Error()) + "\n")
	}
	switch {
	case !v.loaded:
		b.WriteString(st.Dim.Render("reading the audit log…"))
	case v.grid.Len() == 0 && v.err == nil:
		b.WriteString(st.Dim.Render("no entries yet: every repair, refused or not, is logged here"))
	case v.grid.Len() > 0:
		b.WriteString(v.grid.View())
	}
	return fit(b.String(), v.width, v.height-1) + "\n" + v.footer(st)
}
