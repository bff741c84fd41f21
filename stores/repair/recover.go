package repair

import (
	"context"
	"errors"
	"fmt"

	"statescope/stores"
)

// RecoverPlan is the first step of recovering a record a crash left stuck
// under an orphaned lock: the release of that lock, as seen now. The
// second step, setting the status, is planned after the release
// (PlanSetStatus), from the record as it is then.
type RecoverPlan struct {
	Release *ReleasePlan
	// Record is the record as read with the lock.
	Record *stores.State
	// Status and Reason are the status the second step offers first
	// (error, saying what left it) and its reason.
	Status, Reason string
}

// NotRecoverableError: recover does not apply to the record now.
type NotRecoverableError struct{ ID, Why string }

func (e *NotRecoverableError) Error() string {
	return fmt.Sprintf("recover %s refused: %s; nothing changed", e.ID, e.Why)
}

// Is makes the error match ErrRefused.
func (e *NotRecoverableError) Is(target error) bool { return target == ErrRefused }

// PlanRecover checks that id is stuck and its lock orphaned now, and plans
// releasing that lock.
func (e *Engine) PlanRecover(ctx context.Context, id string) (*RecoverPlan, error) {
	st, err := e.Store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("recover %s: %w", id, err)
	}
	if !st.IsStuck(e.Now(), e.StaleAfter) {
		return nil, &NotRecoverableError{id, fmt.Sprintf("it is not stuck (status %s, updated %s ago); recover is for a record left in provisioning or destroying",
			dash(st.Status), stores.RelativeAge(st.UpdatedAt, e.Now()))}
	}
	p, err := e.PlanRelease(ctx, id)
	switch {
	case errors.Is(err, stores.ErrNotLocked):
		return nil, &NotRecoverableError{id, "it is not locked: set its status (set-status)"}
	case err != nil:
		return nil, err
	case p.Lock.Verdict != stores.VerdictOrphaned:
		return nil, &NotRecoverableError{id, fmt.Sprintf("its lock is %s, not orphaned (%s): its holder may still be at work", p.Lock.Verdict, p.Lock.Evidence)}
	}
	return &RecoverPlan{Release: p, Record: st, Status: stores.StatusError, Reason: stores.StuckReason(st.Status)}, nil
}

// ApplyRecoverRelease checks again what PlanRecover checked — the record
// still stuck, its lock still orphaned and still the one shown — then
// releases the lock through ApplyRelease (backup, token compare-and-swap,
// audit).
func (e *Engine) ApplyRecoverRelease(ctx context.Context, shown *RecoverPlan) (Result, error) {
	id := shown.Release.Lock.ResourceID
	now, err := e.PlanRecover(ctx, id)
	if err != nil {
		return Result{}, err
	}
	if now.Release.Lock.Token != shown.Release.Lock.Token {
		return Result{}, &LockChangedError{ID: id, Saw: shown.Release.Lock, Now: &now.Release.Lock}
	}
	return e.ApplyRelease(ctx, shown.Release)
}
