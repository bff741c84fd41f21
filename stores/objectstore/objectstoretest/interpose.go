package objectstoretest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"

	"statescope/stores"
	"statescope/stores/storetest"
)

// Interposer is an HTTP proxy in front of a real object-store server that
// runs a step of the test just before it forwards the next write: the
// moment between a store's pre-check (a GET or HEAD) and its conditional
// request, where only the server's precondition can still refuse.
type Interposer struct {
	// Addr is the proxy's host:port, to use in place of the server's.
	Addr string

	mu     sync.Mutex
	before func()
	fired  bool
	drop   bool // the next write's reply is lost
	hold   func(*http.Request) bool
	held   chan struct{} // closed on release
	answer func(http.ResponseWriter, *http.Request) bool
}

// Interpose starts a proxy to the server at addr (host:port). Requests are
// forwarded unchanged, Host header included, so signatures stay valid.
func Interpose(t *testing.T, addr string) *Interposer {
	t.Helper()
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: addr})
	ip := &Interposer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip.mu.Lock()
		answer := ip.answer
		ip.mu.Unlock()
		if answer != nil && answer(w, r) {
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			ip.runBefore()
			if ip.takeDrop() {
				// The server acts on the request; the client never hears.
				rp.ServeHTTP(httptest.NewRecorder(), r)
				http.Error(w, "reply lost", http.StatusServiceUnavailable)
				return
			}
		}
		if !ip.wait(r) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ip.Addr = srv.Listener.Addr().String()
	return ip
}

// BeforeNextWrite arms fn to run once, just before the next request that
// is neither GET nor HEAD reaches the server.
func (ip *Interposer) BeforeNextWrite(fn func()) {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	ip.before, ip.fired = fn, false
}

func (ip *Interposer) runBefore() {
	ip.mu.Lock()
	fn := ip.before
	ip.before = nil
	ip.mu.Unlock()
	if fn != nil {
		fn()
		ip.mu.Lock()
		ip.fired = true
		ip.mu.Unlock()
	}
}

// DropNextWriteReply makes the server carry out the next write but the
// client receive a 503 instead of its reply, as when a response is lost.
func (ip *Interposer) DropNextWriteReply() {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	ip.drop = true
}

func (ip *Interposer) takeDrop() bool {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	drop := ip.drop
	ip.drop = false
	return drop
}

// Answer runs fn on every request before anything else; a request fn
// answers itself (returning true) does not reach the server. Tests count
// requests with it, or answer chosen ones with an error.
func (ip *Interposer) Answer(fn func(w http.ResponseWriter, r *http.Request) bool) {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	ip.answer = fn
}

// Hold keeps every request that match selects from reaching the server
// until release is called, so a test can assert what a store does before
// those requests are answered (order, not time).
func (ip *Interposer) Hold(match func(*http.Request) bool) (release func()) {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	held := make(chan struct{})
	ip.hold, ip.held = match, held
	var once sync.Once
	return func() { once.Do(func() { close(held) }) }
}

// wait holds r while Hold selects it; false if the client gave up first.
func (ip *Interposer) wait(r *http.Request) bool {
	ip.mu.Lock()
	match, held := ip.hold, ip.held
	ip.mu.Unlock()
	if match == nil || !match(r) {
		return true
	}
	select {
	case <-held:
		return true
	case <-r.Context().Done():
		return false
	}
}

// Fired reports whether the armed step ran.
func (ip *Interposer) Fired() bool {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	return ip.fired
}

// Interposed is a store whose requests pass through an Interposer, and a
// second store on the same bucket or container that talks to the server
// directly, to change objects inside the window the Interposer opens.
type Interposed struct {
	Store, Direct stores.Store
	Proxy         *Interposer
}

// staleConditional changes the object between each conditional operation's
// pre-check and its request, and proves the server refuses the request:
// the ETag / generation precondition, not the pre-check, is what keeps a
// lock that changed hands, or a record someone else rewrote.
func staleConditional(t *testing.T, h Harness) {
	if h.Interposed == nil {
		t.Fatal("the harness has no Interposed: every object store must prove its server enforces its preconditions")
	}
	const id = "team/db"
	ours, theirs := storetest.Record(id), storetest.Record(id)
	ours.Status, theirs.Status = stores.StatusDestroyed, stores.StatusError
	theirs.Error = "written by someone else meanwhile"

	// inWindow runs op with change armed to happen just before op's write
	// reaches the server, and returns op's error.
	inWindow := func(t *testing.T, in Interposed, change func() error, op func() error) error {
		t.Helper()
		in.Proxy.BeforeNextWrite(func() {
			if err := change(); err != nil {
				t.Errorf("changing the object meanwhile: %v", err)
			}
		})
		err := op()
		if !in.Proxy.Fired() {
			t.Fatalf("the operation sent no write (it returned %v): nothing was tested", err)
		}
		return err
	}
	version := func(t *testing.T, in Interposed, c context.Context) string {
		if err := in.Store.Save(c, storetest.Record(id)); err != nil {
			t.Fatal(err)
		}
		v, err := in.Store.(stores.ConditionalStore).GetVersioned(c, id)
		if err != nil {
			t.Fatal(err)
		}
		return v.Version
	}
	recordOps := []struct {
		name string
		// existing: a record is there first, and op is made with its version.
		existing bool
		op       func(c context.Context, cs stores.ConditionalStore, version string) error
	}{
		{"SaveIf", true, func(c context.Context, cs stores.ConditionalStore, v string) error { return cs.SaveIf(c, ours, v) }},
		{"SaveIfAbsent", false, func(c context.Context, cs stores.ConditionalStore, _ string) error { return cs.SaveIf(c, ours, "") }},
		{"DeleteIf", true, func(c context.Context, cs stores.ConditionalStore, v string) error { return cs.DeleteIf(c, id, v) }},
	}
	for _, o := range recordOps {
		t.Run(o.name, func(t *testing.T) {
			in, c := h.Interposed(t), ctx(t)
			var v string
			if o.existing {
				v = version(t, in, c)
			}
			err := inWindow(t, in, func() error { return in.Direct.Save(c, theirs) },
				func() error { return o.op(c, in.Store.(stores.ConditionalStore), v) })
			if !errors.Is(err, stores.ErrConflict) {
				t.Errorf("%s on a record written by someone else meanwhile: %v, want ErrConflict", o.name, err)
			}
			got, err := in.Direct.Get(c, id)
			if err != nil || got.Status != theirs.Status || got.Error != theirs.Error {
				t.Errorf("the other writer's record was not kept: %+v, %v", got, err)
			}
		})
	}
	t.Run("Lock", func(t *testing.T) {
		in, c := h.Interposed(t), ctx(t)
		err := inWindow(t, in, func() error { return in.Direct.Lock(c, id) }, func() error { return in.Store.Lock(c, id) })
		if !errors.Is(err, stores.ErrLocked) {
			t.Errorf("Lock on a lock taken meanwhile: %v, want ErrLocked", err)
		}
		if err := in.Direct.Unlock(c, id); err != nil {
			t.Errorf("the lock taken meanwhile was disturbed: %v", err)
		}
	})
	t.Run("LockReplyLost", func(t *testing.T) {
		// The create reaches the server, its reply does not: the client's
		// retry meets its own lock, which is taken, not "locked by someone".
		in, c := h.Interposed(t), ctx(t)
		in.Proxy.DropNextWriteReply()
		if err := in.Store.Lock(c, id); err != nil {
			t.Fatalf("Lock whose first reply was lost: %v", err)
		}
		if err := in.Direct.Lock(c, id); !errors.Is(err, stores.ErrLocked) {
			t.Errorf("the lock is not held: another Lock got %v", err)
		}
		if err := in.Store.Unlock(c, id); err != nil {
			t.Errorf("Unlock: %v", err)
		}
	})
	t.Run("ForceUnlock", func(t *testing.T) {
		in, c := h.Interposed(t), ctx(t)
		if err := in.Direct.Save(c, storetest.Record(id)); err != nil {
			t.Fatal(err)
		}
		if err := in.Direct.Lock(c, id); err != nil {
			t.Fatal(err)
		}
		seen := lockToken(t, c, in.Store, id)
		if seen == "" {
			t.Fatal("the lock is not in the inventory")
		}
		// The lock changes hands: released and taken again.
		changeHands := func() error {
			if err := in.Direct.(stores.ForceUnlocker).ForceUnlock(c, id, seen); err != nil {
				return err
			}
			return in.Direct.Lock(c, id)
		}
		err := inWindow(t, in, changeHands, func() error { return in.Store.(stores.ForceUnlocker).ForceUnlock(c, id, seen) })
		if !errors.Is(err, stores.ErrLockChanged) {
			t.Errorf("ForceUnlock of a lock that changed hands meanwhile: %v, want ErrLockChanged", err)
		}
		if now := lockToken(t, c, in.Direct, id); now == "" || now == seen {
			t.Errorf("the new lock is gone or kept the old token: %q (was %q)", now, seen)
		}
		if err := in.Direct.Unlock(c, id); err != nil {
			t.Errorf("the new lock was disturbed: %v", err)
		}
	})
}

// lockToken is the token of id's lock in s's inventory, "" if unlocked.
func lockToken(t *testing.T, c context.Context, s stores.Store, id string) string {
	t.Helper()
	locks, err := s.(stores.LockLister).Locks(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range locks {
		if l.ResourceID == id {
			return l.Token
		}
	}
	return ""
}
