package tui

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"statescope/stores"
	"statescope/stores/repair"
)

// statusView picks a workflow status and a reason for a record, then
// hands over to the confirmation with the diff.
type statusView struct {
	scope
	env     *env
	id      string
	current string
	choice  int
	reason  input
	missing bool // enter was pressed on error without a reason
	// about is a line under the title (the step of a flow this is in);
	// stopped, when set, is what cancelling says instead.
	about, stopped string
}

func newStatusView(e *env, st *stores.State) *statusView {
	return &statusView{env: e, id: st.ResourceID, current: st.Status,
		choice: max(slices.Index(stores.Statuses, st.Status), 0), reason: input{prompt: "reason: "}}
}

func (v *statusView) Title() string     { return "set status" }
func (v *statusView) Keys() help.KeyMap { return v.env.keys.Input }
func (v *statusView) Capturing() bool   { return true }

// TypingHelp: the picker's rows move with ↑/↓ while the reason is typed.
func (v *statusView) TypingHelp() []key.Binding {
	k := v.env.keys.Input
	return []key.Binding{k.Up, k.Down, k.Accept, k.Cancel}
}
func (v *statusView) Busy() bool     { return false }
func (v *statusView) Enter() tea.Cmd { return nil }
func (v *statusView) Leave()         {}

// Paste goes to the reason.
func (v *statusView) Paste(text string) tea.Cmd {
	v.reason.Paste(text)
	return nil
}

func (v *statusView) Update(msg tea.Msg) tea.Cmd {
	press, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	k, n := v.env.keys.Input, len(stores.Statuses)
	switch {
	case key.Matches(press, k.Cancel):
		v.env.router.setStatus(cmp.Or(v.stopped, "set status cancelled; nothing changed"), false)
		return v.env.router.pop()
	case key.Matches(press, k.Up):
		v.choice = (v.choice + n - 1) % n
	case key.Matches(press, k.Down):
		v.choice = (v.choice + 1) % n
	case key.Matches(press, k.Accept):
		return v.accept()
	default:
		v.reason.Update(press)
	}
	v.missing = false
	return nil
}

// accept replaces the picker with the confirmation of the change.
func (v *statusView) accept() tea.Cmd {
	status, reason := stores.Statuses[v.choice], strings.TrimSpace(v.reason.Value())
	if status == stores.StatusError && reason == "" {
		v.missing = true
		return nil
	}
	id := v.id
	r := v.env.router
	r.pop()
	pv := newPlanView(v.env, repair.ActionSetStatus, id, func(ctx context.Context, eng *repair.Engine, _ bool) (*repair.Plan, error) {
		return eng.PlanSetStatus(ctx, id, status, reason)
	})
	pv.about, pv.stopped = v.about, v.stopped
	return r.push(pv)
}

func (v *statusView) Render() string {
	st := v.env.styles
	var b strings.Builder
	b.WriteString(st.Bold.Render("SET STATUS") + " of " + st.Bold.Render(v.id) + st.Dim.Render("  (now "+dash(v.current)+")") + "\n")
	if v.about != "" {
		b.WriteString(st.Warn.Render(wrap(v.about, v.width)) + "\n")
	}
	b.WriteString("\n")
	for i, s := range stores.Statuses {
		line := "  " + st.StatusStyle(s).Render(s)
		if i == v.choice {
			line = st.Selected.Render("▸ "+s) + "  "
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("\n" + v.reason.View(st.Key) + "\n")
	if v.missing {
		b.WriteString(st.Error.Render("setting error needs a reason: it is recorded in the error field") + "\n")
	}
	b.WriteString(st.Dim.Render("↑/↓ picks a status · type a reason (required for error, which records it; the others clear the error field)") + "\n")
	b.WriteString(st.Dim.Render("enter shows the diff · esc cancels"))
	return b.String()
}
