package tui

import (
	"statescope/stores/memory"
	"strings"
	"testing"
)

func TestDetailNavigation(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}})
	h.keys("/")
	h.typeText("prod/db/users")
	h.keys("enter", "enter")
	if got := h.m.top().Title(); got != "prod/db/users" {
		t.Fatalf("detail of %s", got)
	}

	h.keys("tab") // select the only dependency
	h.keys("enter")
	if got := h.m.top().Title(); got != "prod/vpc/aws" {
		t.Fatalf("jumped to %s, want prod/vpc/aws", got)
	}
	if s := h.screen(); !strings.Contains(s, "resources › prod/db/users › prod/vpc/aws") {
		t.Fatalf("breadcrumbs do not show the jump:\n%s", s)
	}
	h.keys("esc")
	if got := h.m.top().Title(); got != "prod/db/users" {
		t.Fatalf("esc went back to %s", got)
	}

	h.keys("y")
	if s := h.screen(); !strings.Contains(s, "copied resource ID to the clipboard (OSC 52)") {
		t.Fatalf("no copy confirmation:\n%s", s)
	}
	h.keys("c")
	if s := h.screen(); !strings.Contains(s, "copied outputs and config, secrets masked") {
		t.Fatalf("copy does not say the secrets were masked:\n%s", s)
	}
}

// TestRevealIsPerView: x reveals secrets in this detail view only; a new
// view of the same record starts masked.
func TestRevealIsPerView(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}})
	h.keys("/")
	h.typeText("prod/db/users")
	h.keys("enter", "enter", "x")
	if !strings.Contains(h.screen(), "Xk9#mP2vL8qR") {
		t.Fatal("x did not reveal")
	}
	h.keys("esc", "enter")
	if strings.Contains(h.screen(), "Xk9#mP2vL8qR") {
		t.Fatal("a new view of the record starts revealed")
	}
}

// TestDetailShowsUnknownFields: fields statescope does not know get their
// own heading, masked like outputs until revealed.
func TestDetailShowsUnknownFields(t *testing.T) {
	s := memory.New()
	s.PutRaw("future", []byte(`{"resource_id":"future","status":"active","future_field":{"rotation":"weekly","api_key":"future-secret-1"}}`))
	h := newSyncHarness(t, Options{Session: Session{Store: s, Name: "mem"}})
	h.keys("enter")
	screen := h.screen()
	at := strings.Index(screen, "fields statescope does not know")
	if at < 0 || !strings.Contains(screen[at:], `"rotation": "weekly"`) || strings.Contains(screen, "future-secret-1") {
		t.Fatalf("unknown fields not shown under their heading, masked:\n%s", screen)
	}
	h.keys("x")
	if !strings.Contains(h.screen(), "future-secret-1") {
		t.Fatalf("x does not reveal the unknown field's secret:\n%s", h.screen())
	}
}
