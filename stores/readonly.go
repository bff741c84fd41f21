package stores

import (
	"context"
	"fmt"
)

// ReadOnly wraps a store so that every mutation is refused with ErrReadOnly
// before it reaches the backend. Reads and the lock inventory pass through.
func ReadOnly(s Store) Store { return readOnly{s} }

// IsReadOnly reports whether a store was wrapped by ReadOnly.
func IsReadOnly(s Store) bool {
	_, ok := s.(readOnly)
	return ok
}

type readOnly struct{ inner Store }

func refuse(op, id string) error {
	return fmt.Errorf("%s %q refused: %w", op, id, ErrReadOnly)
}

func (r readOnly) Get(ctx context.Context, id string) (*State, error) { return r.inner.Get(ctx, id) }
func (r readOnly) List(ctx context.Context, f Filter) ([]Entry, error) {
	return r.inner.List(ctx, f)
}
func (r readOnly) Save(_ context.Context, s *State) error {
	id := ""
	if s != nil {
		id = s.ResourceID
	}
	return refuse("save", id)
}
func (r readOnly) Delete(_ context.Context, id string) error { return refuse("delete", id) }
func (r readOnly) Lock(_ context.Context, id string) error   { return refuse("lock", id) }
func (r readOnly) Unlock(_ context.Context, id string) error { return refuse("unlock", id) }

// ForceUnlock is refused like every other mutation.
func (r readOnly) ForceUnlock(_ context.Context, id, _ string) error {
	return refuse("force unlock", id)
}

// Locks passes through when the wrapped store has an inventory.
func (r readOnly) Locks(ctx context.Context) ([]LockInfo, error) {
	if l, ok := r.inner.(LockLister); ok {
		return l.Locks(ctx)
	}
	return nil, fmt.Errorf("this store has no lock inventory: %w", ErrUnsupported)
}

// Stream passes through to the wrapped store's streaming list.
func (r readOnly) Stream(ctx context.Context, f Filter, yield func([]Entry) error) error {
	return Stream(ctx, r.inner, f, yield)
}

// ListRows passes through to the wrapped store's row listing.
func (r readOnly) ListRows(ctx context.Context, f Filter, known func(source, version string) (Row, bool), yield func([]Row) error) error {
	return ListRows(ctx, r.inner, f, known, yield)
}

// Describe passes through.
func (r readOnly) Describe() string { return Describe(r.inner) + " (read-only)" }

// Close closes the wrapped store.
func (r readOnly) Close() error { return Close(r.inner) }

// Unwrap returns the wrapped store, for read paths that need an optional
// capability the wrapper hides (ConditionalStore.GetVersioned to export an
// unreadable record's bytes). Never use it to write.
func (r readOnly) Unwrap() Store { return r.inner }

// Unwrap returns the store behind any wrappers that have an Unwrap method.
func Unwrap(s Store) Store {
	for {
		u, ok := s.(interface{ Unwrap() Store })
		if !ok {
			return s
		}
		s = u.Unwrap()
	}
}

// Limitations passes through the wrapped store's notes.
func (r readOnly) Limitations() []string {
	if l, ok := r.inner.(Limiter); ok {
		return l.Limitations()
	}
	return nil
}
