package s3

import (
	"context"
	"errors"
	"fmt"

	"statescope/stores"
)

// The conditional operations act on a record's own key, the one the engine
// reads, and use its ETag as the version.

// GetVersioned reads id's record with its ETag and bytes. An unreadable
// record is an ErrCorrupt error returned together with its Version and Raw,
// so a repair can replace it conditionally.
func (s *Store) GetVersioned(ctx context.Context, id string) (stores.Versioned, error) {
	if err := ctx.Err(); err != nil {
		return stores.Versioned{}, err
	}
	v, err := s.readRecord(ctx, id)
	if err != nil {
		return v, s.errorf("get", id, err)
	}
	return v, nil
}

// SaveIf writes the record only if its object's ETag is still version, or,
// with version "", only if the object does not exist.
func (s *Store) SaveIf(ctx context.Context, st *stores.State, version string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if st == nil || st.ResourceID == "" {
		return fmt.Errorf("%s: save: record has no resource_id", s.cfg.Scheme)
	}
	data, err := stores.EncodeState(st)
	if err != nil {
		return s.errorf("save", st.ResourceID, err)
	}
	if err := s.putRecord(ctx, s.recordKey(st.ResourceID), data, version); err != nil {
		return s.errorf("save", st.ResourceID, err)
	}
	return nil
}

// DeleteIf deletes the record only if its object's ETag is still version.
// A record deleted meanwhile is both ErrConflict and ErrNotFound.
func (s *Store) DeleteIf(ctx context.Context, id, version string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := s.recordKey(id)
	err := s.deleteIf(ctx, key, version)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errGone):
		err = fmt.Errorf("%w; %w: %v", stores.ErrConflict, stores.ErrNotFound, err)
	case errors.Is(err, errChanged):
		err = fmt.Errorf("%w: %v", stores.ErrConflict, err)
	}
	return s.errorf("delete", id, err)
}
