package tui

import (
	"strings"
	"testing"

	"statescope/stores"
)

// helpLine is the help bar at the bottom of the frame.
func (h *syncHarness) helpLine() string {
	lines := strings.Split(h.screen(), "\n")
	return lines[len(lines)-1]
}

// TestRepairRechecksTheLockWhenApplied: a plan refused because the record
// was locked applies once the lock is gone — released in the locks view
// or behind the UI's back — without reopening it.
func TestRepairRechecksTheLockWhenApplied(t *testing.T) {
	tests := []struct {
		name    string
		release func(h *repairHarness, gs *goldenStore)
	}{
		{"released in the locks view", func(h *repairHarness, _ *goldenStore) {
			h.keys("L", "F")
			h.typeText("prod/db/orders")
			h.keys("enter", "esc")
		}},
		{"released elsewhere", func(_ *repairHarness, gs *goldenStore) {
			gs.mu.Lock()
			gs.locks = gs.locks[1:]
			gs.mu.Unlock()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs := newGoldenStore(t)
			h := newRepairHarness(t, gs, false)
			h.open("prod/db/orders")
			h.keys("S")
			h.pickStatus(stores.StatusActive)
			h.keys("enter")
			h.expectScreen("release the lock first")
			h.keys("y")
			if got := h.get("prod/db/orders").Status; got != stores.StatusProvisioning {
				t.Fatalf("applied while locked: status %s", got)
			}
			tt.release(h, gs)
			h.keys("y")
			h.expectScreen("set-status prod/db/orders: done")
			if got := h.get("prod/db/orders").Status; got != stores.StatusActive {
				t.Fatalf("status %s after the lock was released, want active", got)
			}
		})
	}
}

// TestFooterOffersOnlyWhatWorks: after a refusal, while a delete is
// refused for its dependents, and on an unreadable record's delete, no
// hint on the screen offers what would be refused or says what is untrue.
func TestFooterOffersOnlyWhatWorks(t *testing.T) {
	tests := []struct {
		name    string
		store   func(t *testing.T) stores.Store
		steps   func(h *repairHarness)
		want    []string
		notHelp []string // not in the help bar
		notBody []string // nowhere on the screen
	}{
		{name: "delete refused for dependents", store: func(t *testing.T) stores.Store { return newGoldenStore(t) },
			steps: func(h *repairHarness) { h.open("prod/vpc/aws"); h.keys("ctrl+d") },
			want:  []string{"delete refused", "f delete anyway"}, notHelp: []string{"apply"}},
		{name: "edit refused by a conflict", store: func(t *testing.T) stores.Store { return newGoldenStore(t) },
			steps: func(h *repairHarness) {
				h.open("staging/db/orders")
				h.keys("S")
				h.pickStatus(stores.StatusPlanned)
				h.keys("enter")
				rec := h.get("staging/db/orders")
				rec.Status = stores.StatusDestroyed
				if err := h.store.Save(t.Context(), rec); err != nil {
					t.Fatal(err)
				}
				h.keys("y")
			},
			want: []string{"Someone else changed it", "nothing was written"}, notHelp: []string{"apply"}},
		{name: "unreadable record deleted", store: func(t *testing.T) stores.Store { return demoDir(t) },
			steps:   func(h *repairHarness) { h.open("prod/cache/sessions"); h.keys("ctrl+d") },
			want:    []string{"The current record is unreadable", "then it is deleted", "+++ deleted", "apply"},
			notBody: []string{"(no differences)", "replaced"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newRepairHarness(t, tt.store(t), false)
			tt.steps(h)
			h.expectScreen(tt.want...)
			help, screen := h.helpLine(), h.screen()
			for _, w := range tt.notHelp {
				if strings.Contains(help, w) {
					t.Errorf("help bar offers %q: %s", w, help)
				}
			}
			for _, w := range tt.notBody {
				if strings.Contains(screen, w) {
					t.Errorf("screen says %q:\n%s", w, screen)
				}
			}
		})
	}
}
