package tui

import (
	"context"
	"sync"

	"statescope/stores"
	"statescope/stores/fleet"
)

// fleetStores keeps each fleet context's store open from one check to the
// next while the fleet view lives: a re-check then costs the store's
// reads, not a new connection, SSH session or plugin process. A store
// whose check failed is closed and forgotten, so the next check dials
// again. Checks run off the UI goroutine, hence the lock.
type fleetStores struct {
	open func(ctx context.Context, target string) (stores.Store, error)

	mu     sync.Mutex
	byName map[string]stores.Store
	closed bool
}

func newFleetStores(open func(ctx context.Context, target string) (stores.Store, error)) *fleetStores {
	return &fleetStores{open: open, byName: map[string]stores.Store{}}
}

// get returns the context's open store, opening it if need be; a context
// its config entry keeps from opening fails before any dial.
func (c *fleetStores) get(ctx context.Context, m fleet.Member) (stores.Store, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	name := m.Name
	c.mu.Lock()
	s, closed := c.byName[name], c.closed
	c.mu.Unlock()
	switch {
	case closed:
		return nil, context.Canceled
	case s != nil:
		return s, nil
	}
	s, err := c.open(ctx, m.Target)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch old := c.byName[name]; {
	case c.closed:
		go stores.Close(s)
		return nil, context.Canceled
	case old != nil: // another check of this context opened it first
		go stores.Close(s)
		return old, nil
	}
	c.byName[name] = s
	return s, nil
}

// drop closes and forgets s after a failed check, unless it was already
// replaced.
func (c *fleetStores) drop(name string, s stores.Store) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byName[name] == s {
		delete(c.byName, name)
		go stores.Close(s) // a check cut short may still hold it
	}
}

// closeAll closes every store; later gets fail. Closing waits for reads
// still in flight to see their cancelled context, so it runs in the
// background, never on the UI goroutine.
func (c *fleetStores) closeAll() {
	c.mu.Lock()
	all := c.byName
	c.byName, c.closed = nil, true
	c.mu.Unlock()
	for _, s := range all {
		go stores.Close(s)
	}
}
