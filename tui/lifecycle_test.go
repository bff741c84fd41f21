package tui

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"
	"go.uber.org/goleak"

	"statescope/stores"
)

// TestLeavingAViewCancelsItsLoads enters each view on a store that never
// answers, leaves it, and checks that the blocked call is cancelled at
// once, that the late reply is dropped, that entering again starts a new
// load, and that no goroutine outlives it all.
func TestLeavingAViewCancelsItsLoads(t *testing.T) {
	tests := []struct {
		name  string
		enter func(h *asyncHarness) // opens the view over the home view
		ops   int                   // store calls the view starts
		leave func(h *asyncHarness)
	}{
		{name: "resources", enter: func(h *asyncHarness) {}, ops: 2,
			leave: func(h *asyncHarness) { h.keys(":", "l", "o", "c", "k", "s", "enter") }},
		{name: "detail", enter: func(h *asyncHarness) { h.run(h.m.push(newDetailView(h.m.env, stores.Row{ID: "prod/db/orders"}))) }, ops: 1,
			leave: func(h *asyncHarness) { h.keys("esc") }},
		{name: "diff", enter: func(h *asyncHarness) {
			h.run(h.m.push(newDiffView(h.m.env, "prod/db/orders", &stores.State{ResourceID: "prod/db/orders"})))
		}, ops: 1, leave: func(h *asyncHarness) { h.keys("esc") }},
		{name: "locks", enter: func(h *asyncHarness) { h.keys("L") }, ops: 1,
			leave: func(h *asyncHarness) { h.keys("esc") }},
		{name: "findings", enter: func(h *asyncHarness) { h.run(h.m.push(newFindingsView(h.m.env))) }, ops: 1,
			leave: func(h *asyncHarness) { h.keys("esc") }},
		{name: "tree", enter: func(h *asyncHarness) { h.run(h.m.push(newTreeView(h.m.env, "prod/db/orders"))) }, ops: 1,
			leave: func(h *asyncHarness) { h.keys("esc") }},
		{name: "repair plan", enter: func(h *asyncHarness) {
			h.run(h.m.env.openDelete("prod/db/orders", h.m.env.keys.Detail.Delete))
		}, ops: 1, leave: func(h *asyncHarness) { h.keys("esc") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			synctest.Test(t, func(t *testing.T) {
				bs := newBlockingStore()
				h := newAsyncHarness(t, bs)
				defer h.close()
				homeOps := 2
				if tt.name == "resources" {
					homeOps = 0 // the home view is the one under test
				}
				for range homeOps {
					settled(t, bs.started, "the home view's load")
				}
				tt.enter(h)
				for range tt.ops {
					settled(t, bs.started, "the view's load")
				}
				v := h.m.top()
				gen := v.base().gen

				tt.leave(h)
				for range tt.ops {
					settled(t, bs.returned, "the cancelled call to return")
				}
				if tt.name == "resources" {
					settled(t, bs.started, "the locks view that replaced it")
				}
				if h.m.find(v.base().id) != nil {
					t.Fatal("the view is still on the stack after leaving")
				}

				// The late replies are addressed to a view that is gone.
				for range tt.ops {
					late := h.next(time.Second)
					tg, ok := late.(tagged)
					if !ok || tg.to != v.base().id {
						t.Fatalf("late reply %T %+v is not addressed to the left view", late, late)
					}
					h.send(late)
				}
				if v.base().gen != gen || !v.base().left {
					t.Fatalf("left view changed: gen %d→%d left=%v", gen, v.base().gen, v.base().left)
				}

				// Entering again starts a new view with a new, live load.
				if tt.name == "resources" {
					h.keys(":", "r", "e", "s", "enter")
					settled(t, bs.returned, "the locks view to be left") // :resources replaced it
				} else {
					tt.enter(h)
				}
				for range tt.ops {
					settled(t, bs.started, "the new load")
				}
				nv := h.m.top()
				if nv == v || nv.base().ctx.Err() != nil || nv.base().gen != 1 {
					t.Fatalf("re-entry did not start afresh: same=%v ctxErr=%v gen=%d", nv == v, nv.base().ctx.Err(), nv.base().gen)
				}
			})
		})
	}
}

// TestNewerLoadSupersedesOlder: pressing r while a load runs cancels it and
// its reply, arriving later, is ignored by generation.
func TestNewerLoadSupersedesOlder(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	synctest.Test(t, func(t *testing.T) {
		bs := newBlockingStore()
		h := newAsyncHarness(t, bs)
		defer h.close()
		settled(t, bs.started, "first load")
		settled(t, bs.started, "first lock load")
		v := h.m.top().(*resourcesView)
		h.keys("r")
		settled(t, bs.returned, "the superseded load")
		settled(t, bs.returned, "the superseded lock load")
		for range 2 {
			h.send(h.next(time.Second))
		}
		if v.gen != 2 || !v.listing || !v.lockLoading || v.err != nil {
			t.Fatalf("stale replies changed the view: gen=%d listing=%v lockLoading=%v err=%v", v.gen, v.listing, v.lockLoading, v.err)
		}
	})
}

// batchStore streams whatever batches the test sends, then ends.
type batchStore struct {
	plainStore
	batches chan []stores.Entry
}

func (b *batchStore) Stream(ctx context.Context, _ stores.Filter, yield func([]stores.Entry) error) error {
	for {
		select {
		case batch, ok := <-b.batches:
			if !ok {
				return nil
			}
			if err := yield(batch); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func entries(ids ...string) []stores.Entry {
	out := make([]stores.Entry, len(ids))
	for i, id := range ids {
		out[i] = stores.Entry{ID: id, State: &stores.State{ResourceID: id, Status: stores.StatusActive}}
	}
	return out
}

// TestRowsStreamInAsBatchesArrive: rows appear before the load completes.
func TestRowsStreamInAsBatchesArrive(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	synctest.Test(t, func(t *testing.T) {
		bs := &batchStore{plainStore: plainStore{newBlockingStore()}, batches: make(chan []stores.Entry)}
		h := newAsyncHarness(t, bs)
		defer h.close()
		v := h.m.top().(*resourcesView)
		pump := func() {
			for {
				msg := h.next(time.Second)
				h.send(msg)
				if tg, ok := msg.(tagged); ok {
					if _, isEntries := tg.msg.(rowsMsg); isEntries {
						return
					}
				}
			}
		}
		bs.batches <- entries("a", "b")
		pump()
		if v.grid.Len() != 2 || !v.listing {
			t.Fatalf("after one batch: %d rows, listing=%v", v.grid.Len(), v.listing)
		}
		if !strings.Contains(h.m.View().Content, "a") {
			t.Fatal("streamed rows are not rendered")
		}
		bs.batches <- entries("c")
		pump()
		close(bs.batches)
		for v.listing {
			pump()
		}
		if v.grid.Len() != 3 || !v.loaded || v.err != nil {
			t.Fatalf("after the end: %d rows, loaded=%v err=%v", v.grid.Len(), v.loaded, v.err)
		}
	})
}

// flakyStore fails its first list.
type flakyStore struct {
	*goldenStore
	failed atomic.Bool
}

func (f *flakyStore) List(ctx context.Context, fl stores.Filter) ([]stores.Entry, error) {
	if !f.failed.Swap(true) {
		return nil, errors.New("connection reset by peer")
	}
	return f.goldenStore.List(ctx, fl)
}

func TestFailedLoadShowsErrorAndRetries(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: &flakyStore{goldenStore: newGoldenStore(t)}, Name: "demo"}})
	if s := h.screen(); !strings.Contains(s, "load failed: connection reset by peer") || !strings.Contains(s, "press r to retry") {
		t.Fatalf("no inline error:\n%s", s)
	}
	h.keys("r")
	if s := h.screen(); strings.Contains(s, "load failed") || !strings.Contains(s, "prod/db/orders") {
		t.Fatalf("retry did not load:\n%s", s)
	}
}

// gatedStore holds a force release until the test opens the gate.
type gatedStore struct {
	*goldenStore
	gate    chan struct{}
	entered chan struct{}
}

func (g *gatedStore) ForceUnlock(ctx context.Context, id, token string) error {
	close(g.entered)
	<-g.gate
	return g.goldenStore.ForceUnlock(ctx, id, token)
}

// TestReleaseOutlivesTheLocksView: a release runs under the app context,
// so leaving the view does not abort it; its outcome is still reported.
func TestReleaseOutlivesTheLocksView(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	gs := &gatedStore{goldenStore: newGoldenStore(t), gate: make(chan struct{}), entered: make(chan struct{})}
	h := newSyncHarness(t, Options{Session: Session{Store: gs, Name: "demo"}})
	h.keys("L", "F")
	h.typeText("prod/db/orders")
	_, cmd := h.m.Update(keyPress("enter"))
	done := make(chan tea.Msg)
	go func() { done <- cmd() }()
	<-gs.entered
	h.keys("esc") // leave the locks view while the release is in flight
	close(gs.gate)
	msg := <-done
	if r, ok := msg.(repairedMsg); !ok || r.err != nil {
		t.Fatalf("release outcome %#v", msg)
	}
	h.send(msg)
	if s := h.screen(); !strings.Contains(s, "released the lock on prod/db/orders") {
		t.Fatalf("no success status:\n%s", s)
	}
	if locks, _ := gs.Locks(context.Background()); len(locks) != 2 {
		t.Fatalf("%d locks left, want 2", len(locks))
	}
}

// TestChangedLockIsNotReleased: the token shown no longer matches, so
// nothing happens, the operator is told, and the list is refreshed.
func TestChangedLockIsNotReleased(t *testing.T) {
	gs := newGoldenStore(t)
	h := newSyncHarness(t, Options{Session: Session{Store: gs, Name: "demo"}})
	h.keys("L", "F")
	h.typeText("prod/db/orders")
	gs.mu.Lock()
	gs.locks[0].Token = "tok-retaken"
	gs.mu.Unlock()
	h.keys("enter")
	s := h.screen()
	if !strings.Contains(s, "nothing released") {
		t.Fatalf("no refusal status:\n%s", s)
	}
	if locks, _ := gs.Locks(context.Background()); len(locks) != 3 {
		t.Fatalf("%d locks, want all 3 kept", len(locks))
	}
	if v := h.m.top().(*locksView); v.grid.Len() != 3 || v.loading {
		t.Fatalf("list not refreshed: %d rows, loading=%v", v.grid.Len(), v.loading)
	}
}

func TestQuitLeavesEveryView(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	synctest.Test(t, func(t *testing.T) {
		bs := newBlockingStore()
		h := newAsyncHarness(t, bs)
		defer h.close()
		settled(t, bs.started, "load")
		settled(t, bs.started, "lock load")
		h.keys("q")
		settled(t, bs.returned, "cancel on quit")
		settled(t, bs.returned, "cancel on quit")
		if len(h.m.stack) != 0 {
			t.Fatalf("%d views still open after quit", len(h.m.stack))
		}
	})
}

// closeRecorder notes that its store was closed.
type closeRecorder struct {
	*goldenStore
	closed atomic.Bool
}

func (c *closeRecorder) Close() error { c.closed.Store(true); return nil }

func TestSwitchContext(t *testing.T) {
	old := &closeRecorder{goldenStore: newGoldenStore(t)}
	next := &closeRecorder{goldenStore: newGoldenStore(t)}
	h := newSyncHarness(t, Options{
		Session:  Session{Store: old, Name: "prod"},
		Contexts: []string{"prod", "staging"},
		OpenContext: func(_ context.Context, name string) (Session, error) {
			if name != "staging" {
				return Session{}, errors.New(`unknown context "` + name + `"`)
			}
			return Session{Store: next, Name: name, ReadOnly: true}, nil
		},
	})
	first := h.m.top()
	h.keys(":")
	h.typeText("ctx nope")
	h.keys("enter")
	if s := h.screen(); !strings.Contains(s, `context nope: unknown context "nope"`) || h.m.top() != first || old.closed.Load() {
		t.Fatalf("a failed switch changed the session:\n%s", s)
	}
	h.keys(":")
	h.typeText("ctx st")
	h.keys("tab", "enter")
	s := h.screen()
	if !strings.Contains(s, "statescope › staging › resources  [read-only]") || !strings.Contains(s, "switched to staging") {
		t.Fatalf("not switched:\n%s", s)
	}
	if !old.closed.Load() || next.closed.Load() || !first.base().left {
		t.Fatalf("old closed=%v new closed=%v old view left=%v", old.closed.Load(), next.closed.Load(), first.base().left)
	}
	if !h.m.env.keys.ReadOnly {
		t.Fatal("the read-only context did not disable mutating keys")
	}
}

// countingStore counts lists.
type countingStore struct {
	*goldenStore
	lists atomic.Int32
}

func (c *countingStore) List(ctx context.Context, f stores.Filter) ([]stores.Entry, error) {
	c.lists.Add(1)
	return c.goldenStore.List(ctx, f)
}

// TestAutoRefresh reloads on the interval, keeps the rows on screen while
// it does, and stops ticking once the view is left.
func TestAutoRefresh(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	synctest.Test(t, func(t *testing.T) {
		cs := &countingStore{goldenStore: newGoldenStore(t)}
		h := newAsyncHarnessWith(t, Options{Session: Session{Store: cs, Name: "demo"}, Refresh: 5 * time.Millisecond})
		defer h.close()
		v := h.m.top().(*resourcesView)
		for cs.lists.Load() < 3 {
			h.send(h.next(time.Second))
			if v.loaded && v.grid.Len() != 58 {
				t.Fatalf("%d rows on screen during a refresh, want 58", v.grid.Len())
			}
		}
		h.keys(":", "l", "o", "c", "k", "s", "enter")
		// Deliver what is in flight, then let many intervals pass: no tick
		// may reach a list any more.
		deliver := func() {
			for synctest.Wait(); len(h.msgs) > 0; synctest.Wait() {
				h.send(<-h.msgs)
			}
		}
		deliver()
		n := cs.lists.Load()
		for range 10 {
			time.Sleep(5 * time.Millisecond) // fake time: every timer due fires
			deliver()
		}
		if cs.lists.Load() != n {
			t.Fatal("the left view kept refreshing")
		}
	})
}

func TestMouseWheelScrolls(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}})
	h.send(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	h.send(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	h.send(tea.MouseWheelMsg{Button: tea.MouseWheelUp})
	if en, _ := h.m.top().(*resourcesView).grid.Selected(); en.ID != "dev/bucket/terraform-migration" {
		t.Fatalf("wheel left the cursor on %s, want the fourth row", en.ID)
	}
}
