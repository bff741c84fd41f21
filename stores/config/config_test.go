package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadAndResolve(t *testing.T) {
	p := write(t, `
current-context: prod
stale-after: 30m
contexts:
  prod: {store: "s3://b/iac-state/?region=eu-west-1", readonly: true}
  dev: {store: /tmp/state}
keys:
  resources.refresh: [r, f5]
no-mouse: true
`)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	name, ctx, err := c.Context("")
	if err != nil || name != "prod" || !ctx.ReadOnly {
		t.Fatalf("current context: %q %+v %v", name, ctx, err)
	}
	if _, ctx, _ := c.Context("dev"); ctx.Store != "/tmp/state" {
		t.Errorf("dev: %+v", ctx)
	}
	if c.StaleThreshold(time.Minute) != 30*time.Minute {
		t.Errorf("stale-after not read")
	}
	if got := c.Keys["resources.refresh"]; len(got) != 2 {
		t.Errorf("keys: %v", got)
	}
	if !c.NoMouse {
		t.Errorf("no-mouse not read")
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, body, ctx, want string
	}{
		{"unknown context", "contexts: {a: {store: /x}}", "b", "known contexts: a"},
		{"no store", "contexts: {}", "", "no store given"},
		{"bad current", "current-context: z\ncontexts: {a: {store: /x}}", "", "not among the contexts"},
		{"empty store", "contexts: {a: {store: ''}}", "a", "has no store"},
		{"bad duration", "stale-after: soon", "", "not a duration"},
		{"unreadable context", "contexts:\n  a: {store: /x}\n  b: {store: [/y, /z]}\n", "b", `context "b" in `},
		{"unreadable context's line", "contexts:\n  a: {store: /x}\n  b: {store: [/y, /z]}\n", "b", "line 3: cannot unmarshal"},
		{"context that is not a map", "contexts:\n  a: {store: /x}\n  b: /y\n", "b", "cannot be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(write(t, tt.body))
			if err == nil {
				_, _, err = c.Context(tt.ctx)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestOneUnreadableContextLeavesTheOthers: a mistyped context fails where
// it is used; every other context, and the file's other settings, load.
func TestOneUnreadableContextLeavesTheOthers(t *testing.T) {
	c, err := Load(write(t, "stale-after: 5m\ncontexts:\n  a: {store: /x, readonly: true}\n  b: {store: /y, readonly: maybe}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if name, ctx, err := c.Context("a"); err != nil || name != "a" || ctx.Store != "/x" || !ctx.ReadOnly {
		t.Errorf("a: %q %+v %v", name, ctx, err)
	}
	if _, _, err := c.Context("b"); err == nil || !strings.Contains(err.Error(), "cannot be read") {
		t.Errorf("b: %v", err)
	}
	if c.StaleAfter.Duration != 5*time.Minute {
		t.Errorf("stale-after %v", c.StaleAfter)
	}
}

func TestMissingFiles(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	if _, err := Load(""); err != nil {
		t.Errorf("missing default config should be empty, got %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "nope.yaml")); err == nil {
		t.Error("missing explicit config should be an error")
	}
}
