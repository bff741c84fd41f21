package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"statescope/remote/proto/iacpb"
	"statescope/remote/server"
	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/repair/audit"
	"statescope/stores/storetest"
)

// stockPlugin serves a filesystem directory as a stock workflow plugin
// does (no lock inventory) with "held" locked, and returns its target.
func stockPlugin(t *testing.T) (target string, fs stores.Store) {
	t.Helper()
	dir := t.TempDir()
	fs, err := filesystem.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Save(context.Background(), storetest.Record("held")); err != nil {
		t.Fatal(err)
	}
	if err := fs.Lock(context.Background(), "held"); err != nil {
		t.Fatal(err)
	}
	sockDir, err := os.MkdirTemp("", "ss")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	l, err := server.Listen("unix://" + filepath.Join(sockDir, "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	iacpb.RegisterIaCStateBackendServer(g, server.New(fs, server.Options{BackendName: "s3"}))
	go g.Serve(l)
	t.Cleanup(g.Stop)
	return "unix://" + filepath.Join(sockDir, "s.sock"), fs
}

func isLocked(t *testing.T, fs stores.Store) bool {
	t.Helper()
	locks, err := fs.(stores.LockLister).Locks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(locks) == 1
}

// `unlock ID --plain` over a stock plugin: the backend's warning, then the
// TUI's confirmation rules (the ID typed back, or --yes; no terminal and
// no --yes refuses), audited; a store with an inventory is refused.
func TestPlainUnlock(t *testing.T) {
	target, fs := stockPlugin(t)
	if code, _, errOut := cli(t, "", "--store", target, "unlock", "held", "--plain"); code != 3 || !strings.Contains(errOut, "not a terminal") || !isLocked(t, fs) {
		t.Errorf("without a terminal or --yes: exit %d: %s", code, errOut)
	}
	if code, _, errOut := cli(t, "", "--store", target, "unlock", "held", "--plain", "--token", "x"); code != 2 {
		t.Errorf("--plain with --token: exit %d: %s", code, errOut)
	}
	if code, _, errOut := cli(t, "", "--store", t.TempDir(), "unlock", "held", "--plain", "--yes"); code != 3 || !strings.Contains(errOut, "has a lock inventory") {
		t.Errorf("--plain on a store with an inventory: exit %d: %s", code, errOut)
	}

	state := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", state)
	for _, tc := range []struct {
		answer string
		args   []string
		ok     bool
	}{
		{"wrong\n", nil, false},
		{"held\n", nil, true},
	} {
		var out, errOut bytes.Buffer
		a := &app{in: strings.NewReader(tc.answer), out: &out, errOut: &errOut, now: time.Now, isTerminal: func() bool { return true }}
		root := a.rootCommand()
		root.SetArgs(append([]string{"--store", target, "unlock", "held", "--plain"}, tc.args...))
		err := root.Execute()
		var re refusedError
		if tc.ok != (err == nil) || !tc.ok && !errors.As(err, &re) {
			t.Errorf("answer %q: %v", tc.answer, err)
		}
		if !strings.Contains(out.String(), "deletes the lock file/object without checking who holds it") || !strings.Contains(out.String(), "Type the resource ID") {
			t.Errorf("answer %q: the warning or the question is missing:\n%s", tc.answer, out.String())
		}
		if isLocked(t, fs) == tc.ok {
			t.Errorf("answer %q: locked = %v afterwards", tc.answer, !tc.ok)
		}
	}
	entries, err := audit.Log{Path: filepath.Join(state, "statescope", "audit.log")}.Read()
	if err != nil || len(entries) != 1 || entries[0].Action != "unlock" || entries[0].Resource != "held" || entries[0].Result != audit.ResultApplied {
		t.Errorf("audit: %+v %v; want one applied unlock of held", entries, err)
	}

	if err := fs.Lock(context.Background(), "held"); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := cli(t, "", "--store", target, "unlock", "held", "--plain", "--yes"); code != 0 || !strings.Contains(out, "unlocked held") || isLocked(t, fs) {
		t.Errorf("--yes: exit %d: %s %s", code, out, errOut)
	}
}
