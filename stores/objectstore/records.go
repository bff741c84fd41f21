package objectstore

import (
	"context"
	"fmt"

	"statescope/stores"
)

// Backend is what an object store supplies for its records: reads,
// conditional writes and deletes in its own version terms (ETag,
// generation), and key listing.
type Backend struct {
	Read Read
	// SaveIf writes st only if the stored version is still version ("" =
	// must not exist); a mismatch wraps stores.ErrConflict.
	SaveIf func(ctx context.Context, st *stores.State, version string) error
	// DeleteIf deletes the record only if its version is still version.
	DeleteIf func(ctx context.Context, id, version string) error
	// Pages lists the keys under the prefix with their versions.
	Pages Pages
}

// Records is the record half of an object store — stores.Store's Get,
// Save, Delete, List, stores.Streamer, stores.RowLister and
// stores.ConditionalStore — over a
// Layout and a Backend. Backends embed it and add their locks.
type Records struct {
	name     string
	layout   Layout
	parallel int
	be       Backend
}

// NewRecords builds the record operations; name prefixes errors ("gcs").
func NewRecords(name string, l Layout, parallel int, be Backend) Records {
	return Records{name: name, layout: l, parallel: parallel, be: be}
}

func (r Records) fail(op, id string, err error) error {
	return fmt.Errorf("%s: %s %q: %w", r.name, op, id, err)
}

// Get reads one record.
func (r Records) Get(ctx context.Context, id string) (*stores.State, error) {
	v, err := r.GetVersioned(ctx, id)
	if err != nil {
		return nil, err
	}
	return v.State, nil
}

// GetVersioned reads a record with the backend's version. For an unreadable
// record the error wraps stores.ErrCorrupt and Version and Raw are still
// set, so a repair can replace it conditionally.
func (r Records) GetVersioned(ctx context.Context, id string) (stores.Versioned, error) {
	v, err := r.layout.Get(ctx, id, r.be.Read)
	if err != nil {
		return v, r.fail("get", id, err)
	}
	return v, nil
}

// Save writes a record (application/json), replacing what is there, but
// never another resource's record whose name collides.
func (r Records) Save(ctx context.Context, st *stores.State) error {
	if err := r.layout.Save(ctx, st, r.be.Read, r.be.SaveIf); err != nil {
		return r.fail("save", ID(st), err)
	}
	return nil
}

// SaveIf writes the record only if its version is still version, or, for
// an empty version, only if it does not exist.
func (r Records) SaveIf(ctx context.Context, st *stores.State, version string) error {
	if err := CheckSave(ctx, st); err != nil {
		return r.fail("save", ID(st), err)
	}
	if err := r.be.SaveIf(ctx, st, version); err != nil {
		return r.fail("save", st.ResourceID, err)
	}
	return nil
}

// Delete removes the record, as upstream does, but not another resource's
// record whose name collides.
func (r Records) Delete(ctx context.Context, id string) error {
	if err := r.layout.Delete(ctx, id, r.be.Read, r.be.DeleteIf); err != nil {
		return r.fail("delete", id, err)
	}
	return nil
}

// DeleteIf deletes the record only if its version is still version.
func (r Records) DeleteIf(ctx context.Context, id, version string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.be.DeleteIf(ctx, id, version); err != nil {
		return r.fail("delete", id, err)
	}
	return nil
}

// List returns every record under the prefix that passes f, sorted by ID.
func (r Records) List(ctx context.Context, f stores.Filter) ([]stores.Entry, error) {
	return List(func(yield func([]stores.Entry) error) error { return r.Stream(ctx, f, yield) })
}

// Stream delivers records in batches as they are fetched, parallel at a
// time. Unreadable objects are corrupt entries.
func (r Records) Stream(ctx context.Context, f stores.Filter, yield func([]stores.Entry) error) error {
	if err := r.layout.Stream(ctx, r.be.Pages, r.parallel, r.be.Read, f, yield); err != nil {
		return fmt.Errorf("%s: list %s: %w", r.name, r.layout, err)
	}
	return nil
}

// ListRows lists rows as Stream lists entries, fetching only the records
// whose listed version known does not recognise.
func (r Records) ListRows(ctx context.Context, f stores.Filter, known func(source, version string) (stores.Row, bool), yield func([]stores.Row) error) error {
	if err := r.layout.StreamRows(ctx, r.be.Pages, r.parallel, r.be.Read, f, known, yield); err != nil {
		return fmt.Errorf("%s: list %s: %w", r.name, r.layout, err)
	}
	return nil
}
