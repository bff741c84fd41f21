package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"statescope/stores/demo"
)

// runDemo runs `statescope demo ARGS` on a stand-in terminal where the
// user presses q at once.
func runDemo(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	a := &app{in: strings.NewReader("q"), out: &out, now: time.Now, isTerminal: func() bool { return true }}
	a.errOut = &errOut
	root := a.rootCommand()
	root.SetArgs(append([]string{"demo"}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := root.ExecuteContext(ctx); err != nil {
		errOut.WriteString(err.Error())
		return 1, errOut.String()
	}
	return 0, errOut.String()
}

func TestDemoDirNeverOverwrites(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	// A real store (no demo marker) and a directory of anything else.
	store := demoDir(t)
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o600)
	for _, dir := range []string{store, other} {
		before := snapshot(t, dir)
		code, _, errOut := cli(t, "", "demo", "--dir", dir)
		if code != 3 || !strings.Contains(errOut, "is not empty and is not a demo directory") {
			t.Errorf("demo --dir %s: exit %d, %s", dir, code, errOut)
		}
		if after := snapshot(t, dir); len(after) != len(before) {
			t.Errorf("a refused demo changed %s", dir)
		}
		for name, body := range before {
			if snapshot(t, dir)[name] != body {
				t.Errorf("%s changed", name)
			}
		}
	}
	// Without a terminal nothing is created either.
	fresh := filepath.Join(t.TempDir(), "new")
	if code, _, errOut := cli(t, "", "demo", "--dir", fresh); code != 2 || !strings.Contains(errOut, "needs a terminal") {
		t.Errorf("demo without a terminal: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a refused demo created %s", fresh)
	}
}

func TestDemoKeepsItsOwnState(t *testing.T) {
	userState := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", userState)
	dir := filepath.Join(t.TempDir(), "my demo")
	code, errOut := runDemo(t, "--dir", dir)
	if code != 0 {
		t.Fatalf("demo --dir: %s", errOut)
	}
	if fi, err := os.Stat(filepath.Join(dir, demo.Marker)); err != nil || !fi.IsDir() {
		t.Fatalf("no demo state directory: %v", err)
	}
	// Its state directory is the demo's, for repairs, audit and log alike.
	if got := os.Getenv("XDG_STATE_HOME"); got != filepath.Join(dir, demo.Marker) {
		t.Errorf("the demo's state goes to %q", got)
	}
	// After quitting it names the kept directory with a command that works
	// when pasted.
	if !strings.Contains(errOut, "kept in "+dir) || !strings.Contains(errOut, "statescope demo --dir '"+dir+"'") {
		t.Errorf("after quitting: %q", errOut)
	}

	// Opened again, it is as it was left: nothing is overwritten.
	t.Setenv("XDG_STATE_HOME", userState)
	record := filepath.Join(dir, "prod_db_orders.json")
	os.WriteFile(record, []byte(`{"resource_id":"prod/db/orders","status":"active"}`), 0o600)
	if code, errOut := runDemo(t, "--dir", dir); code != 0 {
		t.Fatalf("demo --dir again: %s", errOut)
	}
	if b, _ := os.ReadFile(record); !strings.Contains(string(b), `"active"`) {
		t.Errorf("reopening the demo overwrote a record:\n%s", b)
	}
}

// TestTemporaryDemoNamesNoDeletedPath: a temporary demo is removed when the
// UI ends, so nothing printed names it.
func TestTemporaryDemoNamesNoDeletedPath(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv("TMPDIR", t.TempDir())
	code, errOut := runDemo(t)
	if code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	if strings.Contains(errOut, os.Getenv("TMPDIR")) {
		t.Errorf("printed a deleted path: %q", errOut)
	}
	if left, _ := os.ReadDir(os.Getenv("TMPDIR")); len(left) != 0 {
		t.Errorf("the temporary demo was left behind: %v", left)
	}
}

// TestDemoListsOnlyItsRecords: the demo's own state directory is not
// taken for anything of the store's (a record, a lock, a temporary file).
func TestDemoListsOnlyItsRecords(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir := filepath.Join(t.TempDir(), "demo")
	if code, errOut := runDemo(t, "--dir", dir); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	for _, args := range [][]string{{"list"}, {"locks"}} {
		code, out, errOut := cli(t, "", append([]string{"--store", dir}, args...)...)
		if code != 0 || strings.Contains(out+errOut, demo.Marker) {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
}
