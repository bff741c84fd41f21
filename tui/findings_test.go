package tui

import (
	"strings"
	"testing"
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
	t.Run("stuck record", func(t *testing.T) {
		h := newRepairHarness(t, newGoldenStore(t), false)
		h.findFinding("stuck-record")
		h.keys("x")
		h.expectScreen("set-status")
		h.expectScreen(`"status": "error"`)
	})
	t.Run("read-only", func(t *testing.T) {
		h := newRepairHarness(t, newGoldenStore(t), true)
		h.findFinding("orphaned-lock")
		h.keys("x")
		h.expectScreen("force release is disabled: the store is opened read-only")
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
