package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// recover releases the orphaned lock of a stuck record, then sets its
// status (error and the reason by default), each step shown; whatever
// refuses leaves the store as it was, or after step 1 says what is done.
func TestRecoverCLI(t *testing.T) {
	statusOf := func(t *testing.T, dir string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, "prod_db_orders.json"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	lockGone := func(dir string) bool {
		_, err := os.Stat(filepath.Join(dir, "prod_db_orders.lock"))
		return os.IsNotExist(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out      string // printed (stdout and stderr)
		released bool
		record   string // in the record file afterwards; "" when unchanged
	}{
		{"defaults", []string{"prod/db/orders", "--yes"}, 0, "set-status prod/db/orders: done", true,
			`"status": "error"`},
		{"chosen status", []string{"prod/db/orders", "--status", "active", "--yes"}, 0, `+  "status": "active"`, true, `"status": "active"`},
		{"dry run", []string{"prod/db/orders", "--dry-run"}, 0, "dry run: nothing was written", false, ""},
		{"no terminal", []string{"prod/db/orders"}, 3, "--yes", false, ""},
		{"other token", []string{"prod/db/orders", "--token", "not-it", "--yes"}, 3, "nothing released", false, ""},
		{"not stuck", []string{"prod/k8s/main", "--yes"}, 3, "it is not stuck", false, ""},
		{"not a status", []string{"prod/db/orders", "--status", "done", "--yes"}, 2, "not a workflow status", false, ""},
		{"read-only", []string{"prod/db/orders", "--yes", "--readonly"}, 3, "read-only", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := demoDir(t)
			before := statusOf(t, dir)
			code, out, errOut := cli(t, "", append([]string{"--store", dir, "recover"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out+errOut, tc.out) {
				t.Fatalf("exit %d, want %d with %q:\n%s\nstderr:\n%s", code, tc.code, tc.out, out, errOut)
			}
			if lockGone(dir) != tc.released {
				t.Errorf("lock released: %v, want %v", lockGone(dir), tc.released)
			}
			after := statusOf(t, dir)
			if tc.record == "" && after != before || tc.record != "" && !strings.Contains(after, tc.record) {
				t.Errorf("record afterwards:\n%s", after)
			}
			if tc.released && !strings.Contains(out, "token:") {
				t.Errorf("step 1 does not show the lock:\n%s", out)
			}
		})
	}
	if !strings.Contains(statusOf(t, demoDir(t)), `"status": "provisioning"`) {
		t.Fatal("the demo record is not stuck to begin with")
	}
}

// On a terminal each step asks; an answer to step 1 alone releases the
// lock and leaves the status, and says so.
func TestRecoverStopsAfterStepOne(t *testing.T) {
	dir := demoDir(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	var out, errOut bytes.Buffer
	a := &app{in: strings.NewReader("prod/db/orders\n"), out: &out, errOut: &errOut, now: time.Now, isTerminal: func() bool { return true }}
	root := a.rootCommand()
	root.SetArgs([]string{"--store", dir, "recover", "prod/db/orders"})
	err := root.Execute()
	var re refusedError
	if !errors.As(err, &re) {
		t.Fatalf("%v, want a refusal at step 2", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "prod_db_orders.lock")); !os.IsNotExist(err) {
		t.Errorf("lock after step 1: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "prod_db_orders.json")); !strings.Contains(string(b), `"status": "provisioning"`) {
		t.Errorf("record changed:\n%s", b)
	}
	if want := "recover stopped after step 1: the lock on prod/db/orders is released, its status untouched (provisioning)"; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
	}
}

// Both steps answered from one input, as a pipe or a fast typist gives
// them: the first question must not swallow the second answer.
func TestRecoverAnswersBothSteps(t *testing.T) {
	dir := demoDir(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	var out, errOut bytes.Buffer
	a := &app{in: strings.NewReader("prod/db/orders\ny\n"), out: &out, errOut: &errOut, now: time.Now, isTerminal: func() bool { return true }}
	root := a.rootCommand()
	root.SetArgs([]string{"--store", dir, "recover", "prod/db/orders", "--reason", "crashed deploy"})
	if err := root.Execute(); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), errOut.String())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "prod_db_orders.json")); strings.Contains(string(b), `"status": "provisioning"`) {
		t.Errorf("step 2 did not change the status:\n%s", b)
	}
}
