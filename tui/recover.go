package tui

import (
	"context"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"statescope/keymap"
	"statescope/stores"
	"statescope/stores/repair"
)

// recoverable reports a record recover applies to: stuck, under a lock
// judged orphaned.
func recoverable(stuck bool, l *stores.LockInfo) bool {
	return stuck && l != nil && l.Verdict == stores.VerdictOrphaned
}

// openRecover starts recover on id. Whether it applies is the engine's to
// say, from the store as it is now: the footer's offer is only as fresh
// as the listing.
func (e *env) openRecover(id string, b key.Binding) tea.Cmd {
	if refused := e.refuse("recover", b); refused != nil {
		return refused
	}
	return e.router.push(&recoverView{env: e, resource: id})
}

// recoverView is step 1 of recover: the orphaned lock as it is now, its
// exact token, and the ID typed back to release it. Once released, the
// status picker (step 2) takes its place, offering error first.
type recoverView struct {
	scope
	env      *env
	resource string

	planning, applying bool
	p                  *repair.RecoverPlan
	err                error
	typed              *typedConfirm
}

func (v *recoverView) Title() string     { return "recover" }
func (v *recoverView) Keys() help.KeyMap { return recoverKeys{v.env.keys.Input} }
func (v *recoverView) Capturing() bool   { return v.typed != nil && !v.applying }
func (v *recoverView) Busy() bool        { return v.planning || v.applying }
func (v *recoverView) Leave()            {}

// recoverKeys: once the step is answered nothing is left to do here but
// go back (esc, shown with the global keys).
type recoverKeys struct{ keymap.Input }

func (recoverKeys) ShortHelp() []key.Binding { return nil }

// Enter plans step 1 from the store as it is now.
func (v *recoverView) Enter() tea.Cmd {
	v.planning = true
	eng, id := v.env.repair, v.resource
	return fetch(&v.scope, func(ctx context.Context) (*repair.RecoverPlan, error) { return eng.PlanRecover(ctx, id) })
}

func (v *recoverView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case loaded[*repair.RecoverPlan]:
		if v.current(msg.gen) {
			v.planning, v.p, v.err = false, msg.value, quiet(msg.err)
			if v.err == nil {
				v.typed = newTypedConfirm(v.resource)
			}
		}
	case repairedMsg:
		v.applying = false
		if msg.err != nil {
			v.err, v.typed = msg.err, nil
			return nil
		}
		return v.stepTwo()
	case tea.KeyPressMsg:
		if v.typed == nil || v.applying {
			return nil
		}
		switch accepted, cancelled := v.typed.key(msg, v.env.keys.Input); {
		case cancelled:
			v.env.router.setStatus("recover cancelled; nothing changed", false)
			return v.env.router.pop()
		case accepted:
			v.applying = true
			p := v.p
			return v.env.mutate(v.scope.id, repair.ActionRelease, v.resource, func(ctx context.Context, eng *repair.Engine) (repair.Result, error) {
				return eng.ApplyRecoverRelease(ctx, p)
			})
		}
	}
	return nil
}

// stepTwo replaces step 1 with the status picker, error and its reason
// offered first.
func (v *recoverView) stepTwo() tea.Cmd {
	rec, r := v.p.Record, v.env.router
	sv := newStatusView(v.env, rec)
	sv.choice = max(slices.Index(stores.Statuses, v.p.Status), 0)
	sv.reason.SetValue(v.p.Reason)
	sv.about = "recover step 2 of 2: lock released; esc leaves the status " + dash(rec.Status)
	sv.stopped = "recover stopped after step 1: the lock on " + v.resource + " is released, its status untouched (" + dash(rec.Status) + ")"
	r.pop()
	return r.push(sv)
}

// Paste goes to the typed-back ID.
func (v *recoverView) Paste(text string) tea.Cmd {
	if v.typed != nil {
		v.typed.paste(text)
	}
	return nil
}

func (v *recoverView) Render() string {
	st := v.env.styles
	var b strings.Builder
	b.WriteString(st.Error.Render("RECOVER") + " " + st.Bold.Render(v.resource) + st.Dim.Render(" in "+v.env.session.Name+"  step 1 of 2: release the orphaned lock") + "\n\n")
	switch {
	case v.planning:
		b.WriteString(st.Dim.Render("reading " + v.resource + " and its lock as they are now…"))
	case v.err != nil:
		b.WriteString(st.Error.Render(wrap(v.err.Error(), v.width)) + "\n")
		b.WriteString(st.Dim.Render("nothing was released · esc goes back"))
	case v.p != nil:
		rec := v.p.Record
		b.WriteString(padRight("record", 10) + st.StatusStyle(rec.Status).Render(rec.Status) + st.Error.Render("  stuck for "+stores.RelativeAge(rec.UpdatedAt, v.env.now())) + "\n")
		b.WriteString(wrap(v.p.Release.Describe(), v.width) + "\n")
		b.WriteString(wrap("The lock is backed up and the release audited; it goes ahead only if the lock still has this token and is still judged orphaned.", v.width) + "\n")
		b.WriteString(wrap("Step 2 then offers status "+v.p.Status+" (reason: "+v.p.Reason+") or another, and shows its diff before anything is written.", v.width) + "\n\n")
		if v.applying {
			b.WriteString(st.Dim.Render("releasing…"))
			break
		}
		b.WriteString(v.typed.view(st))
		b.WriteString(st.Dim.Render("enter releases the lock · esc cancels (nothing changes)"))
	}
	return fit(b.String(), v.width, v.height)
}

// resourcesKeys offers recover in the footer only on a row it applies to.
type resourcesKeys struct {
	keymap.Resources
	v *resourcesView
}

func (k resourcesKeys) ShortHelp() []key.Binding {
	short := k.Resources.ShortHelp()
	if r, ok := k.v.grid.Selected(); ok && k.v.recoverable(r) {
		short = append([]key.Binding{k.Recover}, short...)
	}
	return short
}

func (v *resourcesView) recoverable(r stores.Row) bool {
	l, ok := v.locks[r.ID]
	return ok && recoverable(r.IsStuck(v.env.now(), v.env.opts.StaleAfter), &l)
}

func (v *resourcesView) startRecover() tea.Cmd {
	if r, ok := v.grid.Selected(); ok {
		return v.env.openRecover(r.ID, v.keys.Recover)
	}
	return nil
}

// recoverable: the footer offers recover (detailKeys).
func (d *detailView) recoverable() bool { return recoverable(d.stuck(), d.lock) }

func (d *detailView) stuck() bool {
	return d.state != nil && d.state.IsStuck(d.env.now(), d.env.opts.StaleAfter)
}

func (d *detailView) startRecover() tea.Cmd {
	return d.env.openRecover(d.entry.ID, d.keys.Recover)
}
