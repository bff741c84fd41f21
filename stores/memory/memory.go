// Package memory is an in-process store for tests and demos. Records are kept
// encoded, exactly as a file would hold them, so a test can plant an
// unreadable record and see it surfaced.
package memory

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"statescope/stores"
)

func init() {
	stores.Register("mem", "mem:// (an empty in-memory store)", func(_ context.Context, _ stores.Target) (stores.Store, error) {
		return New(), nil
	})
}

// Store is safe for concurrent use.
type Store struct {
	mu      sync.Mutex
	records map[string][]byte
	locks   map[string]stores.LockInfo
}

// New returns an empty store.
func New() *Store {
	return &Store{records: map[string][]byte{}, locks: map[string]stores.LockInfo{}}
}

// Describe names the store.
func (m *Store) Describe() string { return "memory" }

// PutRaw stores raw bytes under id, bypassing validation; tests use it to
// plant corrupt records.
func (m *Store) PutRaw(id string, raw []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records[id] = append([]byte(nil), raw...)
}

// ReadRaw returns the record's bytes as stored, readable or not.
func (m *Store) ReadRaw(ctx context.Context, id string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	raw, ok := m.records[id]
	if !ok {
		return nil, fmt.Errorf("memory: get %q: %w", id, stores.ErrNotFound)
	}
	return append([]byte(nil), raw...), nil
}

// Get returns a copy of the record.
func (m *Store) Get(ctx context.Context, id string) (*stores.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	raw, ok := m.records[id]
	m.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("memory: get %q: %w", id, stores.ErrNotFound)
	}
	s, err := stores.DecodeState(raw)
	if err != nil {
		return nil, fmt.Errorf("memory: get %q: %w: %v", id, stores.ErrCorrupt, err)
	}
	return s, nil
}

// Save replaces the record.
func (m *Store) Save(ctx context.Context, s *stores.State) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s == nil || s.ResourceID == "" {
		return fmt.Errorf("memory: save: record has no resource_id")
	}
	raw, err := stores.EncodeState(s)
	if err != nil {
		return fmt.Errorf("memory: save %q: %w", s.ResourceID, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records[s.ResourceID] = raw
	return nil
}

// List returns matching records sorted by ID, corrupt ones included.
func (m *Store) List(ctx context.Context, f stores.Filter) ([]stores.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	ids := make([]string, 0, len(m.records))
	for id := range m.records {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	raws := make([][]byte, len(ids))
	for i, id := range ids {
		raws[i] = m.records[id]
	}
	m.mu.Unlock()
	var out []stores.Entry
	for i, id := range ids {
		e := stores.Entry{ID: id, Source: "memory:" + id}
		if s, err := stores.DecodeState(raws[i]); err != nil {
			e.Problem = err.Error()
		} else {
			e.State = s
		}
		if f.Match(e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Delete removes the record.
func (m *Store) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.records[id]; !ok {
		return fmt.Errorf("memory: delete %q: %w", id, stores.ErrNotFound)
	}
	delete(m.records, id)
	return nil
}

// Lock takes the lock for this process.
func (m *Store) Lock(ctx context.Context, id string) error {
	return m.LockAs(ctx, id, stores.NewHolder("lock"))
}

// LockAs takes the lock recording its holder.
func (m *Store) LockAs(ctx context.Context, id string, h *stores.Holder) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.locks[id]; ok {
		return fmt.Errorf("memory: lock %q: %w (by %s)", id, stores.ErrLocked, l.Holder)
	}
	m.locks[id] = stores.LockInfo{
		ResourceID: id,
		Token:      stores.RandomHex(8),
		AcquiredAt: time.Now(),
		Holder:     h,
		Source:     "memory",
		Release:    "remove the in-memory lock",
	}
	return nil
}

// Unlock releases the lock.
func (m *Store) Unlock(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.locks[id]; !ok {
		return fmt.Errorf("memory: unlock %q: %w", id, stores.ErrNotLocked)
	}
	delete(m.locks, id)
	return nil
}

// Locks lists every lock.
func (m *Store) Locks(ctx context.Context) ([]stores.LockInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]stores.LockInfo, 0, len(m.locks))
	for _, l := range m.locks {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ResourceID < out[j].ResourceID })
	return out, nil
}

// ForceUnlock releases the lock if its token is still token.
func (m *Store) ForceUnlock(ctx context.Context, id, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.locks[id]
	if !ok {
		return fmt.Errorf("memory: force unlock %q: %w", id, stores.ErrNotLocked)
	}
	if l.Token != token {
		return fmt.Errorf("memory: force unlock %q: token %s is now %s: %w", id, token, l.Token, stores.ErrLockChanged)
	}
	delete(m.locks, id)
	return nil
}
