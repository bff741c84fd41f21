package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"statescope/stores"
	"statescope/stores/objectstore"
)

// Lock creates <prefix><name>.lock if it does not exist, as upstream does,
// so statescope and workflow exclude each other.
func (s *Store) Lock(ctx context.Context, id string) error {
	return s.LockAs(ctx, id, stores.NewHolder("lock"))
}

// LockAs takes the lock with If-None-Match: * and records the holder (this
// process when nil) after upstream's timestamp. Only a failed condition
// means "already locked"; auth and network failures are reported as such.
func (s *Store) LockAs(ctx context.Context, id string, h *stores.Holder) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if h == nil {
		h = stores.NewHolder("lock")
	}
	key := s.layout.LockKey(id)
	body := stores.EncodeLockBody(h)
	err := s.put(ctx, key, body, "", "")
	if isPrecondition(err) {
		// The SDK retries a PUT whose reply was lost; the retry then fails
		// against our own lock. The holder nonce makes our body unique.
		if cur, rerr := s.read(ctx, key); rerr == nil && bytes.Equal(cur.body, body) {
			return nil
		}
		return s.errorf("lock", id, fmt.Errorf("%w (%s exists)", stores.ErrLocked, s.layout.Source(key)))
	}
	if err != nil {
		return s.errorf("lock", id, err)
	}
	return nil
}

// Unlock deletes the lock object after checking it exists, as upstream does:
// there is no owner check, so any process can release any lock.
func (s *Store) Unlock(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := s.layout.LockKey(id)
	if _, err := s.headETag(ctx, key); err != nil {
		return s.errorf("unlock", id, lockError(err))
	}
	if err := s.deleteObject(ctx, key); err != nil {
		return s.errorf("unlock", id, err)
	}
	return nil
}

// lockToken names one lock object instance: its ETag and Last-Modified
// second. The ETag alone repeats when upstream re-takes a lock within the
// second its timestamp body names.
func lockToken(etag string, modified time.Time) string {
	return fmt.Sprintf("%s@%d", etag, modified.Unix())
}

// lockUnproven says why a lock object's token cannot prove its instance
// at now: a body that is the same for every lock (empty, "locked", not a
// timestamp), or upstream's timestamp too fresh to differ from a re-take's.
// statescope's bodies carry a nonce and are always proven. fresh says the
// token will prove it once stores.FreshWindow has passed.
func lockUnproven(obj object, now time.Time) (why string, fresh bool) {
	if stores.HasNonce(obj.body) {
		return "", false
	}
	at, _, note := stores.DecodeLockBody(obj.body)
	if at.IsZero() {
		return fmt.Sprintf("%s, the same for every lock taken on this key, so nothing tells this lock from the next: %v", note, stores.ErrUnproven), false
	}
	if obj.modified.After(at) {
		at = obj.modified
	}
	why = stores.TooFresh(at, now)
	return why, why != ""
}

// ForceUnlock deletes the lock object only while it is the instance token
// names: its ETag and Last-Modified are checked, and the delete carries
// If-Match. A token that cannot prove the instance is refused.
func (s *Store) ForceUnlock(ctx context.Context, id, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if stores.IsFreshToken(token) {
		return s.errorf("force unlock", id, stores.ErrTooFresh)
	}
	key := s.layout.LockKey(id)
	cur, err := s.read(ctx, key)
	if errors.Is(err, stores.ErrNotFound) {
		return s.errorf("force unlock", id, fmt.Errorf("%w: %v", stores.ErrNotLocked, err))
	}
	if err != nil {
		return s.errorf("force unlock", id, err)
	}
	if now := lockToken(cur.etag, cur.modified); now != token {
		return s.errorf("force unlock", id, fmt.Errorf("token is now %s, not %s: %w", now, token, stores.ErrLockChanged))
	}
	switch why, fresh := lockUnproven(cur, s.now()); {
	case fresh:
		return s.errorf("force unlock", id, stores.ErrTooFresh)
	case why != "":
		return s.errorf("force unlock", id, stores.ErrUnproven)
	}
	if err := s.deleteIf(ctx, key, cur.etag); err != nil {
		return s.errorf("force unlock", id, lockError(err))
	}
	return nil
}

// ForceUnlockUnproven deletes whatever lock object is there now.
func (s *Store) ForceUnlockUnproven(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := s.layout.LockKey(id)
	etag, err := s.headETag(ctx, key)
	if err == nil {
		err = s.deleteIf(ctx, key, etag)
	}
	if err != nil {
		return s.errorf("force unlock", id, lockError(err))
	}
	return nil
}

// lockError restates deleteIf's outcomes in lock terms.
func lockError(err error) error {
	switch {
	case errors.Is(err, errGone):
		return fmt.Errorf("%w: %v", stores.ErrNotLocked, err)
	case errors.Is(err, errChanged):
		return fmt.Errorf("%w: %v", stores.ErrLockChanged, err)
	}
	return err
}

// Locks lists every *.lock object under the prefix. The resource ID comes
// from the record with the same name where there is one, else from the key.
func (s *Store) Locks(ctx context.Context) ([]stores.LockInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Through the records' key ranges: a large bucket is listed side by
	// side, not page after page.
	lockKeys, err := objectstore.LockKeys(ctx, s.ranges.Pages)
	if err != nil {
		return nil, fmt.Errorf("%s: locks %s: %w", s.cfg.Scheme, s.layout, err)
	}
	// Locks are few (workflow itself never takes one), so one at a time.
	var out []stores.LockInfo
	for _, key := range lockKeys {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if info, ok := s.inspectLock(ctx, key); ok {
			out = append(out, info)
		}
	}
	return out, nil
}

// inspectLock reads one lock object; false when it was released meanwhile.
func (s *Store) inspectLock(ctx context.Context, key string) (stores.LockInfo, bool) {
	obj, err := s.read(ctx, key)
	if errors.Is(err, stores.ErrNotFound) {
		return stores.LockInfo{}, false
	}
	var why []string
	id, fromRecord := s.layout.LockID(ctx, key, s.readKey)
	if !fromRecord {
		why = append(why, "no readable record with this name; ID taken from the key")
	}
	info := stores.LockInfo{ResourceID: id, Source: s.layout.Source(key)}
	if err != nil {
		info.Evidence = strings.Join(append(why, "lock object unreadable: "+err.Error()), "; ")
		return info, true
	}
	info.Token, info.Raw = lockToken(obj.etag, obj.modified), obj.body
	info.Release = fmt.Sprintf("delete object %s if its ETag is still %s and it was last modified at %s", info.Source, obj.etag, obj.modified.UTC().Format(time.RFC3339))
	var fresh bool
	if info.Unproven, fresh = lockUnproven(obj, s.now()); info.Unproven != "" {
		why = append(why, info.Unproven)
	}
	if fresh {
		info.Token = stores.FreshToken(info.Token)
	}
	at, holder, note := stores.DecodeLockBody(obj.body)
	if note != "" {
		why = append(why, note)
	}
	if at.IsZero() {
		at = obj.modified
		why = append(why, "age from the object's LastModified")
	}
	if holder == nil {
		why = append(why, "no holder recorded (written by workflow)")
	}
	info.AcquiredAt, info.Holder, info.Evidence = at, holder, strings.Join(why, "; ")
	return info, true
}
