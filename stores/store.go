package stores

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Typed errors every backend wraps, so callers test with errors.Is instead of
// matching message text.
var (
	ErrNotFound    = errors.New("not found")
	ErrLocked      = errors.New("already locked")
	ErrNotLocked   = errors.New("not locked")
	ErrLockChanged = errors.New("lock changed since it was inspected")
	ErrReadOnly    = errors.New("store is opened read-only")
	ErrCorrupt     = errors.New("record is corrupt")
	ErrTooLarge    = errors.New("record is too large for this transport")
	ErrUnsupported = errors.New("not supported by this store")
	// ErrAmbiguous: more than one stored record claims the resource ID (two
	// files, or one file with two resource_id keys); repairs are refused.
	ErrAmbiguous = errors.New("more than one record claims this resource ID")
)

// Store is workflow's IaCStateStore contract with typed errors:
// Get returns ErrNotFound instead of nil-nil, Delete of a missing record
// returns ErrNotFound, Lock of a held lock ErrLocked, Unlock of an unheld one
// ErrNotLocked. List never drops a record: unreadable ones come back as
// entries with Problem set.
type Store interface {
	Get(ctx context.Context, id string) (*State, error)
	Save(ctx context.Context, s *State) error
	List(ctx context.Context, f Filter) ([]Entry, error)
	Delete(ctx context.Context, id string) error
	Lock(ctx context.Context, id string) error
	Unlock(ctx context.Context, id string) error
}

// Entry is one listed record: a decoded State, or a record that could not be
// read, with where it lives and why it is unreadable.
type Entry struct {
	State *State
	// ID is the resource ID: State.ResourceID, or for a corrupt record a best
	// guess from its name.
	ID string
	// Source says where the record lives (file path, object key, row).
	Source string
	// Problem is empty for a good record, otherwise why it could not be read.
	Problem string
}

// Corrupt reports whether the entry could not be decoded.
func (e Entry) Corrupt() bool { return e.Problem != "" }

// Filter is ListStates' filter: exact, case-sensitive matches combined with
// AND; an empty field matches everything.
type Filter struct {
	ResourceType string
	Provider     string
	Status       string
}

// FilterFromMap reads upstream's map form; unknown keys are ignored as upstream does.
func FilterFromMap(m map[string]string) Filter {
	return Filter{ResourceType: m["resource_type"], Provider: m["provider"], Status: m["status"]}
}

// Map returns the upstream map form of the filter.
func (f Filter) Map() map[string]string {
	m := map[string]string{}
	if f.ResourceType != "" {
		m["resource_type"] = f.ResourceType
	}
	if f.Provider != "" {
		m["provider"] = f.Provider
	}
	if f.Status != "" {
		m["status"] = f.Status
	}
	return m
}

// Match reports whether a record passes the filter. Corrupt entries always
// pass: an unreadable record cannot be excluded honestly.
func (f Filter) Match(e Entry) bool {
	if e.State == nil {
		return true
	}
	return f.matches(e.State.ResourceType, e.State.Provider, e.State.Status)
}

// MatchRow is Match for a listed row: an unreadable one always passes, a
// readable one (a conflict too) by its fields.
func (f Filter) MatchRow(r Row) bool {
	return !r.Readable || f.matches(r.ResourceType, r.Provider, r.Status)
}

func (f Filter) matches(resourceType, provider, status string) bool {
	return (f.ResourceType == "" || resourceType == f.ResourceType) &&
		(f.Provider == "" || provider == f.Provider) &&
		(f.Status == "" || status == f.Status)
}

// Streamer is an optional capability: a store that can deliver listed
// entries in batches as they arrive (object stores fetching in parallel).
type Streamer interface {
	Stream(ctx context.Context, f Filter, yield func([]Entry) error) error
}

// Stream lists through the store's Streamer when it has one, otherwise
// delivers List's result as one batch.
func Stream(ctx context.Context, s Store, f Filter, yield func([]Entry) error) error {
	if st, ok := s.(Streamer); ok {
		return st.Stream(ctx, f, yield)
	}
	entries, err := s.List(ctx, f)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	return yield(entries)
}

// Describer is optional: a human description of the store for headers and
// errors, with any credentials removed.
type Describer interface {
	Describe() string
}

// Describe returns the store's description, or its Go type when it has none.
func Describe(s Store) string {
	if d, ok := s.(Describer); ok {
		return d.Describe()
	}
	return fmt.Sprintf("%T", s)
}

// Close releases a store's resources if it holds any (io.Closer).
func Close(s Store) error {
	if c, ok := s.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// ErrConflict: a conditional write found the record changed since it was read.
var ErrConflict = errors.New("record changed since it was read")

// Versioned is a record as read together with the backend's version of it
// (ETag, generation, updated_at or content hash) and its stored bytes.
type Versioned struct {
	State   *State
	Version string
	// Raw is the record exactly as stored, where the backend stores bytes.
	Raw []byte
}

// ConditionalStore is optional: compare-and-swap writes. SaveIf and
// DeleteIf act only if the stored version still equals version (an empty
// version means "must not exist" for SaveIf); otherwise ErrConflict and
// nothing changes.
type ConditionalStore interface {
	GetVersioned(ctx context.Context, id string) (Versioned, error)
	SaveIf(ctx context.Context, s *State, version string) error
	DeleteIf(ctx context.Context, id, version string) error
}
