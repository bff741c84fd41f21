package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"statescope/stores/filesystem"
	"statescope/stores/repair/repairtest"
)

// TestRestoreListStore: `restore --list` without an ID lists this store's
// backups by record, deleted records marked, newest first, never another
// store's; a deleted record comes back byte for byte with `restore ID`.
func TestRestoreListStore(t *testing.T) {
	e := newRepairEnv(t)
	if code, out, errOut := e.run(t, "", "restore", "--list"); code != 0 || !strings.Contains(out, "no backups") {
		t.Fatalf("no backups yet: exit %d\n%s%s", code, out, errOut)
	}
	appFile := filepath.Join(e.dir, filesystem.EngineName("prod/app")+".json")
	orig, err := os.ReadFile(appFile)
	if err != nil {
		t.Fatal(err)
	}
	deletedElsewhere(t, "other/rec")
	runAll(t,
		[]string{"--store", e.dir, "rm", "prod/app", "--yes"},
		[]string{"--store", e.dir, "set-status", "prod/db", "planned", "--yes"})

	code, out, errOut := e.run(t, "", "restore", "--list")
	if code != 0 {
		t.Fatalf("restore --list: exit %d\n%s%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "RESOURCE") ||
		!lineHas(lines[1], "prod/db", "differs", "1", "set-status") || !lineHas(lines[2], "prod/app", "deleted", "1", "delete") {
		t.Fatalf("restore --list: want a header, prod/db then prod/app (deleted) and the directory:\n%s", out)
	}
	if strings.Contains(out, "other/rec") {
		t.Errorf("another store's backup is listed:\n%s", out)
	}

	code, out, errOut = e.run(t, "", "restore", "--list", "-o", "json")
	var rows []struct {
		ResourceID string `json:"resource_id"`
		Now        string `json:"now"`
		Backups    []struct {
			Time, Action, SHA256, Path string
		} `json:"backups"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil {
		t.Fatalf("restore --list -o json: exit %d\n%s%s", code, out, errOut)
	}
	if len(rows) != 2 || rows[1].ResourceID != "prod/app" || rows[1].Now != "deleted" || len(rows[1].Backups) != 1 ||
		rows[1].Backups[0].Action != "delete" || rows[1].Backups[0].Path == "" || rows[1].Backups[0].SHA256 == "" {
		t.Fatalf("restore --list -o json:\n%s", out)
	}

	code, out, _ = e.run(t, "", "restore", "prod/app", "--list", "-o", "json")
	var one []struct{ Action, Path string }
	if code != 0 || json.Unmarshal([]byte(out), &one) != nil || len(one) != 1 || one[0].Action != "delete" || one[0].Path != rows[1].Backups[0].Path {
		t.Fatalf("restore ID --list -o json: exit %d\n%s", code, out)
	}

	if code, out, errOut := e.run(t, "", "restore", "prod/app", "--yes"); code != 0 || !strings.Contains(out, "(absent)") {
		t.Fatalf("restore of a deleted record: exit %d\n%s%s", code, out, errOut)
	}
	if got, err := os.ReadFile(appFile); err != nil || string(got) != string(orig) {
		t.Fatalf("restored bytes differ (%v):\n%s\nwant\n%s", err, got, orig)
	}
	if _, out, _ := e.run(t, "", "restore", "--list"); !lineHas(strings.Split(out, "\n")[2], "prod/app", "same") {
		t.Errorf("after the restore prod/app is not the same as its backup:\n%s", out)
	}
}

// TestRestoreCompletesDeletedIDs: tab after restore offers the records
// and the deleted records this store has backups of, not other stores'.
func TestRestoreCompletesDeletedIDs(t *testing.T) {
	e := newRepairEnv(t)
	deletedElsewhere(t, "prod/other")
	runAll(t, []string{"--store", e.dir, "rm", "prod/app", "--yes"})
	code, out, _ := e.run(t, "", "__complete", "restore", "prod/")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || strings.Join(lines[:len(lines)-1], ",") != "prod/app,prod/db" {
		t.Errorf("restore completion: exit %d\n%s", code, out)
	}
}

func TestRestoreUsage(t *testing.T) {
	e := newRepairEnv(t)
	for _, args := range [][]string{
		{"restore"},
		{"restore", "--list", "-o", "yaml"},
		{"restore", "prod/db", "-o", "json"},
		{"restore", "a", "b"},
	} {
		if code, _, errOut := e.run(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
}

// deletedElsewhere makes a record id in another store and deletes it
// with statescope, so that store has a backup of it in the same state
// directory.
func deletedElsewhere(t *testing.T, id string) {
	t.Helper()
	dir := t.TempDir()
	other, err := filesystem.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Save(context.Background(), repairtest.Record(id)); err != nil {
		t.Fatal(err)
	}
	runAll(t, []string{"--store", dir, "rm", id, "--yes"})
}

// runAll runs each command line, failing on the first that does not succeed.
func runAll(t *testing.T, commands ...[]string) {
	t.Helper()
	for _, args := range commands {
		var out, errOut strings.Builder
		if code := run(context.Background(), args, strings.NewReader(""), &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out.String(), errOut.String())
		}
	}
}

// lineHas reports whether line holds every word as a field.
func lineHas(line string, words ...string) bool {
	fields := strings.Fields(line)
	for _, w := range words {
		found := false
		for _, f := range fields {
			found = found || f == w
		}
		if !found {
			return false
		}
	}
	return true
}
