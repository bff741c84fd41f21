package tui_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"statescope/stores/demo"
	"statescope/stores/storetest"
)

// tmux drives one terminal on a private server socket.
type tmux struct {
	t      *testing.T
	socket string
}

func (x *tmux) cmd(args ...string) string {
	x.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", x.socket}, args...)...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// startTerminal runs command in a fresh tmux terminal of width×height on
// a private server named after name, with env (shell assignments) set, an
// empty config home (the operator's own config stays out) and a state home
// under tmp. The shell stays after an early exit so its error is on
// screen; the server is killed when the test ends.
func startTerminal(t *testing.T, name, tmp string, width, height int, env, command string) *tmux {
	x := &tmux{t: t, socket: fmt.Sprintf("statescope-e2e-%s-%d", name, os.Getpid())}
	x.cmd("new-session", "-d", "-s", "e2e", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height),
		fmt.Sprintf("XDG_CONFIG_HOME=%s XDG_STATE_HOME=%s %s %s; echo statescope exited $?; sleep 60",
			filepath.Join(tmp, "config"), filepath.Join(tmp, "xdg-state"), env, command))
	t.Cleanup(func() { exec.Command("tmux", "-L", x.socket, "kill-server").Run() })
	return x
}

func (x *tmux) screen() string { return x.cmd("capture-pane", "-p", "-t", "e2e") }

// send presses keys; an Escape gets a pause after it so the terminal
// does not read it as the start of an Alt sequence.
func (x *tmux) send(keys ...string) {
	x.t.Helper()
	for _, k := range keys {
		x.cmd("send-keys", "-t", "e2e", k)
		if k == "Escape" {
			time.Sleep(150 * time.Millisecond)
		}
	}
}

func (x *tmux) typeText(s string) { x.cmd("send-keys", "-t", "e2e", "-l", s) }

func (x *tmux) waitFor(want string) string {
	x.t.Helper()
	var s string
	if !storetest.Await(x.t, func() bool { s = x.screen(); return strings.Contains(s, want) }) {
		x.t.Fatalf("screen never showed %q; last screen:\n%s", want, s)
	}
	return s
}

func snapshotRecords(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no records in %s: %v", dir, err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

// buildForTerminal skips unless a terminal can be driven (not -short,
// tmux installed), then builds the binary into a temporary directory.
func buildForTerminal(t *testing.T) (tmp, bin string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary and drives a terminal")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is required on CI (make test installs it)")
		}
		t.Skip("tmux is not installed")
	}
	tmp = t.TempDir()
	bin = filepath.Join(tmp, "bin", "statescope")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return tmp, bin
}

// TestEndToEnd builds the real binary and drives `statescope demo` in tmux
// through list → filter → detail → reveal → diff → locks → force release,
// then checks on disk that only the released lock file changed.
func TestEndToEnd(t *testing.T) {
	tmp, bin := buildForTerminal(t)
	state := filepath.Join(tmp, "state")
	xdgState := filepath.Join(tmp, "xdg-state")
	// The editor an operator would use, as a script: it marks the stuck
	// record active.
	editor := filepath.Join(tmp, "editor.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nsed -i 's/\"status\": \"provisioning\"/\"status\": \"active\"/' \"$1\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	x := startTerminal(t, "main", tmp, 120, 40, "VISUAL= EDITOR="+editor, bin+" demo --dir "+state)

	x.waitFor("58 records")
	before := snapshotRecords(t, state)

	x.send("/")
	x.typeText("prod/db/users")
	x.send("Enter")
	x.waitFor("/prod/db/users")
	x.send("Enter")
	x.waitFor("secret-looking values masked")
	if strings.Contains(x.screen(), "Xk9#mP2vL8qR") {
		t.Fatal("the password is shown before x")
	}
	x.send("x")
	x.waitFor("Xk9#mP2vL8qR")

	x.send("d")
	x.waitFor("compare prod/db/users with:")
	x.typeText("staging/db/orders")
	x.send("Enter")
	x.waitFor("~ config.instance_class")
	x.send("u")
	x.waitFor("+++ staging/db/orders")

	x.send("Escape", "Escape", "L")
	x.waitFor("3 locks")
	x.send("F")
	x.waitFor("FORCE RELEASE LOCK")
	screen := x.screen()
	if !strings.Contains(screen, "delete lock file "+filepath.Join(state, "prod_db_orders.lock")) {
		t.Fatalf("the dialog does not say what will happen:\n%s", screen)
	}
	x.typeText("prod/db/orders")
	x.send("Enter")
	x.waitFor("released the lock on prod/db/orders")
	x.waitFor("2 locks")

	if _, err := os.Stat(filepath.Join(state, "prod_db_orders.lock")); !os.IsNotExist(err) {
		t.Fatalf("lock file still there: %v", err)
	}
	for _, other := range []string{"prod_k8s_main.lock", "staging_dns_api.lock"} {
		if _, err := os.Stat(filepath.Join(state, other)); err != nil {
			t.Errorf("%s: %v", other, err)
		}
	}
	after := snapshotRecords(t, state)
	if len(after) != len(before) {
		t.Fatalf("%d record files before, %d after", len(before), len(after))
	}
	for name, b := range before {
		if !bytes.Equal(after[name], b) {
			t.Errorf("%s changed", name)
		}
	}

	// The demo's repairs are backed up and audited inside the demo, never
	// in the user's own state directory.
	repairStuckRecord(t, x, filepath.Join(state, "prod_db_orders.json"), filepath.Join(state, demo.Marker, "statescope"))
	if _, err := os.Stat(filepath.Join(xdgState, "statescope")); !os.IsNotExist(err) {
		t.Errorf("the demo wrote into the user's state directory: %v", err)
	}
	x.send("q")
}

// repairStuckRecord edits the stuck record in the editor, sets its status,
// then undoes that from its backup, checking the file and the backups on
// disk and the audit view after each step.
func repairStuckRecord(t *testing.T, x *tmux, record, stateDir string) {
	status := func(want string) {
		t.Helper()
		b, err := os.ReadFile(record)
		if err != nil || !strings.Contains(string(b), `"status": "`+want+`"`) {
			t.Fatalf("%s: want status %s: %v\n%s", record, want, err, b)
		}
	}
	x.send(":")
	x.typeText("res")
	x.send("Enter", "/")
	x.typeText("prod/db/orders")
	x.send("Enter")
	x.waitFor("1 of 58") // the filter applies in the background: open what it found
	x.send("Enter")
	x.waitFor("stuck: provisioning")

	x.send("e")
	x.waitFor("EDIT prod/db/orders")
	x.waitFor(`+  "status": "active",`)
	status("provisioning") // nothing is written before the confirmation
	x.send("y")
	x.waitFor("edit prod/db/orders: done")
	status("active")
	if n := privateBackups(t, stateDir); n != 2 { // the lock released earlier, then the record
		t.Fatalf("%d backups, want 2", n)
	}
	x.send(":")
	x.typeText("audit")
	x.send("Enter")
	x.waitFor("2 audit entries")
	if !lineWith(x.screen(), "edit", "prod/db/orders", "applied") {
		t.Fatalf("the audit view lacks the edit:\n%s", x.screen())
	}

	x.send("Escape", "S", "Down", "Down", "Enter")
	x.waitFor("SET-STATUS prod/db/orders")
	x.waitFor(`+  "status": "destroyed",`) // the plan is ready: y applies it
	x.send("y")
	x.waitFor("set-status prod/db/orders: done")
	status("destroyed")

	x.send("b")
	x.waitFor("backups of prod/db/orders")
	x.send("Enter") // the newest: taken before the status change
	x.waitFor("from the backup taken before set-status")
	x.waitFor(`+  "status": "active",`) // the plan is ready: y applies it
	x.send("y")
	x.waitFor("restore prod/db/orders: done")
	status("active")
	if n := privateBackups(t, stateDir); n != 4 {
		t.Fatalf("%d backups, want 4", n)
	}
}

// privateBackups counts the backup files, failing on any not mode 0600.
func privateBackups(t *testing.T, stateDir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(stateDir, "backups"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".meta.json") {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("backup %s has mode %v", path, fi.Mode().Perm())
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// lineWith reports whether one line of the screen holds every word.
func lineWith(screen string, words ...string) bool {
	for _, line := range strings.Split(screen, "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all {
			return true
		}
	}
	return false
}

// TestEndToEndRawEdit drives the real binary to fix the demo's truncated
// record without leaving the UI: detail shows where its bytes break, e
// opens them in the editor (a script that completes the record), y
// writes the fix; the file and its backup are checked on disk.
func TestEndToEndRawEdit(t *testing.T) {
	tmp, bin := buildForTerminal(t)
	state := filepath.Join(tmp, "state")
	fixed := filepath.Join(tmp, "fixed.json")
	const text = `{
  "resource_id": "prod/cache/sessions",
  "resource_type": "infra.cache",
  "provider": "aws",
  "status": "active",
  "outputs": {"auth_token": "fixed-by-hand"},
  "config": {},
  "created_at": "2026-01-01T00:00:00Z",
  "updated_at": "2026-01-01T00:00:00Z"
}
`
	if err := os.WriteFile(fixed, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	editor := filepath.Join(tmp, "editor.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\ncp '"+fixed+"' \"$1\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	x := startTerminal(t, "raw", tmp, 100, 30, "VISUAL= EDITOR="+editor, bin+" demo --dir "+state)
	record := filepath.Join(state, "prod_cache_sessions.json")
	truncated, err := os.ReadFile(filepath.Join("..", "testdata", "demo", "prod_cache_sessions.json"))
	if err != nil {
		t.Fatal(err)
	}

	x.waitFor("58 records")
	x.send("/")
	x.typeText("prod/cache/sessions")
	x.send("Enter")
	x.waitFor("1 of 58")
	x.send("Enter")
	x.waitFor("^ unexpected end of JSON input")
	x.send("H")
	x.waitFor("000000d0")
	x.send("H", "e")
	x.waitFor("EDIT prod/cache/sessions")
	x.waitFor(`+  "resource_id": "prod/cache/sessions",`)
	if got, _ := os.ReadFile(record); !bytes.Equal(got, truncated) {
		t.Fatalf("written before the confirmation:\n%s", got)
	}
	x.send("y")
	x.waitFor("edit prod/cache/sessions: done")
	if got, _ := os.ReadFile(record); string(got) != text {
		t.Fatalf("%s after the edit:\n%s", record, got)
	}
	found := false
	filepath.WalkDir(filepath.Join(state, demo.Marker, "statescope", "backups"), func(path string, d os.DirEntry, err error) error {
		if data, _ := os.ReadFile(path); err == nil && !d.IsDir() && bytes.Equal(data, truncated) {
			found = true
		}
		return nil
	})
	if !found {
		t.Error("no backup holds the truncated bytes")
	}
	x.waitFor(`"auth_token": "••••`) // the detail shows the record, read again
	x.send("q")
}
