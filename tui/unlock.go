package tui

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"statescope/remote"
	"statescope/stores"
	"statescope/stores/repair"
)

// actionUnlock is the audit log's name for the backend's plain Unlock.
const actionUnlock = remote.ActionUnlock

// unlockWarner finds the plain-Unlock warning of a remote store, behind
// any read-only wrapper.
func unlockWarner(s stores.Store) (remote.UnlockWarning, bool) {
	w, ok := stores.Unwrap(s).(remote.UnlockWarning)
	return w, ok
}

// plainUnlock is the dialog for a backend without a lock inventory: the
// operator types a resource ID, reads what the backend's plain Unlock does
// there, and types the ID back.
type plainUnlock struct {
	warning string
	id      input
	typed   *typedConfirm // once the ID is entered
}

// startUnlock opens the dialog, or says why it cannot.
func (v *locksView) startUnlock() tea.Cmd {
	if refused := v.env.refuse("unlock", v.keys.Unlock); refused != nil {
		return refused
	}
	w, ok := unlockWarner(v.env.session.Store)
	if !ok || !v.unsupported {
		return showStatus("unlock by ID is for remote backends without a lock inventory; use force release ("+v.keys.ForceUnlock.Help().Key+")", true)
	}
	v.unlock = &plainUnlock{warning: w.UnlockWarning(), id: input{prompt: "resource ID to unlock: "}}
	return nil
}

func (v *locksView) unlockKey(msg tea.KeyPressMsg) tea.Cmd {
	u, k := v.unlock, v.env.keys.Input
	if u.typed == nil {
		switch {
		case key.Matches(msg, k.Cancel):
			v.unlock = nil
		case key.Matches(msg, k.Accept):
			if id := strings.TrimSpace(u.id.Value()); id != "" {
				u.typed = newTypedConfirm(id)
			}
		default:
			u.id.Update(msg)
		}
		return nil
	}
	switch accepted, cancelled := u.typed.key(msg, k); {
	case cancelled:
		v.unlock = nil
		return showStatus("unlock cancelled; nothing changed", false)
	case accepted:
		v.unlock = nil
		return v.env.plainUnlock(u.typed.want)
	}
	return nil
}

func (u *plainUnlock) paste(text string) {
	if u.typed != nil {
		u.typed.paste(text)
		return
	}
	u.id.Paste(text)
}

func (u *plainUnlock) view(st Styles, width int) string {
	w := min(width, 100)
	var b strings.Builder
	b.WriteString(st.Error.Render("PLAIN UNLOCK") + st.Dim.Render("  (this backend has no lock inventory)") + "\n\n")
	if u.typed == nil {
		b.WriteString(u.id.View(st.Key) + "\n\n")
		b.WriteString(st.Warn.Render(wrap(u.warning, w-4)) + "\n\n")
		b.WriteString(st.Dim.Render("enter continues · esc cancels"))
		return st.Box.Width(w).Render(b.String())
	}
	b.WriteString(st.Dim.Render(padRight("resource", 10)) + st.Bold.Render(u.typed.want) + "\n\n")
	b.WriteString(st.Warn.Render(wrap(u.warning, w-4)) + "\n\n")
	b.WriteString(wrap("statescope cannot see this lock: not who holds it, nor whether its operation still runs. Nothing is backed up; the unlock is audited.", w-4) + "\n\n")
	b.WriteString(u.typed.view(st))
	b.WriteString(st.Dim.Render("enter unlocks · esc cancels"))
	return st.Box.Width(w).Render(b.String())
}

// plainUnlock calls the backend's plain Unlock on id, audited.
func (e *env) plainUnlock(id string) tea.Cmd {
	return e.mutate(0, actionUnlock, id, func(ctx context.Context, eng *repair.Engine) (repair.Result, error) {
		return repair.Result{}, remote.PlainUnlock(ctx, eng, id)
	})
}
