package tui_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEndToEndFleet drives the real binary on a config with several
// contexts and none current: the fleet is the start screen at 80×24, an
// unknown scheme is a failed row with its error, enter opens a context over the
// fleet and esc returns to it, and a context named with escape sequences
// never sets the terminal's window title.
func TestEndToEndFleet(t *testing.T) {
	tmp, bin := buildForTerminal(t)
	apps, empty := filepath.Join(tmp, "apps"), filepath.Join(tmp, "empty")
	for _, d := range []string{apps, empty, filepath.Join(tmp, "config", "statescope")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	record := `{"resource_id":"web","resource_type":"infra.container","provider":"aws","status":"error","error":"quota exceeded","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}`
	if err := os.WriteFile(filepath.Join(apps, "web.json"), []byte(record), 0o644); err != nil {
		t.Fatal(err)
	}
	config := "contexts:\n" +
		"  apps: {store: " + apps + "}\n" +
		"  empty: {store: " + empty + "}\n" +
		"  broken: {store: \"bogus://nowhere\"}\n" +
		"  \"ev\\e]0;PWNED\\a\": {store: " + empty + "}\n"
	if err := os.WriteFile(filepath.Join(tmp, "config", "statescope", "config.yaml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	x := startTerminal(t, "fleet", tmp, 80, 24, "", bin)
	s := x.waitFor("4 contexts  4 answered")
	for _, want := range []string{"FINDINGS", "failed", "1w", `broken: unknown store scheme "bogus"`, `ev\x1b]0;PWNED\a`} {
		if !strings.Contains(s, want) {
			t.Errorf("the fleet lacks %q:\n%s", want, s)
		}
	}
	x.send("G", "Enter") // the hostile name sorts last
	x.waitFor("› fleet › resources")
	if title := x.cmd("display", "-p", "-t", "e2e", "#{pane_title}"); !strings.HasPrefix(title, "statescope – ev") {
		t.Errorf("the context's name rewrote the window title: %q", title)
	}
	x.send("Escape")
	x.waitFor("4 contexts  4 answered")
	x.send("g", "j", "Enter") // apps, after broken
	x.waitFor("statescope › apps › fleet › resources")
	x.waitFor("web")
}
