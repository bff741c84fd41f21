package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestShellCompletion: `statescope __complete …` is what bash, zsh and
// fish run on tab; it answers resource IDs from the store on the command
// line, statuses, contexts and -o formats.
func TestShellCompletion(t *testing.T) {
	// The 3 s budget is for a person at a shell; a loaded machine running
	// -race took longer than that to list the demo.
	defer func(d time.Duration) { completionTimeout = d }(completionTimeout)
	completionTimeout = time.Minute
	dir := demoDir(t)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte("current-context: demo\ncontexts:\n  demo: {store: "+dir+"}\n  prod: {store: /nonexistent}\n"), 0o600)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"show ID", []string{"--store", dir, "show", "prod/db/u"}, []string{"prod/db/users"}},
		{"ID from the current context", []string{"--config", cfg, "rm", "staging/dns/api-"}, []string{"staging/dns/api-canary"}},
		{"diff second ID", []string{"--store", dir, "diff", "prod/db/users", "prod/db/o"}, []string{"prod/db/orders"}},
		{"set-status status", []string{"--store", dir, "set-status", "prod/db/orders", "d"}, []string{"destroying", "destroyed"}},
		{"set-status ID", []string{"--store", dir, "set-status", "legacy"}, []string{"legacy:db*old"}},
		{"unlock locked IDs", []string{"--store", dir, "unlock", ""}, []string{"prod/db/orders", "prod/k8s/main", "staging/dns/api"}},
		{"recover locked IDs", []string{"--store", dir, "recover", ""}, []string{"prod/db/orders", "prod/k8s/main", "staging/dns/api"}},
		{"recover --status", []string{"--store", dir, "recover", "prod/db/orders", "--status", "a"}, []string{"active"}},
		{"list --status", []string{"list", "--status", "p"}, []string{"planned", "provisioning"}},
		{"list -o", []string{"list", "-o", ""}, []string{"table", "json"}},
		{"show -o", []string{"show", "x", "--output", ""}, []string{"yaml", "json"}},
		{"diff -o", []string{"diff", "x", "y", "-o", ""}, []string{"text", "json"}},
		{"--context", []string{"--config", cfg, "--context", ""}, []string{"demo", "prod"}},
		{"--against", []string{"--config", cfg, "diff", "x", "--against", "p"}, []string{"prod"}},
		{"no store: nothing", []string{"show", ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := cli(t, "", append([]string{"__complete"}, tt.args...)...)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			got := lines[:len(lines)-1] // the last line is the directive
			if code != 0 || strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("exit %d, got %q, want %q\n%s", code, got, tt.want, out)
			}
			if dir := lines[len(lines)-1]; dir != ":4" && dir != ":5" {
				t.Errorf("directive %s: file names would be offered", dir)
			}
		})
	}
	// The shell scripts themselves are generated.
	for _, sh := range []string{"bash", "zsh", "fish"} {
		if code, out, _ := cli(t, "", "completion", sh); code != 0 || !strings.Contains(out, "__complete") {
			t.Errorf("completion %s: exit %d", sh, code)
		}
	}
}
