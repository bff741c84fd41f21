package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"statescope/stores"
	"statescope/stores/memory"
)

// findFinding filters the findings view down to one kind.
func (h *repairHarness) findFinding(kind string) {
	h.keys(":")
	h.typeText("check")
	h.keys("enter", "/")
	h.typeText(kind)
	h.keys("enter")
}

// TestFindingsRepairThroughTheDialogs: x on a finding opens the dialog
// that repairs it, the same one the other views use.
func TestFindingsRepairThroughTheDialogs(t *testing.T) {
	t.Run("orphaned lock", func(t *testing.T) {
		h := newRepairHarness(t, newGoldenStore(t), false)
		h.findFinding("orphaned-lock")
		h.expectScreen("repair: statescope unlock prod/db/orders --token tok-orders")
		h.keys("x")
		h.expectScreen("FORCE RELEASE LOCK")
		h.typeText("prod/db/orders")
		h.keys("enter")
		h.expectScreen("released the lock on prod/db/orders; backed up as")
		if a := h.audit(); len(a) != 1 || a[0].Action != "force-unlock" {
			t.Fatalf("audit %+v", a)
		}
	})
	t.Run("stuck record under an orphaned lock", func(t *testing.T) {
		h := newRepairHarness(t, newGoldenStore(t), false)
		h.findFinding("stuck-record")
		h.keys("x")
		h.expectScreen("RECOVER prod/db/orders", "step 1 of 2: release the orphaned lock")
	})
	t.Run("stuck record without a lock", func(t *testing.T) {
		s := memory.New()
		if err := s.Save(context.Background(), &stores.State{ResourceID: "web", Status: stores.StatusDestroying, UpdatedAt: "2020-01-01T00:00:00Z"}); err != nil {
			t.Fatal(err)
		}
		h := newRepairHarness(t, s, false)
		h.findFinding("stuck-record")
		h.expectScreen("repair: statescope set-status web error --reason 'left in destroying by an interrupted run'")
		h.keys("x")
		h.expectScreen("SET-STATUS web", `"status": "error"`, `"error": "left in destroying by an interrupted run"`)
	})
	for kind, refusal := range map[string]string{
		"orphaned-lock":  "force release is disabled: the store is opened read-only",
		"stuck-record":   "recover is disabled: the store is opened read-only",
		"error-record":   "set status is disabled: the store is opened read-only",
		"corrupt-record": "edit is disabled: the store is opened read-only",
	} {
		t.Run("read-only "+kind, func(t *testing.T) {
			h := newRepairHarness(t, newGoldenStore(t), true)
			h.findFinding(kind)
			h.keys("x")
			h.expectScreen(refusal)
		})
	}
}

// TestFindingsRepairsNameTheStore: a store opened with --store (no
// context) has repairs that name it, so one pasted later does not act on
// the config's current context.
func TestFindingsRepairsNameTheStore(t *testing.T) {
	s := memory.New()
	if err := s.Save(context.Background(), &stores.State{ResourceID: "web", Status: stores.StatusDestroying, UpdatedAt: "2020-01-01T00:00:00Z"}); err != nil {
		t.Fatal(err)
	}
	h := newSyncHarness(t, Options{Session: Session{Store: s, Name: "/srv/state", Target: "file:///srv/state", Args: []string{"--store", "/srv/state"}}, StateDir: t.TempDir()})
	h.keys(":")
	h.typeText("check")
	h.keys("enter")
	if s := h.screen(); !strings.Contains(s, "--reason 'left in destroying by an interrupted run' --store /srv/state") {
		t.Errorf("the repair does not name the store:\n%s", s)
	}
}

// TestFindingsRepairsTheLockAllows: x does what the check's repair says
// given the lock — a stuck record a live holder still locks is not sent
// to a set status that would be refused, and a lock whose token cannot
// prove it names the lock is not force-released by token.
func TestFindingsRepairsTheLockAllows(t *testing.T) {
	t.Run("stuck under a live lock", func(t *testing.T) {
		s := memory.New()
		ctx := context.Background()
		if err := s.Save(ctx, &stores.State{ResourceID: "web", Status: stores.StatusProvisioning, UpdatedAt: "2020-01-01T00:00:00Z"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Lock(ctx, "web"); err != nil {
			t.Fatal(err)
		}
		h := newRepairHarness(t, s, false)
		h.findFinding("stuck-record")
		h.keys("x")
		h.expectScreen("web is still locked (")
	})
	t.Run("unproven token", func(t *testing.T) {
		gs := newGoldenStore(t)
		for i := range gs.locks {
			gs.locks[i].Unproven = "the backend's lease ID is not the lock's"
		}
		h := newRepairHarness(t, gs, false)
		h.findFinding("orphaned-lock")
		h.keys("x")
		h.expectScreen("not carried out here", "--unproven")
	})
}

func TestFindingsSummary(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}})
	h.keys(":")
	h.typeText("check")
	h.keys("enter")
	s := h.screen()
	for _, want := range []string{"findings · critical 3", "58 records checked", "corrupt-record", "orphaned-lock", "stuck-record"} {
		if !strings.Contains(s, want) {
			t.Errorf("findings lack %q:\n%s", want, s)
		}
	}
}

// TestFindingsEnterOnlyOpensRecords: enter opens a record's detail; on a
// finding about something that is no record (a lock whose record is gone,
// a directory, a stray file) it says so instead of a "no record" screen.
func TestFindingsEnterOnlyOpensRecords(t *testing.T) {
	gs := newGoldenStore(t)
	gs.locks = append(gs.locks, stores.LockInfo{ResourceID: "prod/ghost", Token: "tok-ghost", AcquiredAt: clock.Add(-time.Minute),
		Evidence: "held", Source: "/state/prod_ghost.lock", Release: "delete lock file /state/prod_ghost.lock"})
	h := newRepairHarness(t, gs, false)
	h.findFinding("lock-without-record")
	h.keys("enter")
	if _, ok := h.m.top().(*findingsView); !ok {
		t.Fatalf("enter left the findings for a record that does not exist:\n%s", h.screen())
	}
	h.expectScreen("lock-without-record: prod/ghost is no record to open")
	h.keys("esc", "/") // clears the filter
	h.typeText("stuck-record")
	h.keys("enter", "enter")
	h.expectScreen("› findings › prod/db/orders")
}

// TestFindingsCopyWithoutRepair: y on a finding no command repairs says
// so instead of doing nothing.
func TestFindingsCopyWithoutRepair(t *testing.T) {
	gs := newGoldenStore(t)
	gs.locks = append(gs.locks, stores.LockInfo{ResourceID: "advisory-key:42", AcquiredAt: clock.Add(-time.Minute), Evidence: "held", Source: "pg_locks"})
	h := newRepairHarness(t, gs, false)
	h.findFinding("advisory-key")
	h.keys("y")
	h.expectScreen("no repair command to copy")
}

// TestFindingsEmptyStore: a store without records is not called healthy
// (a mistyped prefix reads as empty): the findings say there was nothing
// to check.
func TestFindingsEmptyStore(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: memory.New(), Name: "empty"}})
	h.keys(":")
	h.typeText("check")
	h.keys("enter")
	if s := h.screen(); !strings.Contains(s, "no records in this store: nothing to check") || strings.Contains(s, "nothing wrong") {
		t.Errorf("the empty store's findings:\n%s", s)
	}
}

// TestFindingsUnreadableStore: a check that fails shows why, and r tries
// again.
func TestFindingsUnreadableStore(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: failingList{memory.New()}, Name: "broken"}})
	h.keys(":")
	h.typeText("check")
	h.keys("enter")
	if s := h.screen(); !strings.Contains(s, "check failed") || !strings.Contains(s, "connection reset by peer") {
		t.Errorf("the failed check does not say why:\n%s", s)
	}
}

// TestFindingsSelectedEvidenceWhole: the table cuts evidence to its
// column; the selected finding's shows whole under it, wrapped, at 80
// columns too.
func TestFindingsSelectedEvidenceWhole(t *testing.T) {
	h := newRepairHarness(t, newGoldenStore(t), false)
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.findFinding("api-canary")
	s := h.screen()
	for _, want := range []string{"digitalocean.com/v2/domains", "re-run the deploy, or once fixed by hand mark it", "repair: statescope set-status"} {
		if !strings.Contains(s, want) {
			t.Errorf("the selected finding lacks %q:\n%s", want, s)
		}
	}
}
