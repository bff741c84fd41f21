package repairtest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"statescope/stores"
	"statescope/stores/repair/backup"
)

// EmulateCAS wraps a store without compare-and-swap in one that has it,
// serialising the wrapper's own reads and writes with a mutex, so the
// engine's SaveIf/DeleteIf path runs on every backend. Versions are
// content hashes. Lock capabilities of the inner store pass through.
func EmulateCAS(s stores.Store) stores.Store { return &casStore{Store: s} }

type casStore struct {
	stores.Store
	mu sync.Mutex
}

// Unwrap returns the wrapped store.
func (c *casStore) Unwrap() stores.Store { return c.Store }

func (c *casStore) versioned(ctx context.Context, id string) (stores.Versioned, error) {
	st, err := c.Store.Get(ctx, id)
	if err != nil {
		return stores.Versioned{}, err
	}
	raw, err := stores.EncodeState(st)
	if err != nil {
		return stores.Versioned{}, err
	}
	return stores.Versioned{State: st, Raw: raw, Version: "h" + backup.SHA256(raw)[:16]}, nil
}

func (c *casStore) GetVersioned(ctx context.Context, id string) (stores.Versioned, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.versioned(ctx, id)
}

// check compares the stored version with version; "" means absent.
func (c *casStore) check(ctx context.Context, id, version string) error {
	v, err := c.versioned(ctx, id)
	if err != nil && !errors.Is(err, stores.ErrNotFound) {
		return err
	}
	if v.Version != version {
		return fmt.Errorf("emulated cas %q: version %q, not %q: %w", id, v.Version, version, stores.ErrConflict)
	}
	return nil
}

func (c *casStore) SaveIf(ctx context.Context, s *stores.State, version string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check(ctx, s.ResourceID, version); err != nil {
		return err
	}
	return c.Store.Save(ctx, s)
}

func (c *casStore) DeleteIf(ctx context.Context, id, version string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check(ctx, id, version); err != nil {
		return err
	}
	return c.Store.Delete(ctx, id)
}

func (c *casStore) Save(ctx context.Context, s *stores.State) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Store.Save(ctx, s)
}

func (c *casStore) Delete(ctx context.Context, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Store.Delete(ctx, id)
}

func (c *casStore) LockAs(ctx context.Context, id string, h *stores.Holder) error {
	if hl, ok := c.Store.(stores.HolderLocker); ok {
		return hl.LockAs(ctx, id, h)
	}
	return c.Store.Lock(ctx, id)
}

func (c *casStore) Locks(ctx context.Context) ([]stores.LockInfo, error) {
	if ll, ok := c.Store.(stores.LockLister); ok {
		return ll.Locks(ctx)
	}
	return nil, stores.ErrUnsupported
}

func (c *casStore) ForceUnlock(ctx context.Context, id, token string) error {
	if fu, ok := c.Store.(stores.ForceUnlocker); ok {
		return fu.ForceUnlock(ctx, id, token)
	}
	return stores.ErrUnsupported
}

// Interfere wraps s so that fn runs once, just before the first lock is
// taken: between the engine's read of a record and its write. The wrapper
// keeps s's compare-and-swap capability.
func Interfere(s stores.Store, fn func(ctx context.Context)) stores.Store {
	i := &interferer{Store: s, fn: fn}
	if cs, ok := s.(stores.ConditionalStore); ok {
		return casInterferer{i, cs}
	}
	return i
}

type interferer struct {
	stores.Store
	once sync.Once
	fn   func(ctx context.Context)
}

func (i *interferer) Lock(ctx context.Context, id string) error {
	i.once.Do(func() { i.fn(ctx) })
	return i.Store.Lock(ctx, id)
}

type casInterferer struct {
	*interferer
	cs stores.ConditionalStore
}

func (c casInterferer) GetVersioned(ctx context.Context, id string) (stores.Versioned, error) {
	return c.cs.GetVersioned(ctx, id)
}

func (c casInterferer) SaveIf(ctx context.Context, s *stores.State, version string) error {
	return c.cs.SaveIf(ctx, s, version)
}

func (c casInterferer) DeleteIf(ctx context.Context, id, version string) error {
	return c.cs.DeleteIf(ctx, id, version)
}
