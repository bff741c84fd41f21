package tui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"statescope/stores"
	"statescope/stores/repair"
)

// newEngine is the safety engine for a session, nil when there is no
// state directory to keep backups and the audit log in.
func (e *env) newEngine(s Session) *repair.Engine {
	if e.opts.StateDir == "" {
		return nil
	}
	eng := repair.New(s.Store, cmp.Or(s.Target, s.Name), e.opts.StateDir)
	eng.Now, eng.StaleAfter = e.now, e.opts.StaleAfter
	return eng
}

// refuse says why the repair what cannot start (read-only store, no state
// directory), or returns nil when it can.
func (e *env) refuse(what string, b key.Binding) tea.Cmd {
	switch {
	case e.session.ReadOnly || !b.Enabled():
		return showStatus(what+" is disabled: the store is opened read-only", true)
	case e.repair == nil:
		return showStatus(what+" needs a state directory for backups and the audit log, and none is set", true)
	}
	return nil
}

// repairedMsg is the outcome of a mutation, for the router: it reports
// it, tells the view that asked (0: none), and refreshes every view.
type repairedMsg struct {
	view   int
	action repair.Action
	id     string
	res    repair.Result
	err    error
}

// mutate runs a mutation under the app's context with a timeout, not a
// view's: leaving the view must not abort it halfway.
func (e *env) mutate(view int, action repair.Action, id string, run func(context.Context, *repair.Engine) (repair.Result, error)) tea.Cmd {
	ctx, timeout, eng := e.ctx, e.opts.OperationTimeout, e.repair
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		res, err := run(ctx, eng)
		return repairedMsg{view: view, action: action, id: id, res: res, err: err}
	}
}

// applyPlan applies a confirmed plan through the engine, after asking
// the lock inventory afresh whether someone holds the record.
func (e *env) applyPlan(view int, p *repair.Plan) tea.Cmd {
	return e.mutate(view, p.Action, p.ID, func(ctx context.Context, eng *repair.Engine) (repair.Result, error) {
		if err := eng.Blocked(ctx, p.ID); err != nil {
			return repair.Result{}, err
		}
		return eng.Apply(ctx, p)
	})
}

// releaseLock force-releases the lock the user saw: the engine plans the
// release from the lock as it is now, and it goes ahead only if that is
// still the token shown; ApplyRelease then swaps on that token.
func (e *env) releaseLock(shown stores.LockInfo) tea.Cmd {
	return e.mutate(0, repair.ActionRelease, shown.ResourceID, func(ctx context.Context, eng *repair.Engine) (repair.Result, error) {
		p, err := eng.PlanRelease(ctx, shown.ResourceID)
		switch {
		case errors.Is(err, stores.ErrNotLocked):
			return repair.Result{}, &repair.LockChangedError{ID: shown.ResourceID, Saw: shown}
		case err != nil:
			return repair.Result{}, err
		case p.Lock.Token != shown.Token:
			return repair.Result{}, &repair.LockChangedError{ID: shown.ResourceID, Saw: shown, Now: &p.Lock}
		}
		return eng.ApplyRelease(ctx, p)
	})
}

func (m *Model) repaired(msg repairedMsg) tea.Cmd {
	m.setStatus(repairStatus(msg))
	var cmds []tea.Cmd
	if v := m.find(msg.view); v != nil {
		cmds = append(cmds, v.Update(msg))
	}
	for _, v := range m.stack {
		cmds = append(cmds, v.Update(storeChangedMsg{}))
	}
	return tea.Batch(cmds...)
}

// repairStatus is the one-line outcome of a mutation.
func repairStatus(msg repairedMsg) (string, bool) {
	what := string(msg.action) + " " + msg.id
	switch {
	case msg.err == nil && msg.action == repair.ActionRelease:
		return "released the lock on " + msg.id + backupNote(msg.res), false
	case msg.err == nil && msg.action == actionUnlock:
		return "unlocked " + msg.id + " with the backend's plain Unlock; audited", false
	case msg.err == nil:
		return what + ": done" + backupNote(msg.res), false
	case errors.Is(msg.err, stores.ErrLockChanged), errors.Is(msg.err, stores.ErrNotLocked):
		return fmt.Sprintf("nothing released: the lock on %s changed or is gone since it was shown (%v); list refreshed", msg.id, msg.err), true
	case errors.Is(msg.err, repair.ErrRefused), errors.Is(msg.err, stores.ErrReadOnly):
		return what + " refused: " + msg.err.Error(), true
	}
	return what + " failed: " + msg.err.Error(), true
}

// backupNote names the backup file; the record's backups list (b in its
// detail) shows where it is and restores it.
func backupNote(res repair.Result) string {
	if res.Backup == "" {
		return ""
	}
	return "; backed up as " + filepath.Base(res.Backup)
}
