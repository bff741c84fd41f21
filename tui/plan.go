package tui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/pmezard/go-difflib/difflib"

	"statescope/keymap"
	"statescope/stores"
	"statescope/stores/redact"
	"statescope/stores/repair"
)

// planner plans a repair from the record as it is now; force is set once
// the user has confirmed deleting a record others depend on.
type planner func(ctx context.Context, eng *repair.Engine, force bool) (*repair.Plan, error)

// planView is the confirmation of one repair: what it acts on, its notes,
// the diff (secrets masked until x), and enter/y to apply it through the
// engine. It plans on entry, under its own context.
type planView struct {
	scope
	env  *env
	keys keymap.Confirm
	pane pane

	action   repair.Action
	resource string
	plan     planner
	// about is an extra line on what the change is (the backup restored,
	// the step of a flow); stopped, when set, is what cancelling says.
	about, stopped string
	// kept is the user's edited record: saved to a private file when the
	// edit is not applied, so the text is never lost.
	kept []byte

	planning, applying bool
	p                  *repair.Plan
	blocked            error
	err                error
	explain            string
	dependents         []string
	force              *typedConfirm
	forced             bool
	revealed           bool
}

func newPlanView(e *env, action repair.Action, id string, plan planner) *planView {
	return &planView{env: e, keys: e.keys.Confirm, pane: newPane(), action: action, resource: id, plan: plan}
}

// openDelete opens the confirmation of deleting a record; it lists the
// records that depend on it and refuses until told to delete anyway.
func (e *env) openDelete(id string, b key.Binding) tea.Cmd {
	if refused := e.refuse("delete", b); refused != nil {
		return refused
	}
	return e.router.push(newPlanView(e, repair.ActionDelete, id, func(ctx context.Context, eng *repair.Engine, force bool) (*repair.Plan, error) {
		return eng.PlanDelete(ctx, id, force)
	}))
}

func (v *planView) Title() string     { return string(v.action) }
func (v *planView) Keys() help.KeyMap { return planKeys{v.keys, v} }

// planKeys offers only what the screen can do now: no apply while the
// plan is read, after a refusal or while dependents block a delete.
type planKeys struct {
	keymap.Confirm
	v *planView
}

func (k planKeys) ShortHelp() []key.Binding {
	v, c := k.v, k.Confirm
	switch {
	case v.dependents != nil && !v.forced:
		return []key.Binding{c.Force}
	case v.err != nil || v.p == nil || v.applying:
		return nil
	}
	return []key.Binding{c.Apply, c.Reveal}
}

func (v *planView) Capturing() bool { return v.force != nil }
func (v *planView) Busy() bool      { return v.planning || v.applying }
func (v *planView) Enter() tea.Cmd  { return v.replan() }

func (v *planView) SetSize(w, h int) {
	v.scope.SetSize(w, h)
	v.pane.setSize(w, h)
	v.render()
}

// plannedMsg is a plan and whether the record's lock blocks it now.
type plannedMsg struct {
	gen     int
	plan    *repair.Plan
	blocked error
	err     error
}

func (v *planView) replan() tea.Cmd {
	ctx, gen := v.begin()
	v.planning, v.p, v.err, v.explain, v.dependents = true, nil, nil, "", nil
	v.render()
	eng, plan, force, id := v.env.repair, v.plan, v.forced, v.resource
	return v.tag(func() tea.Msg {
		p, err := plan(ctx, eng, force)
		msg := plannedMsg{gen: gen, plan: p, err: err}
		if err == nil {
			msg.blocked = eng.Blocked(ctx, id)
		}
		return msg
	})
}

func (v *planView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case plannedMsg:
		if !v.current(msg.gen) {
			return nil
		}
		v.planning = false
		v.p, v.blocked, v.err = msg.plan, msg.blocked, quiet(msg.err)
		if de := (*repair.DependentsError)(nil); errors.As(msg.err, &de) {
			v.dependents = de.Dependents
		}
		v.render()
	case blockedMsg:
		if v.current(msg.gen) {
			v.blocked = msg.blocked
			v.render()
		}
	case storeChangedMsg:
		// A lock released elsewhere unblocks the plan: check again, so
		// the screen never keeps a stale answer.
		if v.p != nil && !v.planning && !v.applying {
			return v.recheck()
		}
	case repairedMsg:
		v.applying = false
		if msg.err == nil {
			v.kept = nil
			if v.env.router.top() == v {
				return v.env.router.pop()
			}
			return nil
		}
		if locked := (*repair.LockedError)(nil); errors.As(msg.err, &locked) {
			// Still locked when applied: the plan stands, y tries again.
			v.blocked = msg.err
			v.render()
			return nil
		}
		v.err, v.explain = msg.err, explanation(msg.err)
		v.keepText()
		v.render()
	case tea.MouseWheelMsg:
		return v.pane.wheel(msg)
	case tea.KeyPressMsg:
		if v.force != nil {
			return v.forceKey(msg)
		}
		return v.key(msg)
	}
	return nil
}

// blockedMsg is whether the record's lock blocks the plan, checked anew.
type blockedMsg struct {
	gen     int
	blocked error
}

func (v *planView) recheck() tea.Cmd {
	ctx, gen := v.begin()
	eng, id := v.env.repair, v.resource
	return v.tag(func() tea.Msg { return blockedMsg{gen: gen, blocked: eng.Blocked(ctx, id)} })
}

// explanation is a refusal's longer story (the three-way diff of a
// conflict), "" when it has none.
func explanation(err error) string {
	var ex interface{ Explain() string }
	if errors.As(err, &ex) {
		return ex.Explain()
	}
	return ""
}

func (v *planView) key(msg tea.KeyPressMsg) tea.Cmd {
	k := v.keys
	switch {
	case key.Matches(msg, k.Cancel):
		v.Back()
		return v.env.router.pop()
	case key.Matches(msg, k.Up):
		v.pane.vp.ScrollUp(1)
	case key.Matches(msg, k.Down):
		v.pane.vp.ScrollDown(1)
	case key.Matches(msg, k.Reveal):
		v.revealed = !v.revealed
		v.render()
	case keymap.Pressed(msg, k.Force) && v.dependents != nil:
		if refused := v.env.refuse("delete", k.Force); refused != nil {
			return refused
		}
		v.force = newTypedConfirm(v.resource)
		v.render()
	case keymap.Pressed(msg, k.Apply):
		return v.apply()
	}
	return nil
}

// apply sends the plan on its way, or says why it cannot. Whether the
// record is locked is checked again as it is applied, never taken from
// what the screen found earlier.
func (v *planView) apply() tea.Cmd {
	if refused := v.env.refuse(string(v.action), v.keys.Apply); refused != nil {
		return refused
	}
	switch {
	case v.planning:
		// Never apply a change the operator has not seen.
		return showStatus("still reading "+v.resource+": the change can be applied once its diff shows", false)
	case v.applying || v.p == nil:
		return nil
	case v.err != nil:
		return showStatus(string(v.action)+" was refused; nothing to apply — esc goes back", true)
	case v.dependents != nil:
		return showStatus("delete refused: others depend on "+v.resource+" — f deletes it anyway", true)
	}
	v.applying = true
	v.render()
	return v.env.applyPlan(v.id, v.p)
}

// forceKey reads the typed-back ID that confirms deleting anyway.
func (v *planView) forceKey(msg tea.KeyPressMsg) tea.Cmd {
	switch accepted, cancelled := v.force.key(msg, v.env.keys.Input); {
	case cancelled:
		v.force = nil
		v.render()
	case accepted:
		v.force, v.forced = nil, true
		return v.replan()
	default:
		v.render()
	}
	return nil
}

// Paste goes to the typed-back ID.
func (v *planView) Paste(text string) tea.Cmd {
	if v.force != nil {
		v.force.paste(text)
		v.render()
	}
	return nil
}

// Back reports the cancellation; the router then leaves the view.
func (v *planView) Back() bool {
	if !v.applying {
		v.env.router.setStatus(cmp.Or(v.stopped, string(v.action)+" cancelled; nothing changed"), false)
	}
	return false
}

// Leave keeps an edit that was not applied, however the view is left.
func (v *planView) Leave() { v.keepText() }

// keepText saves the user's edited record, if it was not applied, to a
// private file, once, and puts the path before the status line's message
// where the screen's edge cannot cut it off.
func (v *planView) keepText() {
	if v.kept == nil {
		return
	}
	r := v.env.router
	path, err := v.env.repair.Drafts.Keep("*.json", v.kept)
	v.kept = nil
	if err != nil {
		r.setStatus(r.status+"; keeping your edited record failed: "+err.Error(), true)
		return
	}
	r.setStatus("draft is kept in "+path+" — "+r.status, r.statusErr)
}

func (v *planView) render() {
	st := v.env.styles
	var b strings.Builder
	b.WriteString(st.Error.Render(strings.ToUpper(string(v.action))) + " " + st.Bold.Render(v.resource) + st.Dim.Render(" in "+v.env.session.Name) + "\n")
	if v.about != "" {
		b.WriteString(wrap(v.about, v.width) + "\n")
	}
	switch {
	case v.planning:
		b.WriteString(st.Dim.Render("reading " + v.resource + " as it is now…"))
	case v.force != nil:
		b.WriteString(st.Warn.Render(wrap(v.resource+" is listed in the dependencies of "+strings.Join(v.dependents, ", "), v.width)) + "\n")
		b.WriteString("Deleting it anyway leaves them pointing at nothing.\n\n" + v.force.view(st))
		b.WriteString(st.Dim.Render("enter goes on to the diff · esc cancels"))
	case v.dependents != nil:
		b.WriteString(st.Error.Render("delete refused: "+v.resource+" is listed in the dependencies of:") + "\n")
		for _, d := range v.dependents {
			b.WriteString("  " + d + "\n")
		}
		b.WriteString("\n" + st.Dim.Render("f deletes it anyway (type the ID to confirm) · esc cancels"))
	case v.err != nil:
		b.WriteString(st.Error.Render(wrap(v.err.Error(), v.width)) + "\n")
		b.WriteString(st.Dim.Render("nothing was written · esc goes back") + "\n")
		if v.explain != "" {
			b.WriteString("\n" + colorUnified(st, v.explain))
		}
	case v.p != nil:
		v.writePlan(&b)
	}
	v.pane.setContent(b.String())
}

func (v *planView) writePlan(b *strings.Builder) {
	st, p := v.env.styles, v.p
	seen := "absent now"
	if p.Seen.Exists {
		seen = "sha256 " + shortHash(p.Seen.SHA256) + " as read now"
	}
	b.WriteString(st.Dim.Render(seen) + "\n")
	for _, n := range p.Notes {
		b.WriteString(st.Warn.Render(wrap("note: "+n, v.width)) + "\n")
	}
	if v.blocked != nil {
		b.WriteString(st.Error.Render(wrap(v.blocked.Error(), v.width)) + "\n")
	}
	_, secrets := maskRaw(string(p.Seen.Raw))
	if p.Seen.Corrupt == "" {
		secrets = 0 // the record's values are counted below
	}
	for _, s := range []*stores.State{p.Seen.State, p.Want} {
		if s != nil { // absent or unreadable
			secrets += redact.Count(s)
		}
	}
	switch {
	case secrets > 0 && v.revealed:
		b.WriteString(st.Error.Render("secrets REVEALED — x masks") + "\n")
	case secrets > 0:
		b.WriteString(st.Warn.Render("secret-looking values masked — x reveals") + "\n")
	}
	b.WriteString("\n")
	switch {
	case p.Seen.Corrupt != "":
		b.WriteString(corruptPlan(st, p, v.revealed, v.width))
	case v.revealed && secrets > 0:
		b.WriteString(renderUnified(st, "current "+p.ID, "after "+string(p.Action), recordLines(p.Seen.State), recordLines(p.Want)))
	default:
		b.WriteString(colorUnified(st, p.Diff()))
	}
	b.WriteString("\n\n")
	switch {
	case v.applying:
		b.WriteString(st.Dim.Render("applying…"))
	case v.blocked != nil:
		b.WriteString(st.Dim.Render("release the lock first (L, then F); ") + st.Key.Render("y") + st.Dim.Render(" checks again and applies once it is free · esc cancels"))
	default:
		how := "backed up, locked and checked against what you see before it is written · "
		if !p.Seen.Exists {
			how = "created only if no record has the ID when it is written (nothing is overwritten) · "
		}
		b.WriteString(st.Dim.Render(how) + st.Key.Render("enter/y") + " applies · " + st.Key.Render("esc") + " cancels")
	}
}

// corruptPlan shows a plan for an unreadable record: its bytes (secret-
// looking values masked) and what becomes of them, never a diff of
// nothing against nothing.
func corruptPlan(st Styles, p *repair.Plan, revealed bool, width int) string {
	fate := "deleted"
	if p.Want != nil {
		fate = "replaced"
	}
	head := fmt.Sprintf("The current record is unreadable (%d bytes, sha256 %s): %s\nIts exact bytes are backed up, then it is %s.", len(p.Seen.Raw), shortHash(p.Seen.SHA256), p.Seen.Corrupt, fate)
	var b strings.Builder
	b.WriteString(st.Warn.Render(wrap(head, width)) + "\n\n")
	b.WriteString(st.Bold.Render("--- current "+p.ID+" (unreadable)") + "\n")
	if p.Want == nil {
		b.WriteString(st.Bold.Render("+++ deleted") + "\n")
	} else {
		b.WriteString(st.Bold.Render("+++ after "+string(p.Action)) + "\n")
	}
	raw, want := string(p.Seen.Raw), p.Want
	if !revealed {
		raw, _ = maskRaw(raw)
		if want != nil {
			want = redact.State(want)
		}
	}
	for _, l := range strings.Split(strings.TrimRight(raw, "\n"), "\n") {
		b.WriteString(st.Removed.Render("-"+l) + "\n")
	}
	for _, l := range recordLines(want) {
		b.WriteString(st.Added.Render("+"+strings.TrimRight(l, "\n")) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// recordLines is a record's stored encoding as diff lines, unmasked.
func recordLines(s *stores.State) []string {
	if s == nil {
		return nil
	}
	raw, err := stores.EncodeState(s)
	if err != nil {
		return []string{fmt.Sprintf("(cannot encode: %v)\n", err)}
	}
	return difflib.SplitLines(string(raw))
}

func (v *planView) Render() string { return v.pane.view(v.env.styles) }
