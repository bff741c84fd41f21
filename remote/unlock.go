package remote

import (
	"context"
	"errors"
	"fmt"

	"statescope/stores"
	mask "statescope/stores/redact"
	"statescope/stores/repair"
	"statescope/stores/repair/audit"
)

// ActionUnlock is the audit log's name for the backend's plain Unlock.
const ActionUnlock repair.Action = "unlock"

// PlainUnlock calls the backend's plain Unlock on id and audits it, for a
// backend without a lock inventory (a stock workflow plugin). The repair
// engine cannot plan it — it releases a lock it has seen, by token, and
// there is no inventory to see one in — and nothing can be backed up.
// Callers show UnlockWarning and confirm first.
func PlainUnlock(ctx context.Context, eng *repair.Engine, id string) error {
	err := eng.Store.Unlock(ctx, id)
	entry := audit.Entry{Time: eng.Now().UTC(), Actor: audit.Actor(), Target: eng.Target,
		Action: string(ActionUnlock), Resource: id, Result: audit.ResultApplied}
	switch {
	case errors.Is(err, stores.ErrReadOnly):
		entry.Result, entry.Error = audit.ResultRefused, mask.Text(err.Error())
	case err != nil:
		entry.Result, entry.Error = audit.ResultFailed, mask.Text(err.Error())
	}
	if aerr := eng.Audit.Append(entry); aerr != nil {
		err = errors.Join(err, fmt.Errorf("unlock %q: the audit log could not be written: %w", id, aerr))
	}
	return err
}

// PlainUnlockWarning is what a plain Unlock does on s, and ok only when s
// is a remote store without a lock inventory: elsewhere a lock is released
// by its token (force release), which checks it is still the one seen.
func PlainUnlockWarning(ctx context.Context, s stores.Store) (warning string, ok bool) {
	w, isRemote := stores.Unwrap(s).(UnlockWarning)
	if !isRemote {
		return "", false
	}
	if ll, lists := s.(stores.LockLister); lists {
		if _, err := ll.Locks(ctx); !errors.Is(err, stores.ErrUnsupported) {
			return "", false
		}
	}
	return w.UnlockWarning(), true
}
