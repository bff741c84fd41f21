package tui_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestEndToEndRestoreDeleted drives `statescope demo` in tmux: delete a
// record, find it in :backups, restore it, and check on disk that the
// file is back byte for byte.
func TestEndToEndRestoreDeleted(t *testing.T) {
	tmp, bin := buildForTerminal(t)
	state := filepath.Join(tmp, "state")
	x := startTerminal(t, "backups", tmp, 120, 40, "", bin+" demo --dir "+state)

	x.waitFor("58 records")
	record := filepath.Join(state, "staging_db_orders.json")
	orig, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}

	x.send("/")
	x.typeText("staging/db/orders")
	x.send("Enter")
	x.waitFor("1 of 58")
	x.send("Enter")
	x.waitFor("status")
	x.send("C-d")
	x.waitFor("+++ deleted")
	x.send("y")
	x.waitFor("delete staging/db/orders: done")
	if _, err := os.Stat(record); !os.IsNotExist(err) {
		t.Fatalf("%s still there after the delete: %v", record, err)
	}

	x.send(":")
	x.typeText("backups")
	x.send("Enter")
	x.waitFor("1 record with backups · 1 deleted")
	if !lineWith(x.screen(), "staging/db/orders", "deleted", "delete") {
		t.Fatalf("the deleted record is not listed as deleted:\n%s", x.screen())
	}
	x.send("Enter")
	x.waitFor("backups of staging/db/orders · deleted")
	x.send("Enter")
	x.waitFor("--- current staging/db/orders (absent)")
	x.waitFor(`+  "resource_id": "staging/db/orders",`) // the plan is ready: y applies it
	x.send("y")
	x.waitFor("restore staging/db/orders: done")
	got, err := os.ReadFile(record)
	if err != nil || !bytes.Equal(got, orig) {
		t.Fatalf("restored file (%v):\n%s\nwant\n%s", err, got, orig)
	}
	x.send("Escape")
	x.waitFor("1 record with backups  newest first") // no longer "· 1 deleted"
	if !lineWith(x.screen(), "staging/db/orders", "same", "delete") {
		t.Fatalf("the restored record is not listed as the same as its backup:\n%s", x.screen())
	}
	x.send("q")
}
