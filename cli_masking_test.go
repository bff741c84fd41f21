package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"statescope/stores/filesystem"
	"statescope/stores/redact/redacttest"
)

// TestCLIMasksEveryRule: every command that prints a record, and the audit
// and application logs a repair writes, hide every secret-key and
// secret-value rule at every depth (redacttest.Record); --reveal shows them,
// which proves the check can see a leak.
func TestCLIMasksEveryRule(t *testing.T) {
	dir := t.TempDir()
	fs, err := filesystem.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Save(context.Background(), redacttest.Record("team/db")); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", state)
	statescope := func(args ...string) (string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"--store", dir}, args...), strings.NewReader(""), &out, &errOut)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", args, code, out.String(), errOut.String())
		}
		return out.String(), errOut.String()
	}
	masked := []struct {
		name string
		args []string
	}{
		{"show", []string{"show", "team/db"}},
		{"show -o yaml", []string{"show", "team/db", "-o", "yaml"}},
		{"show -o json", []string{"show", "team/db", "-o", "json"}},
		{"list -o json", []string{"list", "-o", "json"}},
		{"set-status --dry-run", []string{"set-status", "team/db", "error", "--reason", "test", "--dry-run"}},
		{"rm --dry-run", []string{"rm", "team/db", "--dry-run"}},
		{"set-status", []string{"set-status", "team/db", "error", "--reason", "test", "--yes"}},
		{"rm", []string{"rm", "team/db", "--yes"}},
		{"restore --dry-run", []string{"restore", "team/db", "--dry-run"}},
		{"restore", []string{"restore", "team/db", "--yes"}},
		{"audit -o json", []string{"audit", "-o", "json"}},
	}
	for _, c := range masked {
		out, errOut := statescope(c.args...)
		if leaks := redacttest.Leaks(out + errOut); len(leaks) > 0 {
			t.Errorf("%s shows %d secrets:\n%s", c.name, len(leaks), strings.Join(leaks, "\n"))
		}
		if strings.HasPrefix(c.name, "show") && !strings.Contains(out, "eu-west-1") {
			t.Errorf("%s lost the plain values:\n%s", c.name, out)
		}
	}
	for _, log := range []string{"audit.log", "statescope.log"} {
		data, err := os.ReadFile(filepath.Join(state, "statescope", log))
		if err != nil && (log == "audit.log" || !os.IsNotExist(err)) {
			t.Fatal(err)
		}
		if leaks := redacttest.Leaks(string(data)); len(leaks) > 0 {
			t.Errorf("%s holds %d secrets:\n%s", log, len(leaks), strings.Join(leaks, "\n"))
		}
	}
	for _, args := range [][]string{{"show", "team/db", "-o", "json", "--reveal"}, {"list", "-o", "json", "--reveal"}} {
		out, _ := statescope(args...)
		if n, want := len(redacttest.Leaks(out)), 3*2*len(redacttest.SecretKeys)+len(redacttest.SecretValues); n != want {
			t.Errorf("%s shows %d of the %d secrets", args, n, want)
		}
	}
}
