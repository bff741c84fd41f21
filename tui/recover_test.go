package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"statescope/stores"
)

// recoverOrders opens recover on the demo's stuck, orphan-locked record
// from its detail.
func recoverOrders(h *syncHarness) {
	h.keys("/")
	h.typeText("prod/db/orders")
	h.keys("enter", "enter", "u")
}

// The footer offers recover exactly where it applies: a stuck record
// under an orphaned lock; elsewhere the key shows why not, as the
// engine finds the record now.
func TestRecoverHintOnlyWhereItApplies(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}})
	footer := func() string {
		lines := strings.Split(h.screen(), "\n")
		return lines[len(lines)-1]
	}
	for _, tc := range []struct {
		id   string
		hint bool
	}{
		{"prod/db/orders", true},   // stuck, orphaned lock
		{"prod/k8s/main", false},   // orphaned lock, not stuck
		{"staging/dns/api", false}, // locked, fresh
		{"prod/db/users", false},   // neither
	} {
		h.m.pop()
		h.keys("esc")
		h.keys("/")
		h.typeText(tc.id)
		h.keys("enter")
		if got := strings.Contains(footer(), "recover"); got != tc.hint {
			t.Errorf("%s: table footer offers recover: %v, want %v\n%s", tc.id, got, tc.hint, footer())
		}
		h.keys("enter")
		if got := strings.Contains(footer(), "recover"); got != tc.hint {
			t.Errorf("%s: detail footer offers recover: %v, want %v\n%s", tc.id, got, tc.hint, footer())
		}
		h.keys("u")
		v, _ := h.m.top().(*recoverView)
		if v == nil || (v.err == nil) != tc.hint || !tc.hint && !strings.Contains(h.screen(), "recover "+tc.id+" refused: ") {
			t.Errorf("%s: u opened %T, want recover refusing: %v\n%s", tc.id, h.m.top(), !tc.hint, h.screen())
		}
		for len(h.m.stack) > 1 {
			h.m.pop()
		}
	}
}

// Recover releases the lock, then sets the status the operator confirms;
// stopping after step 1 leaves the lock released and the status as it was.
func TestRecoverSteps(t *testing.T) {
	for _, stop := range []string{"", "picker", "diff"} {
		gs := newGoldenStore(t)
		h := newSyncHarness(t, Options{Session: Session{Store: gs, Name: "demo"}})
		recoverOrders(h)
		h.typeText("prod/db/orders")
		h.keys("enter") // step 1: release
		locks, _ := gs.Locks(context.Background())
		for _, l := range locks {
			if l.ResourceID == "prod/db/orders" {
				t.Fatal("the lock is still there after step 1")
			}
		}
		if stop == "picker" {
			h.keys("esc")
		} else {
			h.keys("enter") // step 2: error, with the reason offered
		}
		switch stop {
		case "diff":
			h.keys("esc")
		case "":
			h.keys("y")
		}
		if stopped := "recover stopped after step 1: the lock on prod/db/orders is released, its status untouched (provisioning)"; stop != "" && h.m.status != stopped {
			t.Errorf("stop at %s: status %q, want %q", stop, h.m.status, stopped)
		}
		rec, err := gs.Get(context.Background(), "prod/db/orders")
		if err != nil {
			t.Fatal(err)
		}
		want, wantErr := stores.StatusError, "left in provisioning by an interrupted run"
		if stop != "" {
			want, wantErr = stores.StatusProvisioning, ""
		}
		if rec.Status != want || rec.Error != wantErr {
			t.Errorf("stop at %q: status %q error %q, want %q %q", stop, rec.Status, rec.Error, want, wantErr)
		}
	}
}

// stuckUnderFreshLock leaves the demo's freshly locked record stuck in
// provisioning: recover does not apply, as its holder may be at work.
func stuckUnderFreshLock(t *testing.T) func(o *Options) {
	return func(o *Options) {
		gs := newGoldenStore(t)
		rec, err := gs.Get(context.Background(), "staging/dns/api")
		if err != nil {
			t.Fatal(err)
		}
		rec.Status, rec.UpdatedAt = stores.StatusProvisioning, stores.FormatTime(clock.Add(-time.Hour))
		if err := gs.Save(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		o.Session.Store = gs
	}
}
