package repair

import (
	"errors"
	"fmt"
	"strings"

	"statescope/stores"
)

// ErrRefused matches every error with which a safety check declined to act;
// nothing was written when it is returned.
var ErrRefused = errors.New("refused")

// ErrNoChange: the plan would leave the record as it is.
var ErrNoChange = errors.New("nothing to change")

// ErrInvalid: the requested change is not a valid record.
var ErrInvalid = errors.New("invalid change")

// ConflictError: the record is not what the user saw any more.
type ConflictError struct {
	ID   string
	Seen Observed
	// Now is the record as found; NowErr is set when it could not be read.
	Now    Observed
	NowErr error
	Want   *stores.State
	Action Action
}

func (e *ConflictError) Error() string {
	now := "could not be read: " + fmt.Sprint(e.NowErr)
	if e.NowErr == nil {
		now = "is now " + e.Now.describe()
	}
	if e.created() {
		return fmt.Sprintf("%s was created since it was read (it was absent and %s); nothing was written, so that record was not overwritten", e.ID, now)
	}
	return fmt.Sprintf("%s changed since it was read (it was %s and %s); nothing was written", e.ID, e.Seen.describe(), now)
}

// created: a record appeared where the user saw none.
func (e *ConflictError) created() bool { return !e.Seen.Exists && e.NowErr == nil && e.Now.Exists }

// Is makes the error match ErrRefused and stores.ErrConflict.
func (e *ConflictError) Is(target error) bool {
	return target == ErrRefused || target == stores.ErrConflict
}

// Explain is the three-way difference: what the user saw, what is there
// now and what they wanted, secrets masked.
func (e *ConflictError) Explain() string {
	var b strings.Builder
	if e.created() {
		b.WriteString("Someone else created it (what you saw → what is there now):\n")
	} else {
		b.WriteString("Someone else changed it (what you saw → what is there now):\n")
	}
	switch {
	case e.NowErr != nil:
		b.WriteString(indent("(could not read it: "+e.NowErr.Error()+")", "  "))
	case e.Seen.Corrupt != "" || e.Now.Corrupt != "":
		// Unreadable bytes have no fields to diff: say what each was.
		b.WriteString(indent("what you saw: "+e.Seen.describe()+"\nwhat is there now: "+e.Now.describe()+"\n", "  "))
	default:
		b.WriteString(indent(Diff("what you saw", "what is there now", e.Seen.State, e.Now.State), "  "))
	}
	b.WriteString("Your change, not applied (what you saw → what you wanted):\n")
	b.WriteString(indent(Diff("what you saw", "what you wanted", e.Seen.State, e.Want), "  "))
	b.WriteString("Read the record again and redo the change if it still applies.\n")
	return b.String()
}

// LockedError: someone else holds the resource's lock.
type LockedError struct {
	ID string
	// Lock is the holder as the inventory shows it, nil when unknown.
	Lock *stores.LockInfo
	Err  error
}

func (e *LockedError) Error() string {
	who := "someone (this store has no lock inventory to say who)"
	if l := e.Lock; l != nil {
		who = dash(l.Holder.String())
		if !l.AcquiredAt.IsZero() {
			who += ", since " + l.AcquiredAt.UTC().Format(stores.TimeLayout)
		}
		if l.Verdict != "" {
			who += fmt.Sprintf(", verdict %s: %s", l.Verdict, l.Evidence)
		}
	}
	return fmt.Sprintf("%s is locked by %s; nothing was written (see `statescope locks`)", e.ID, who)
}

func (e *LockedError) Unwrap() error { return e.Err }

// Is makes the error match ErrRefused besides what it wraps.
func (e *LockedError) Is(target error) bool { return target == ErrRefused }

// DependentsError: other records depend on the one to delete.
type DependentsError struct {
	ID         string
	Dependents []string
}

func (e *DependentsError) Error() string {
	return fmt.Sprintf("%s is listed in the dependencies of %s; delete refused (use --force to delete anyway)", e.ID, strings.Join(e.Dependents, ", "))
}

// Is makes the error match ErrRefused.
func (e *DependentsError) Is(target error) bool { return target == ErrRefused }

// PinError: the record's hash is not the one the caller pinned.
type PinError struct {
	ID, Want, Got string
}

func (e *PinError) Error() string {
	return fmt.Sprintf("%s has sha256 %s, not the expected %s; nothing was written", e.ID, e.Got, e.Want)
}

// Is makes the error match ErrRefused and stores.ErrConflict.
func (e *PinError) Is(target error) bool {
	return target == ErrRefused || target == stores.ErrConflict
}

// LockChangedError: the lock to release is not the one the user saw.
type LockChangedError struct {
	ID  string
	Saw stores.LockInfo
	// Now is the lock as found, nil when it is gone.
	Now *stores.LockInfo
}

func (e *LockChangedError) Error() string {
	if e.Now == nil {
		return fmt.Sprintf("%s is not locked any more; nothing released", e.ID)
	}
	return fmt.Sprintf("the lock on %s changed hands (token %s, holder %s; you saw token %s); nothing released",
		e.ID, e.Now.Token, dash(e.Now.Holder.String()), e.Saw.Token)
}

// Is makes the error match ErrRefused and the store's own sentinels.
func (e *LockChangedError) Is(target error) bool {
	if e.Now == nil && target == stores.ErrNotLocked {
		return true
	}
	return target == ErrRefused || target == stores.ErrLockChanged
}

// StoreRefusal: the store declined for safety (two records claim the ID;
// a lock token that cannot prove the instance); nothing was changed.
type StoreRefusal struct{ Err error }

func (e *StoreRefusal) Error() string { return e.Err.Error() }
func (e *StoreRefusal) Unwrap() error { return e.Err }

// Is makes the error match ErrRefused besides what it wraps.
func (e *StoreRefusal) Is(target error) bool { return target == ErrRefused }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
