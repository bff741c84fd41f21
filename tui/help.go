package tui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
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

// fitBindings renders as many bindings as fit in width, dropping them
// from the end but never pinned (the help key, which lists the rest), so
// a narrow screen never hides the way to find a binding.
func fitBindings(st Styles, bindings []key.Binding, pinned key.Binding, width int) string {
	bindings = slices.Clone(bindings)
	line := renderBindings(st, bindings, " • ")
	for ansi.StringWidth(line) > width {
		i := len(bindings) - 1
		for i >= 0 && bindings[i].Help() == pinned.Help() {
			i--
		}
		if i < 0 {
			break
		}
		bindings = slices.Delete(bindings, i, i+1)
		line = renderBindings(st, bindings, " • ")
	}
	return ansi.Truncate(line, max(width, 0), "…")
}

// helpView lists the bindings of the view it was opened from and the
// global ones, straight from the key map.
type helpView struct {
	scope
	env  *env
	of   View
	pane pane
	keys keymap.Help
}

func newHelpView(e *env, of View) *helpView {
	return &helpView{env: e, of: of, keys: e.keys.Help, pane: newPane()}
}

func (h *helpView) Title() string     { return "help" }
func (h *helpView) Enter() tea.Cmd    { h.render(); return nil }
func (h *helpView) Leave()            {}
func (h *helpView) Capturing() bool   { return false }
func (h *helpView) Busy() bool        { return false }
func (h *helpView) Keys() help.KeyMap { return h.keys }

func (h *helpView) SetSize(w, ht int) {
	h.scope.SetSize(w, ht)
	h.pane.setSize(w, ht)
	h.render()
}

func (h *helpView) render() {
	st := h.env.styles
	var b strings.Builder
	// Each binding shows its config name: what to put under keys: in the
	// config file to rebind it.
	section := func(title string, km help.KeyMap) {
		b.WriteString(st.Title.Render(title) + "\n")
		set := ""
		if s, ok := km.(keymap.Set); ok {
			set = s.SetName()
		}
		for _, group := range km.FullHelp() {
			for _, k := range group {
				hp := k.Help()
				name := st.Dim.Render(h.env.keys.ConfigName(set, k))
				line := "  " + padRight(hp.Key, 14) + padRight(hp.Desc, 24) + name
				if !k.Enabled() {
					line = st.KeyDisabled.Render("  "+padRight(hp.Key, 14)+hp.Desc) + st.Dim.Render("  disabled: read-only") + "  " + name
				}
				b.WriteString(line + "\n")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString(st.Dim.Render("keys are rebound in the config file under keys:, by the names on the right") + "\n\n")
	section(h.of.Title(), h.of.Keys())
	section("while typing (filter, command bar, confirmations, pickers)", h.env.keys.Input)
	section("global", h.env.keys.Global)
	h.pane.setContent(strings.TrimRight(b.String(), "\n"))
}

func (h *helpView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, h.keys.Up):
			h.pane.vp.ScrollUp(1)
		case key.Matches(msg, h.keys.Down):
			h.pane.vp.ScrollDown(1)
		}
	case tea.MouseWheelMsg:
		return h.pane.wheel(msg)
	}
	return nil
}

func (h *helpView) Render() string { return h.pane.view(h.env.styles) }

// padRight pads a label to w columns, always leaving a space after it.
func padRight(s string, w int) string {
	if ansi.StringWidth(s) >= w {
		return s + " "
	}
	return padTo(s, w)
}
