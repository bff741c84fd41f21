package tui_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"statescope/stores/demo"
)

// TestEndToEndRecover drives `statescope demo` in tmux through recover on
// the stuck record under an orphaned lock, checking on disk after each
// step: the lock file gone and the record untouched after step 1, the
// status and the reason written after step 2, each backed up.
func TestEndToEndRecover(t *testing.T) {
	tmp, bin := buildForTerminal(t)
	state := filepath.Join(tmp, "state")
	x := startTerminal(t, "recover", tmp, 120, 40, "", bin+" demo --dir "+state)
	record, lock := filepath.Join(state, "prod_db_orders.json"), filepath.Join(state, "prod_db_orders.lock")
	read := func() string {
		t.Helper()
		b, err := os.ReadFile(record)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	x.waitFor("58 records")
	before := read()
	x.send("/")
	x.typeText("prod/db/orders")
	x.send("Enter")
	x.waitFor("1 of 58")
	x.waitFor("u recover stuck record")
	x.send("u")
	x.waitFor("step 1 of 2: release the orphaned lock")
	screen := x.waitFor("type the resource ID to confirm")
	if !strings.Contains(screen, "verdict:  orphaned") || !strings.Contains(screen, "delete lock file "+lock) {
		t.Fatalf("step 1 does not show the lock:\n%s", screen)
	}
	x.typeText("prod/db/orders")
	x.send("Enter")
	x.waitFor("recover step 2 of 2: lock released")
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Fatalf("lock file after step 1: %v", err)
	}
	if read() != before {
		t.Fatal("the record changed in step 1")
	}

	x.send("Enter")
	x.waitFor(`+  "status": "error",`)
	if read() != before {
		t.Fatal("the record changed before step 2 was confirmed")
	}
	x.send("y")
	x.waitFor("set-status prod/db/orders: done")
	after := read()
	if !strings.Contains(after, `"status": "error"`) || !strings.Contains(after, `"error": "left in provisioning by an interrupted run"`) {
		t.Fatalf("record after step 2:\n%s", after)
	}
	if n := privateBackups(t, filepath.Join(state, demo.Marker, "statescope")); n != 2 { // the lock, then the record
		t.Fatalf("%d backups, want 2", n)
	}
	x.send("q")
}
