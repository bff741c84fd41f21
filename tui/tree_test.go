package tui

import (
	"context"
	"strings"
	"testing"

	"statescope/stores"
	"statescope/stores/memory"
)

func TestDependencyTree(t *testing.T) {
	s := memory.New()
	for _, st := range []*stores.State{
		{ResourceID: "web", Status: stores.StatusActive, Dependencies: []string{"db", "ghost"}},
		{ResourceID: "db", Status: stores.StatusError, Dependencies: []string{"net"}},
		{ResourceID: "net", Status: stores.StatusActive, Dependencies: []string{"web"}},
		{ResourceID: "cdn", Status: stores.StatusActive, Dependencies: []string{"web"}},
	} {
		if err := s.Save(context.Background(), st); err != nil {
			t.Fatal(err)
		}
	}
	h := newSyncHarness(t, Options{Session: Session{Store: s, Name: "t"}})
	h.run(h.m.push(newDetailView(h.m.env, stores.Row{ID: "web"})))
	h.keys("g")
	screen := h.screen()
	// Two levels open: web → db → net; ghost is missing; net is not opened yet.
	for _, want := range []string{"dependencies of web", "▾ web  active", "▾ db  error", "▸ net  active", "ghost  missing"} {
		if !strings.Contains(screen, want) {
			t.Errorf("tree lacks %q:\n%s", want, screen)
		}
	}
	// Opening net shows the cycle back to web, not expanded again.
	h.keys("down", "down", "l")
	if s := h.screen(); !strings.Contains(s, "↻ web  active cycle") {
		t.Errorf("cycle not marked:\n%s", s)
	}
	h.keys("tab")
	if s := h.screen(); !strings.Contains(s, "what depends on web") || !strings.Contains(s, "cdn  active") {
		t.Errorf("reverse tree:\n%s", s)
	}
	h.keys("down", "enter")
	if s := h.screen(); !strings.Contains(s, "› cdn") {
		t.Errorf("enter did not open the node's detail:\n%s", s)
	}
}

// TestTreeAndFindingsShowHostileIDs: a resource ID with control
// characters (an OSC 52 clipboard write) is drawn with them as symbols in
// the tree and the findings, never sent to the terminal.
func TestTreeAndFindingsShowHostileIDs(t *testing.T) {
	const evil, shown = "a\x1b]52;c;QQ==\x07b", "a␛]52;c;QQ==␇b"
	s := memory.New()
	for _, st := range []*stores.State{
		{ResourceID: "web", Status: stores.StatusActive, Dependencies: []string{evil}},
		{ResourceID: evil, Status: stores.StatusError, Error: "boom\x1b[2J"},
	} {
		if err := s.Save(context.Background(), st); err != nil {
			t.Fatal(err)
		}
	}
	h := newSyncHarness(t, Options{Session: Session{Store: s, Name: "t"}})
	h.run(h.m.push(newDetailView(h.m.env, stores.Row{ID: "web"})))
	h.keys("g")
	expectDrawn(t, h, "tree", shown)
	h.keys(":")
	h.typeText("check")
	h.keys("enter")
	expectDrawn(t, h, "findings", shown)
}

func expectDrawn(t *testing.T, h *syncHarness, view, want string) {
	t.Helper()
	if s := h.screen(); !strings.Contains(s, want) {
		t.Errorf("the %s does not show %q:\n%s", view, want, s)
	}
	if raw := h.m.View().Content; strings.ContainsAny(raw, "\x07") || strings.Contains(raw, "\x1b]") || strings.Contains(raw, "\x1b[2J") {
		t.Errorf("the %s sends a control sequence from the store to the terminal: %q", view, raw)
	}
}
