package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"statescope/stores/demo"
)

// cli runs statescope in-process with isolated config and returns the exit
// code and both streams.
func cli(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func demoDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := demo.Materialize(os.DirFS("testdata/demo"), dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	return dir
}

func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		files[e.Name()] = string(data)
	}
	return files
}

func TestListTableAndFilters(t *testing.T) {
	dir := demoDir(t)
	code, out, errOut := cli(t, "", "--store", dir, "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"ID", "UPDATED", "prod/db/orders", "provisioning (stuck)", "orphaned", "CORRUPT", "legacy:db*old"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	// Why a record is unreadable is a note on stderr; stdout is the table.
	if strings.Contains(out, "corrupt:") || !strings.Contains(errOut, "corrupt: prod/cache/sessions") {
		t.Errorf("corrupt notes belong on stderr:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}
	code, out, _ = cli(t, "", "--store", dir, "list", "--status", "error", "--provider", "gcp")
	if code != 0 || !strings.Contains(out, "prod/db/analytics") || strings.Contains(out, "staging/dns/api-canary") {
		t.Errorf("filtered list (exit %d):\n%s", code, out)
	}
}

func TestListJSON(t *testing.T) {
	dir := demoDir(t)
	code, out, errOut := cli(t, "", "--store", dir, "list", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var items []map[string]any
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatal(err)
	}
	var corrupt, locked int
	for _, it := range items {
		if _, ok := it["corrupt"]; ok {
			corrupt++
			if it["resource_id"] != "prod/cache/sessions" || it["source"] == "" {
				t.Errorf("corrupt item: %v", it)
			}
		}
		if it["locked"] == true {
			locked++
		}
		if it["resource_id"] == "prod/db/users" {
			if _, ok := it["resource_type"]; !ok {
				t.Errorf("record fields not under workflow names: %v", it)
			}
			if strings.Contains(out, "Xk9#mP2vL8qR") {
				t.Error("list -o json shows a secret without --reveal")
			}
		}
	}
	if corrupt != 1 || locked != 3 {
		t.Errorf("%d corrupt, %d locked; want 1 and 3", corrupt, locked)
	}
}

func TestShowMasksUntilReveal(t *testing.T) {
	dir := demoDir(t)
	for _, format := range []string{"yaml", "json"} {
		code, out, _ := cli(t, "", "--store", dir, "show", "prod/db/users", "-o", format)
		if code != 0 || strings.Contains(out, "Xk9#mP2vL8qR") || !strings.Contains(out, "••••") {
			t.Errorf("%s: secret not masked (exit %d):\n%s", format, code, out)
		}
		code, out, _ = cli(t, "", "--store", dir, "show", "prod/db/users", "-o", format, "--reveal")
		if code != 0 || !strings.Contains(out, "Xk9#mP2vL8qR") {
			t.Errorf("%s --reveal: secret not shown", format)
		}
	}
	_, out, _ := cli(t, "", "--store", dir, "show", "prod/db/orders")
	if strings.Index(out, "resource_id:") > strings.Index(out, "status:") || !strings.Contains(out, `port: 5432`) {
		t.Errorf("yaml lost the record's order or types:\n%s", out)
	}
	if code, _, errOut := cli(t, "", "--store", dir, "show", "prod/cache/sessions"); code != 1 || !strings.Contains(errOut, "corrupt") {
		t.Errorf("show corrupt: exit %d, %s", code, errOut)
	}
	if code, _, errOut := cli(t, "", "--store", dir, "show", "nope"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("show missing: exit %d, %s", code, errOut)
	}
}

func TestLocksJSON(t *testing.T) {
	dir := demoDir(t)
	code, out, errOut := cli(t, "", "--store", dir, "locks", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var locks []map[string]any
	if err := json.Unmarshal([]byte(out), &locks); err != nil {
		t.Fatal(err)
	}
	if len(locks) != 3 || locks[0]["verdict"] != "orphaned" || locks[2]["verdict"] != "held" {
		t.Fatalf("locks: %v", locks)
	}
	for _, key := range []string{"resource_id", "token", "acquired_at", "age_seconds", "holder", "verdict", "evidence"} {
		if _, ok := locks[0][key]; !ok {
			t.Errorf("lock lacks %q", key)
		}
	}
	if locks[2]["holder"] != nil {
		t.Errorf("upstream lock should have a null holder: %v", locks[2]["holder"])
	}
}

func TestUnlock(t *testing.T) {
	dir := demoDir(t)
	before := snapshot(t, dir)
	_, out, _ := cli(t, "", "--store", dir, "locks", "-o", "json")
	var locks []map[string]any
	json.Unmarshal([]byte(out), &locks)
	id, token := locks[0]["resource_id"].(string), locks[0]["token"].(string)

	code, _, errOut := cli(t, "", "--store", dir, "unlock", id)
	if code != 3 || !strings.Contains(errOut, "--token "+token) {
		t.Errorf("no token, no terminal: exit %d, %s", code, errOut)
	}
	printed := printedCommand(t, errOut)
	if code, _, errOut := cli(t, "", "--store", dir, "--readonly", "unlock", id, "--token", token); code != 3 || !strings.Contains(errOut, "read-only") {
		t.Errorf("read-only unlock: exit %d, %s", code, errOut)
	}
	if code, _, _ := cli(t, "", "--store", dir, "unlock", id, "--token", "stale"); code != 3 {
		t.Errorf("stale token: exit %d", code)
	}
	if got := snapshot(t, dir); len(got) != len(before) {
		t.Fatal("a refused unlock changed the directory")
	}
	// The printed command works as printed.
	if code, out := runInShell(t, printed); code != 0 || !strings.Contains(out, "released") {
		t.Fatalf("sh -c %s: exit %d, %s", printed, code, out)
	}
	after := snapshot(t, dir)
	for name, body := range before {
		if strings.HasSuffix(name, ".json") && after[name] != body {
			t.Errorf("%s changed", name)
		}
	}
	if _, ok := after[strings.ReplaceAll(id, "/", "_")+".lock"]; ok {
		t.Error("lock file still present")
	}
	if code, _, _ := cli(t, "", "--store", dir, "unlock", id, "--token", token); code != 3 {
		t.Errorf("second unlock: exit %d, want 3", code)
	}
}

func TestUnlockConfirmOnTerminal(t *testing.T) {
	dir := demoDir(t)
	var out, errOut bytes.Buffer
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	a := &app{in: strings.NewReader("wrong\n"), out: &out, errOut: &errOut, now: time.Now, isTerminal: func() bool { return true }}
	root := a.rootCommand()
	root.SetArgs([]string{"--store", dir, "unlock", "prod/db/orders"})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("mistyped confirmation: %v", err)
	}
	a.in = strings.NewReader("prod/db/orders\n")
	root = a.rootCommand()
	root.SetArgs([]string{"--store", dir, "unlock", "prod/db/orders"})
	if err := root.Execute(); err != nil {
		t.Fatalf("confirmed unlock: %v", err)
	}
	if !strings.Contains(out.String(), "delete lock file") {
		t.Errorf("confirmation did not say what it does:\n%s", out.String())
	}
}

func TestErrorsAndExitCodes(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing dir", []string{"--store", "/nonexistent/state", "list"}, 1, "does not exist"},
		{"empty dir", []string{"--store", empty, "list"}, 1, "no state"},
		{"unknown scheme", []string{"--store", "ftp://x", "list"}, 1, "accepted forms"},
		{"bad flag", []string{"list", "--bogus"}, 2, "unknown flag"},
		{"bad output", []string{"--store", empty, "list", "-o", "xml"}, 2, `output format "xml" (use table, json)`},
		{"no store", []string{"list"}, 2, "no store given"},
		{"unknown context", []string{"--context", "prod", "list"}, 2, "unknown context"},
		{"extra args", []string{"--store", empty, "show"}, 2, "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := cli(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tt.code, tt.want)
			}
		})
	}
	// Aliases of one backend (postgres, postgresql) are one accepted form.
	_, _, errOut := cli(t, "", "--store", "ftp://x", "list")
	if n := strings.Count(errOut, "postgres://user@host"); n != 1 {
		t.Errorf("the PostgreSQL form is listed %d times:\n%s", n, errOut)
	}
}

func TestContexts(t *testing.T) {
	dir := demoDir(t)
	cfgDir := t.TempDir()
	cfg := filepath.Join(cfgDir, "config.yaml")
	os.WriteFile(cfg, []byte("current-context: demo\ncontexts:\n  demo: {store: "+dir+", readonly: true}\n"), 0o600)
	code, out, _ := cli(t, "", "--config", cfg, "list")
	if code != 0 || !strings.Contains(out, "prod/db/orders") {
		t.Errorf("list via current context: exit %d", code)
	}
	if code, _, errOut := cli(t, "", "--config", cfg, "unlock", "prod/db/orders", "--token", "x"); code != 3 || !strings.Contains(errOut, "read-only") {
		t.Errorf("read-only context allowed unlock: exit %d %s", code, errOut)
	}
	// A command printed for later names the context the store came from:
	// run after the current context changed, it still acts on this store.
	os.WriteFile(cfg, []byte("current-context: demo\ncontexts:\n  demo: {store: "+dir+"}\n  other: {store: "+t.TempDir()+"}\n"), 0o600)
	if _, _, errOut := cli(t, "", "--config", cfg, "unlock", "prod/db/orders"); !strings.Contains(errOut, "--token") || !strings.Contains(errOut, "--context demo") {
		t.Errorf("the printed unlock command does not name the current context:\n%s", errOut)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := cli(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "statescope ") {
		t.Errorf("version: %d %q", code, out)
	}
	// The modules linked in, with the versions go.mod requires.
	for _, mod := range []string{"github.com/spf13/cobra v1.", "charm.land/bubbletea/v2 v2."} {
		if !strings.Contains(out, "\n  "+mod) {
			t.Errorf("version does not list %q:\n%s", mod, out)
		}
	}
}

func TestWriteVersionReplacedModule(t *testing.T) {
	var out bytes.Buffer
	bi := &debug.BuildInfo{
		Main:     debug.Module{Path: "statescope", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "GOOS", Value: "linux"}},
		Deps:     []*debug.Module{{Path: "example.com/a", Version: "v0.1.0", Replace: &debug.Module{Path: "../a", Version: ""}}},
	}
	if err := writeVersion(&out, bi); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"statescope v1.2.3 (", "\nvcs.revision abc123\n", "\n  example.com/a v0.1.0 => ../a \n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "GOOS") {
		t.Errorf("build settings other than the VCS ones are listed:\n%s", out.String())
	}
}

func TestInfraConfig(t *testing.T) {
	dir := demoDir(t)
	cfg := filepath.Join(t.TempDir(), "infra.yaml")
	t.Setenv("STATE_DIR", dir)
	os.WriteFile(cfg, []byte("modules:\n  - name: state\n    type: iac.state\n    config:\n      backend: filesystem\n      directory: ${STATE_DIR}\n"), 0o600)
	code, out, errOut := cli(t, "", "--infra", cfg, "list", "--status", "error")
	if code != 0 || !strings.Contains(out, "prod/db/analytics") {
		t.Errorf("--infra: exit %d, %s", code, errOut)
	}
	if code, _, _ := cli(t, "", "--infra", cfg, "--store", dir, "list"); code != 2 {
		t.Errorf("--infra with --store: exit %d, want 2", code)
	}
}
