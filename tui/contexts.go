package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"statescope/keymap"
	"statescope/tui/grid"
)

// contextsView is the :ctx picker: every config context with its target
// (credentials removed); enter switches to it.
type contextsView struct {
	scope
	env  *env
	keys keymap.Contexts
	table[string]
}

func newContextsView(e *env) *contextsView {
	target := func(name string) string { return e.opts.ContextTargets[name] }
	g := grid.New([]grid.Column[string]{
		{Title: "CONTEXT", MaxWidth: 30, MinWidth: 10, Middle: true, Text: func(n string) string { return n }},
		{Title: "TARGET", Flex: true, MinWidth: 16, Text: target},
	}, func(n string) string { return n }, func(n string) []string { return []string{n, target(n)} }, e.styles.Grid)
	g.SortBy(0)
	v := &contextsView{env: e, keys: e.keys.Contexts, table: newTable(g, func(n string) (string, string) { return n, "context name " + n })}
	g.Append(e.opts.Contexts)
	return v
}

func (v *contextsView) Title() string     { return "contexts" }
func (v *contextsView) Keys() help.KeyMap { return v.keys }
func (v *contextsView) Busy() bool        { return false }
func (v *contextsView) Enter() tea.Cmd    { return nil }
func (v *contextsView) Leave()            {}

func (v *contextsView) SetSize(w, h int) {
	v.scope.SetSize(w, h)
	v.grid.SetSize(w, max(h-2, 2))
}

// Paste goes to the filter being typed.
func (v *contextsView) Paste(text string) tea.Cmd { return v.tag(v.filter.paste(text, v.grid)) }

func (v *contextsView) Update(msg tea.Msg) tea.Cmd {
	k := v.keys
	if cmd, ok := v.update(msg, v.env.keys.Input, tableKeys{Motion: k.Motion, Filter: k.Filter}); ok {
		return v.tag(cmd)
	}
	if msg, ok := msg.(tea.KeyPressMsg); ok && key.Matches(msg, k.Switch) {
		if name, ok := v.grid.Selected(); ok {
			return v.env.router.switchContext(name)
		}
	}
	return nil
}

func (v *contextsView) Render() string {
	st := v.env.styles
	var b strings.Builder
	b.WriteString(st.Bold.Render("contexts") + st.Dim.Render("  from the config file · enter switches · now: "+v.env.session.Name) + "\n")
	if v.grid.Len() == 0 {
		b.WriteString(st.Dim.Render("the config file defines no contexts"))
	} else {
		b.WriteString(v.grid.View())
	}
	return fit(b.String(), v.width, v.height-1) + "\n" + v.footer(st)
}
