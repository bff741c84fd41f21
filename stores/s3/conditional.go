package s3

import (
	"context"
	"errors"
	"fmt"

	"statescope/stores"
	"statescope/stores/objectstore"
)

// The conditional operations act on a record's own key, the one the engine
// reads, and use its ETag as the version.

// GetVersioned reads id's record with its ETag and bytes. An unreadable
// record is an ErrCorrupt error returned together with its Version and Raw,
// so a repair can replace it conditionally.
func (s *Store) GetVersioned(ctx context.Context, id string) (stores.Versioned, error) {
	v, err := s.layout.Get(ctx, id, s.readKey)
	if err != nil {
		return v, s.errorf("get", id, err)
	}
	return v, nil
}

// SaveIf writes the record only if its object's ETag is still version, or,
// with version "", only if the object does not exist.
func (s *Store) SaveIf(ctx context.Context, st *stores.State, version string) error {
	if err := s.saveIf(ctx, st, version); err != nil {
		return s.errorf("save", objectstore.ID(st), err)
	}
	return nil
}

func (s *Store) saveIf(ctx context.Context, st *stores.State, version string) error {
	if err := objectstore.CheckSave(ctx, st); err != nil {
		return err
	}
	data, err := stores.EncodeState(st)
	if err != nil {
		return err
	}
	key := s.layout.RecordKey(st.ResourceID)
	err = s.put(ctx, key, data, "application/json", version)
	switch {
	case err == nil:
		return nil
	case isPrecondition(err) && version == "":
		return fmt.Errorf("%s was created meanwhile: %w", s.layout.Source(key), stores.ErrConflict)
	case isPrecondition(err):
		return fmt.Errorf("%s no longer has ETag %s: %w", s.layout.Source(key), version, stores.ErrConflict)
	case isNotFound(err):
		return fmt.Errorf("%s was deleted meanwhile: %w", s.layout.Source(key), stores.ErrConflict)
	}
	return err
}

// DeleteIf deletes the record only if its object's ETag is still version.
// A record deleted meanwhile is both ErrConflict and ErrNotFound.
func (s *Store) DeleteIf(ctx context.Context, id, version string) error {
	if err := s.deleteRecordIf(ctx, id, version); err != nil {
		return s.errorf("delete", id, err)
	}
	return nil
}

func (s *Store) deleteRecordIf(ctx context.Context, id, version string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.deleteIf(ctx, s.layout.RecordKey(id), version)
	switch {
	case errors.Is(err, errGone):
		return fmt.Errorf("%w; %w: %v", stores.ErrConflict, stores.ErrNotFound, err)
	case errors.Is(err, errChanged):
		return fmt.Errorf("%w: %v", stores.ErrConflict, err)
	}
	return err
}
