package tui

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"statescope/stores"
	"statescope/stores/repair"
	"statescope/stores/repair/backup"
)

// deleteAndChange sets the status of prod/db/analytics and, a minute
// later, deletes staging/db/orders, through the UI: two records with
// backups, the newest of a record now gone.
func deleteAndChange(h *repairHarness) {
	h.t.Helper()
	h.open("prod/db/analytics")
	h.keys("S", "down", "enter", "y")
	h.expectScreen("set-status prod/db/analytics: done")
	h.m.env.repair.Now = func() time.Time { return clock.Add(time.Minute) }
	h.command("resources")
	h.open("staging/db/orders")
	h.keys("ctrl+d", "y")
	h.expectScreen("delete staging/db/orders: done")
	h.gone("staging/db/orders")
	h.command("resources")
}

// command runs a command of the : bar.
func (h *repairHarness) command(c string) {
	h.keys(":")
	h.typeText(c)
	h.keys("enter")
}

// standing is how the open :backups view lists each record now.
func (h *repairHarness) standing() map[string]repair.RecordNow {
	h.t.Helper()
	v, ok := h.m.top().(*storeBackupsView)
	if !ok {
		h.t.Fatalf("%T on top, want the store's backups", h.m.top())
	}
	out := map[string]repair.RecordNow{}
	for _, b := range v.grid.Items() {
		out[b.ID] = b.Now
	}
	return out
}

// TestStoreBackupsRestoreDeleted: :backups lists the store's backed-up
// records, the deleted one marked and first; enter lists its backups and
// a restore brings it back through the confirmation (diff against
// nothing, secrets masked until x), after which it reads as the same as
// its backup.
func TestStoreBackupsRestoreDeleted(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			h := newRepairHarness(t, b.open(t), false)
			orig := h.get("staging/db/orders")
			deleteAndChange(h)
			h.command("backups")
			h.expectScreen("2 records with backups · 1 deleted", "row 1/2")
			if got := h.standing(); len(got) != 2 || got["staging/db/orders"] != repair.NowDeleted || got["prod/db/analytics"] != repair.NowDiffers {
				t.Fatalf("rows %v:\n%s", got, h.screen())
			}
			h.keys("/")
			h.typeText("deleted")
			h.keys("enter")
			h.expectScreen("row 1/1 of 2")
			h.keys("enter")
			h.expectScreen("backups of staging/db/orders · deleted", "delete")
			h.keys("enter")
			h.expectScreen("RESTORE staging/db/orders", "absent now", "--- current staging/db/orders (absent)",
				"only if no record has the ID when it is written", "secret-looking values masked")
			if strings.Contains(h.screen(), "st4g1ng-Pw!") {
				t.Fatal("a secret is shown before x")
			}
			h.keys("x")
			h.expectScreen("st4g1ng-Pw!")
			h.keys("y")
			h.expectScreen("restore staging/db/orders: done", "backups of staging/db/orders")
			if strings.Contains(h.screen(), "· deleted") {
				t.Fatalf("the record's backups still call it deleted:\n%s", h.screen())
			}
			if got := h.get("staging/db/orders"); !reflect.DeepEqual(got, orig) {
				t.Fatalf("restored %+v, want %+v", got, orig)
			}
			h.keys("esc")
			if _, ok := h.m.top().(*storeBackupsView); !ok {
				t.Fatalf("back from the record's backups: %T", h.m.top())
			}
			h.keys("esc") // clears the filter
			h.expectScreen("2 records with backups")
			if got := h.standing()["staging/db/orders"]; got != repair.NowSame {
				t.Fatalf("after the restore staging/db/orders is %q:\n%s", got, h.screen())
			}
		})
	}
}

// TestStoreBackupsRecreatedMeanwhile: a record created after the restore
// was planned is never overwritten; the refusal says so.
func TestStoreBackupsRecreatedMeanwhile(t *testing.T) {
	h := newRepairHarness(t, newGoldenStore(t), false)
	deleteAndChange(h)
	h.keys("b")
	h.expectScreen("2 records with backups")
	h.keys("enter", "enter")
	h.send(tea.WindowSizeMsg{Width: 120, Height: 60}) // room for the footer under the diff
	h.expectScreen("RESTORE staging/db/orders", "absent now", "created only if no record has the ID when it is written (nothing is overwritten)")
	if strings.Contains(h.screen(), "backed up") {
		t.Fatalf("the confirmation promises a backup of a record that does not exist:\n%s", h.screen())
	}
	theirs := &stores.State{ResourceID: "staging/db/orders", ResourceType: "infra.database", Provider: "aws", Status: stores.StatusProvisioning}
	if err := h.store.Save(context.Background(), theirs); err != nil {
		t.Fatal(err)
	}
	h.keys("y")
	h.expectScreen("staging/db/orders was created since it was read", "Someone else created it")
	if got := h.get("staging/db/orders"); got.Status != stores.StatusProvisioning {
		t.Fatalf("the record created meanwhile was overwritten: %+v", got)
	}
}

// TestStoreBackupsReadOnly lists backups but refuses to restore.
func TestStoreBackupsReadOnly(t *testing.T) {
	s := newGoldenStore(t)
	h := newRepairHarness(t, s, false)
	deleteAndChange(h)
	ro := newRepairHarness(t, s, true)
	ro.stateDir = h.stateDir
	ro.m.env.opts.StateDir = h.stateDir
	ro.m.env.repair = ro.m.env.newEngine(ro.m.env.session)
	ro.command("backups")
	ro.expectScreen("2 records with backups · 1 deleted")
	ro.keys("enter", "enter")
	ro.expectScreen("restore is disabled: the store is opened read-only")
	ro.gone("staging/db/orders")
}

// TestStoreBackupsOfThisStoreOnly: backups another store took, in the same
// state directory, are not listed.
func TestStoreBackupsOfThisStoreOnly(t *testing.T) {
	h := newRepairHarness(t, newGoldenStore(t), false)
	d := backup.Dir{Root: filepath.Join(h.stateDir, "backups")}
	if _, err := d.Write(backup.Meta{Target: "file:///elsewhere", ResourceID: "elsewhere/db", Kind: backup.KindRecord, Action: "delete", Time: clock}, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	h.command("backups")
	h.expectScreen("no backups from this store yet")
	h.command("resources")
	deleteAndChange(h)
	h.keys("b")
	h.expectScreen("2 records with backups")
	if strings.Contains(h.screen(), "elsewhere/db") {
		t.Fatalf("another store's backup is listed:\n%s", h.screen())
	}
}

// TestStoreBackupsGolden renders the store's backups as an operator sees
// them at 120×40 and 80×24; run with -update to refresh the files under
// testdata/TestStoreBackupsGolden.
func TestStoreBackupsGolden(t *testing.T) {
	tests := []struct {
		name          string
		width, height int
		steps         func(h *repairHarness)
		want          string
	}{
		{name: "list", width: 120, height: 40, want: "2 records with backups · 1 deleted"},
		{name: "list_80x24", width: 80, height: 24, want: "deleted"},
		{name: "filtered_80x24", width: 80, height: 24, steps: func(h *repairHarness) { h.keys("/"); h.typeText("deleted"); h.keys("enter") }, want: "row 1/1 of 2"},
		{name: "record_deleted", width: 120, height: 40, steps: func(h *repairHarness) { h.keys("enter") }, want: "backups of staging/db/orders · deleted"},
		{name: "restore_deleted_80x24", width: 80, height: 24, steps: func(h *repairHarness) { h.keys("enter", "enter") }, want: "absent now"},
		{name: "help", width: 120, height: 40, steps: func(h *repairHarness) { h.keys("?") }, want: "store_backups.open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newRepairHarness(t, newGoldenStore(t), false)
			deleteAndChange(h)
			h.command("backups")
			h.send(tea.WindowSizeMsg{Width: tt.width, Height: tt.height})
			if tt.steps != nil {
				tt.steps(h)
			}
			screen := h.screen()
			if !strings.Contains(screen, tt.want) {
				t.Errorf("frame lacks %q:\n%s", tt.want, screen)
			}
			golden.RequireEqual(t, screen)
		})
	}
}
