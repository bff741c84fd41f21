package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"statescope/keymap"
)

// renderBindings draws "key desc" pairs; a disabled binding is struck
// through and labelled, so read-only mode shows what it turned off.
func renderBindings(st Styles, bindings []key.Binding, sep string) string {
	parts := make([]string, 0, len(bindings))
	for _, b := range bindings {
		h := b.Help()
		if h.Key == "" {
			continue
		}
		if !b.Enabled() {
			parts = append(parts, st.KeyDisabled.Render(h.Key+" "+h.Desc)+st.Dim.Render(" (read-only)"))
			continue
		}
		parts = append(parts, st.Key.Render(h.Key)+" "+st.Dim.Render(h.Desc))
	}
	return strings.Join(parts, sep)
}

// helpView lists the bindings of the view it was opened from and the
// global ones, straight from the key map.
type helpView struct {
	scope
	env  *env
	of   View
	vp   viewport.Model
	keys keymap.Help
}

func newHelpView(e *env, of View) *helpView {
	return &helpView{env: e, of: of, keys: e.keys.Help, vp: viewport.New()}
}

func (h *helpView) Title() string     { return "help" }
func (h *helpView) Enter() tea.Cmd    { h.render(); return nil }
func (h *helpView) Leave()            {}
func (h *helpView) Capturing() bool   { return false }
func (h *helpView) Busy() bool        { return false }
func (h *helpView) Keys() help.KeyMap { return h.keys }

func (h *helpView) SetSize(w, ht int) {
	h.scope.SetSize(w, ht)
	h.vp.SetWidth(w)
	h.vp.SetHeight(ht)
	h.render()
}

func (h *helpView) render() {
	st := h.env.styles
	var b strings.Builder
	section := func(title string, km help.KeyMap) {
		b.WriteString(st.Title.Render(title) + "\n")
		for _, group := range km.FullHelp() {
			for _, k := range group {
				hp := k.Help()
				line := "  " + padRight(hp.Key, 14) + hp.Desc
				if !k.Enabled() {
					line = st.KeyDisabled.Render("  "+padRight(hp.Key, 14)+hp.Desc) + st.Dim.Render("  disabled: read-only")
				}
				b.WriteString(line + "\n")
			}
		}
		b.WriteString("\n")
	}
	section(h.of.Title(), h.of.Keys())
	section("while typing (filter, command bar, confirmations, pickers)", h.env.keys.Input)
	section("global", h.env.keys.Global)
	h.vp.SetContent(strings.TrimRight(b.String(), "\n"))
}

func (h *helpView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, h.keys.Up):
			h.vp.ScrollUp(1)
		case key.Matches(msg, h.keys.Down):
			h.vp.ScrollDown(1)
		}
	case tea.MouseWheelMsg:
		var cmd tea.Cmd
		h.vp, cmd = h.vp.Update(msg)
		return cmd
	}
	return nil
}

func (h *helpView) Render() string { return h.vp.View() }

// padRight pads a label to w columns, always leaving a space after it.
func padRight(s string, w int) string {
	if ansi.StringWidth(s) >= w {
		return s + " "
	}
	return padTo(s, w)
}
