package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"statescope/stores/storetest"
)

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestUnlockOrphanLock: a lock without a record (a crash between Lock and
// the first save) is listed as "no record" with its file name, and unlock
// takes the resource ID as upstream names it, or the listed name.
func TestUnlockOrphanLock(t *testing.T) {
	for _, arg := range []string{"orphan/x:y", "orphan_x:y"} {
		t.Run(arg, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "orphan_x:y.lock"), "2026-01-01T00:00:00Z")
			_, out, _ := cli(t, "", "--store", dir, "locks")
			if !strings.Contains(out, "orphan_x:y (no record: orphan_x:y.lock)") {
				t.Errorf("locks table:\n%s", out)
			}
			_, out, _ = cli(t, "", "--store", dir, "locks", "-o", "json")
			var locks []map[string]any
			if err := json.Unmarshal([]byte(out), &locks); err != nil || len(locks) != 1 || locks[0]["no_record"] != true {
				t.Fatalf("locks json: %v %s", err, out)
			}
			code, out, errOut := cli(t, "", "--store", dir, "unlock", arg, "--token", locks[0]["token"].(string))
			if code != 0 {
				t.Fatalf("unlock %s: exit %d %s%s", arg, code, out, errOut)
			}
			if _, err := os.Stat(filepath.Join(dir, "orphan_x:y.lock")); !os.IsNotExist(err) {
				t.Error("lock file still there")
			}
		})
	}
}

// TestUnlockTokenThatProvesNothing: a fresh token is refused with exit 3
// and says to look again; --unproven breaks whatever lock is current only
// with --yes off a terminal, says so, and is audited as unproven.
func TestUnlockTokenThatProvesNothing(t *testing.T) {
	e := newRepairEnv(t)
	writeFile(t, filepath.Join(e.dir, "prod_db.lock"), "2026-01-01T00:00:00Z")
	code, _, errOut := e.run(t, "", "unlock", "prod/db", "--token", "fresh-0123456789abcdef")
	if code != 3 || !strings.Contains(errOut, "too fresh to prove it is the lock you saw — look again") {
		t.Errorf("fresh token: exit %d, %s", code, errOut)
	}
	if code, _, _ := e.run(t, "", "unlock", "prod/db", "--unproven", "--token", "x"); code != 2 {
		t.Errorf("--unproven with --token: exit %d, want 2", code)
	}
	code, out, errOut := e.run(t, "", "unlock", "prod/db", "--unproven")
	if code != 3 || !strings.Contains(out, "Whatever lock is current on prod/db") || !strings.Contains(errOut, "--yes") {
		t.Errorf("unproven without --yes: exit %d, %s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "prod_db.lock")); err != nil {
		t.Fatal("a refused release removed the lock")
	}
	if code, out, errOut := e.run(t, "", "unlock", "prod/db", "--unproven", "--yes"); code != 0 {
		t.Fatalf("unproven release: exit %d, %s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "prod_db.lock")); !os.IsNotExist(err) {
		t.Error("lock still there")
	}
	_, out, _ = e.run(t, "", "audit", "-o", "json")
	if !strings.Contains(out, `"force-unlock-unproven"`) {
		t.Errorf("audit does not say unproven: %s", out)
	}
}

// TestRepairRefusedOnConflict: when two files claim one resource ID, a
// repair on it is refused (exit 3) naming both, and nothing is written.
func TestRepairRefusedOnConflict(t *testing.T) {
	e := newRepairEnv(t)
	data, _ := os.ReadFile(filepath.Join(e.dir, "prod_db.json"))
	writeFile(t, filepath.Join(e.dir, "prod_db.copy.json"), string(data))
	before := e.files(t)
	code, _, errOut := e.run(t, "", "set-status", "prod/db", "error", "--reason", "x", "--yes")
	if code != 3 || !strings.Contains(errOut, "prod_db.json") || !strings.Contains(errOut, "prod_db.copy.json") {
		t.Errorf("set-status on a conflict: exit %d, %s", code, errOut)
	}
	e.nothingWritten(t, before)
	// Why each entry is unreadable is a corrupt: note, on stderr.
	_, _, notes := e.run(t, "", "list")
	if strings.Count(notes, "also claimed by") != 2 {
		t.Errorf("list does not show the conflict on both entries:\n%s", notes)
	}
}

// TestNoCommandFollowsOrBlocks: a link to a file outside the store and a
// FIFO, named as a record and as a lock, hang no command and leak nothing.
func TestNoCommandFollowsOrBlocks(t *testing.T) {
	e := newRepairEnv(t)
	secret := filepath.Join(t.TempDir(), "shadow")
	writeFile(t, secret, `{"resource_id":"leak","outputs":{"hash":"SHADOW-BYTES"}}`)
	for _, name := range []string{"leak.json", "leak.lock"} {
		if err := os.Symlink(secret, filepath.Join(e.dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"pipe.json", "pipe.lock"} {
		if err := syscall.Mkfifo(filepath.Join(e.dir, name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	commands := [][]string{
		{"list"}, {"list", "-o", "json"}, {"locks"}, {"export"}, {"show", "leak"}, {"show", "pipe"},
		{"rm", "leak", "--yes"}, {"rm", "pipe", "--yes"},
		{"set-status", "leak", "active", "--yes"}, {"set-status", "pipe", "active", "--yes"},
		{"unlock", "leak", "--unproven", "--yes"}, {"unlock", "pipe", "--unproven", "--yes"},
	}
	for _, args := range commands {
		done := make(chan string, 1)
		go func() {
			_, out, errOut := e.run(t, "", args...)
			done <- out + errOut
		}()
		out := storetest.Receive(t, fmt.Sprint(args, " returning"), done)
		if strings.Contains(out, "SHADOW-BYTES") || strings.Contains(out, "U0hBRE9XLUJZVEVT") {
			t.Errorf("%v printed the link target's bytes:\n%s", args, out)
		}
		if args[0] == "list" && !strings.Contains(out, "symlink to "+secret+", not followed") {
			t.Errorf("%v does not say what leak.json is:\n%s", args, out)
		}
	}
	for _, name := range []string{"leak.json", "leak.lock", "pipe.json", "pipe.lock"} {
		if _, err := os.Lstat(filepath.Join(e.dir, name)); err != nil {
			t.Errorf("%s was removed: %v", name, err)
		}
	}
}

// TestUnprovenReleaseTypedOnTerminal: on a terminal the unproven release
// needs the ID typed back, even with --yes; a wrong answer releases nothing.
func TestUnprovenReleaseTypedOnTerminal(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "db.lock")
	writeFile(t, lock, "2026-01-01T00:00:00Z")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	for _, tt := range []struct {
		typed    string
		released bool
	}{{"wrong\n", false}, {"db\n", true}} {
		var out, errOut bytes.Buffer
		a := &app{in: strings.NewReader(tt.typed), out: &out, errOut: &errOut, now: time.Now, isTerminal: func() bool { return true }}
		root := a.rootCommand()
		root.SetArgs([]string{"--store", dir, "unlock", "db", "--unproven", "--yes"})
		err := root.Execute()
		if _, serr := os.Stat(lock); (serr != nil) != tt.released || (err == nil) != tt.released {
			t.Errorf("typed %q: %v, lock released %v", tt.typed, err, serr != nil)
		}
		if !strings.Contains(out.String(), "Type the resource ID") {
			t.Errorf("typed %q: no typed confirmation asked:\n%s", tt.typed, out.String())
		}
	}
}
