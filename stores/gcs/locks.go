package gcs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"cloud.google.com/go/storage"

	"statescope/stores"
	"statescope/stores/objectstore"
)

// Lock creates <prefix><name>.lock only if it does not exist, as the engine
// does, so statescope and workflow exclude each other.
func (s *Store) Lock(ctx context.Context, id string) error {
	return s.LockAs(ctx, id, stores.NewHolder("lock"))
}

// LockAs takes the lock and records the holder after the timestamp. Unlike
// upstream, only a failed "does not exist" condition means "already
// locked"; auth and network failures come back as themselves.
func (s *Store) LockAs(ctx context.Context, id string, h *stores.Holder) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := s.layout.LockKey(id)
	body := stores.EncodeLockBody(h)
	_, err := s.write(ctx, key, body, "text/plain", storage.Conditions{DoesNotExist: true})
	switch {
	case err == nil:
		return nil
	case isPrecondition(err):
		// A create retried after a lost response meets its own first attempt.
		if data, _, rerr := s.read(ctx, s.bucket.Object(key)); rerr == nil && bytes.Equal(data, body) {
			return nil
		}
		return s.fail("lock", id, fmt.Errorf("%w (%s exists)", stores.ErrLocked, s.layout.Source(key)))
	default:
		return s.fail("lock", id, err)
	}
}

// Unlock deletes the lock object, as the engine does: any process may.
func (s *Store) Unlock(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.bucket.Object(s.layout.LockKey(id)).Delete(ctx)
	switch {
	case errors.Is(err, storage.ErrObjectNotExist):
		return s.fail("unlock", id, stores.ErrNotLocked)
	case err != nil:
		return s.fail("unlock", id, err)
	}
	return nil
}

// Locks lists every lock object under the prefix, through the same key
// ranges as the records (a large bucket is listed side by side, not page
// after page), then reads each lock's attributes: locks are few. The token
// is the object's generation, which a new lock never reuses.
func (s *Store) Locks(ctx context.Context) ([]stores.LockInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys, err := objectstore.LockKeys(ctx, s.pages)
	if err != nil {
		return nil, fmt.Errorf("gcs: locks %s: %w", s.layout, err)
	}
	var out []stores.LockInfo
	for _, key := range keys {
		attrs, err := s.bucket.Object(key).Attrs(ctx)
		if errors.Is(err, storage.ErrObjectNotExist) {
			continue // released while we looked
		}
		if err != nil {
			return nil, fmt.Errorf("gcs: locks: %s: %w", key, err)
		}
		info, err := s.lockInfo(ctx, attrs)
		if errors.Is(err, stores.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("gcs: locks: %w", err)
		}
		out = append(out, info)
	}
	return out, nil
}

func (s *Store) lockInfo(ctx context.Context, attrs *storage.ObjectAttrs) (stores.LockInfo, error) {
	source := s.layout.Source(attrs.Name)
	// Read the generation that was listed, so body and token agree.
	body, _, err := s.read(ctx, s.bucket.Object(attrs.Name).Generation(attrs.Generation))
	if err != nil {
		return stores.LockInfo{}, err
	}
	id, fromRecord := s.layout.LockID(ctx, attrs.Name, s.readKey)
	at, holder, note := stores.DecodeLockBody(body)
	var why []string
	if note != "" {
		why = append(why, note)
	}
	if at.IsZero() {
		at = attrs.Created
		why = append(why, "age from the object's creation time")
	}
	if holder == nil {
		why = append(why, "no holder recorded (written by workflow)")
	}
	if !fromRecord {
		why = append(why, "no record with this name; ID taken from the object name")
	}
	return stores.LockInfo{
		ResourceID: id,
		Token:      strconv.FormatInt(attrs.Generation, 10),
		AcquiredAt: at,
		Holder:     holder,
		Evidence:   strings.Join(why, "; "),
		Source:     source,
		Release:    fmt.Sprintf("delete %s generation %d", source, attrs.Generation),
		Raw:        body,
	}, nil
}

// ForceUnlock deletes the lock object only at the generation token names,
// so a lock taken since the caller looked is left alone.
func (s *Store) ForceUnlock(ctx context.Context, id, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := s.layout.LockKey(id)
	outcome, live, err := s.deleteGeneration(ctx, key, token)
	switch {
	case err != nil:
		return s.fail("force unlock", id, err)
	case outcome == missing:
		return s.fail("force unlock", id, fmt.Errorf("%w (no %s)", stores.ErrNotLocked, s.layout.Source(key)))
	case outcome == changed:
		return s.fail("force unlock", id, fmt.Errorf("generation is now %d, not %s: %w", live, token, stores.ErrLockChanged))
	}
	return nil
}
