package repair

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"statescope/stores"
	"statescope/stores/repair/backup"
)

// ReleasePlan is a force release of one lock instance, as the user saw it.
type ReleasePlan struct {
	Lock stores.LockInfo
	// SHA256 is the hash of the lock as seen (see LockBytes).
	SHA256 string
	// Unproven releases whatever lock is current, without comparing tokens:
	// for a lock whose token cannot prove the instance, after the user has
	// been told and confirmed. Audited as ActionReleaseUnproven.
	Unproven bool
}

// Describe shows the lock and what releasing it does.
func (p *ReleasePlan) Describe() string {
	l := p.Lock
	return fmt.Sprintf("Lock on %s\n  token:    %s\n  verdict:  %s\n  holder:   %s\n  evidence: %s\n  action:   %s\n",
		l.ResourceID, l.Token, dash(string(l.Verdict)), dash(l.Holder.String()), dash(l.Evidence), dash(l.Release))
}

// LockBytes is what a lock backup holds: the lock artefact's bytes where it
// has them, else a JSON description of the lock (without the verdict,
// which depends on when it is judged).
func LockBytes(l stores.LockInfo) []byte {
	if len(l.Raw) > 0 {
		return l.Raw
	}
	b, _ := json.MarshalIndent(struct {
		ResourceID string         `json:"resource_id"`
		Token      string         `json:"token"`
		AcquiredAt time.Time      `json:"acquired_at,omitzero"`
		Holder     *stores.Holder `json:"holder,omitempty"`
		Source     string         `json:"source,omitempty"`
	}{l.ResourceID, l.Token, l.AcquiredAt, l.Holder, l.Source}, "", "  ")
	return b
}

// currentLock finds id's lock in the store's judged inventory.
func (e *Engine) currentLock(ctx context.Context, id string) (*stores.LockInfo, error) {
	ll, ok := e.Store.(stores.LockLister)
	if !ok {
		return nil, fmt.Errorf("%s has no lock inventory: %w", e.Target, stores.ErrUnsupported)
	}
	locks, err := ll.Locks(ctx)
	if err != nil {
		return nil, err
	}
	stores.Judge(locks, e.Now(), e.StaleAfter)
	for _, l := range locks {
		if l.Matches(id) {
			return &l, nil
		}
	}
	return nil, nil
}

// PlanRelease plans a force release of the lock on id as it is now.
func (e *Engine) PlanRelease(ctx context.Context, id string) (*ReleasePlan, error) {
	if _, ok := e.Store.(stores.ForceUnlocker); !ok {
		return nil, fmt.Errorf("%s cannot force-release locks: %w", e.Target, stores.ErrUnsupported)
	}
	l, err := e.currentLock(ctx, id)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, fmt.Errorf("%s is not locked in %s; nothing to release: %w", id, e.Target, stores.ErrNotLocked)
	}
	return &ReleasePlan{Lock: *l, SHA256: backup.SHA256(LockBytes(*l))}, nil
}

// ApplyRelease releases the planned lock along the safety path: re-read
// the lock and compare with what the user saw, back it up, release it
// only if its token is still the one seen (the store's compare-and-swap
// for locks), audit. It takes no lock: the action releases that very lock.
func (e *Engine) ApplyRelease(ctx context.Context, p *ReleasePlan) (Result, error) {
	id := p.Lock.ResourceID
	if stores.IsReadOnly(e.Store) {
		return Result{}, fmt.Errorf("force unlock %q refused: %w", id, stores.ErrReadOnly)
	}
	if err := e.preflight(ActionRelease, id); err != nil {
		return Result{}, err
	}
	res := Result{Before: p.SHA256}
	err := e.release(ctx, p, &res)
	return res, e.record(p.action(), id, "", res, err)
}

func (p *ReleasePlan) action() Action {
	if p.Unproven {
		return ActionReleaseUnproven
	}
	return ActionRelease
}

// unprovenRefusal refuses a release by a token that cannot prove the lock
// instance: taken too fresh, or on a backend that cannot tell.
func unprovenRefusal(id string, l stores.LockInfo) error {
	sentinel := stores.ErrUnproven
	if stores.IsFreshToken(l.Token) {
		sentinel = stores.ErrTooFresh
	}
	return &StoreRefusal{fmt.Errorf("force unlock %q: %s; nothing released: %w", id, l.Unproven, sentinel)}
}

func (e *Engine) release(ctx context.Context, p *ReleasePlan, res *Result) error {
	id := p.Lock.ResourceID
	fu, ok := e.Store.(stores.ForceUnlocker)
	if !ok {
		return fmt.Errorf("%s cannot force-release locks: %w", e.Target, stores.ErrUnsupported)
	}
	cur, err := e.currentLock(ctx, id)
	if err != nil {
		return fmt.Errorf("force unlock %q: reading the lock again: %w", id, err)
	}
	switch {
	case cur == nil:
		return &LockChangedError{ID: id, Saw: p.Lock}
	case p.Unproven:
	case p.Lock.Unproven != "":
		return unprovenRefusal(id, p.Lock)
	case cur.Token != p.Lock.Token || backup.SHA256(LockBytes(*cur)) != p.SHA256:
		return &LockChangedError{ID: id, Saw: p.Lock, Now: cur}
	case cur.Unproven != "":
		return unprovenRefusal(id, *cur)
	}
	path, err := e.Backups.Write(backup.Meta{
		Target: e.Target, ResourceID: id, Kind: backup.KindLock,
		Action: string(p.action()), Version: cur.Token, Time: e.Now(),
	}, LockBytes(*cur))
	if err != nil {
		return backupFailed(ActionRelease, id, "nothing was released", err)
	}
	res.Backup = path
	if p.Unproven {
		uu, ok := e.Store.(stores.UnprovenUnlocker)
		if !ok {
			return fmt.Errorf("%s cannot release a lock without a token: %w", e.Target, stores.ErrUnsupported)
		}
		return uu.ForceUnlockUnproven(ctx, id)
	}
	if err := fu.ForceUnlock(ctx, id, p.Lock.Token); err != nil {
		if errors.Is(err, stores.ErrTooFresh) || errors.Is(err, stores.ErrUnproven) {
			return &StoreRefusal{err}
		}
		if now, lerr := e.currentLock(ctx, id); lerr == nil && (now == nil || now.Token != p.Lock.Token) {
			return &LockChangedError{ID: id, Saw: p.Lock, Now: now}
		}
		return fmt.Errorf("force unlock %q: %w", id, err)
	}
	return nil
}
