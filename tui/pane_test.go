package tui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"statescope/stores"
	"statescope/stores/memory"
)

// TestEveryListAndPaneShowsItsPosition: tables say which row is selected,
// panes which lines are on screen.
func TestEveryListAndPaneShowsItsPosition(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}})
	h.send(tea.WindowSizeMsg{Width: 100, Height: 20})
	for _, step := range []struct {
		keys []string
		want string
	}{
		{nil, "row 1/58"},
		{[]string{"j", "j"}, "row 3/58"},
		{[]string{"G"}, "row 58/58"},
		{[]string{"L"}, "row 1/3"},
		{[]string{"esc", "g", "enter"}, "lines 1–16 of "},
		{[]string{"pgdown"}, "lines 12–27 of 27"},
		{[]string{"?"}, "lines 1–16 of "},
	} {
		for _, k := range step.keys {
			if k == "pgdown" {
				h.send(tea.KeyPressMsg{Code: tea.KeyPgDown})
				continue
			}
			h.keys(k)
		}
		if s := h.screen(); !strings.Contains(s, step.want) {
			t.Fatalf("after %v the screen lacks %q:\n%s", step.keys, step.want, s)
		}
	}
}

// TestPaneSearchAndSideways: / finds lines in the detail and diff panes,
// n and N move between them; ← and → scroll a long line sideways.
func TestPaneSearchAndSideways(t *testing.T) {
	long := strings.Repeat("abcdefghij", 20) + "END-OF-LINE"
	m := memory.New()
	for _, id := range []string{"a", "b"} {
		rec := &stores.State{ResourceID: id, Status: stores.StatusActive, Outputs: map[string]any{"blob": long, "port": 5432, "port_admin": 5433}}
		if err := m.Save(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	h := newSyncHarness(t, Options{Session: Session{Store: m, Name: "mem"}})
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.keys("enter", "/")
	h.typeText("port")
	h.keys("enter")
	if s := h.screen(); !strings.Contains(s, "/port  match 1 of 2 (n/N)") || !strings.Contains(s, `▸     "port": 5432`) {
		t.Fatalf("search did not find the two lines:\n%s", s)
	}
	h.keys("n")
	if s := h.screen(); !strings.Contains(s, "match 2 of 2") || !strings.Contains(s, `▸     "port_admin"`) {
		t.Fatalf("n did not move to the next match:\n%s", s)
	}
	h.keys("N", "/", "backspace", "backspace", "backspace", "backspace") // the search starts from the last one
	h.typeText("nowhere")
	h.keys("enter")
	if s := h.screen(); !strings.Contains(s, "/nowhere: no match") {
		t.Fatalf("a search without a match does not say so:\n%s", s)
	}
	if strings.Contains(h.screen(), "END-OF-LINE") {
		t.Fatal("the long line is not cut at the screen's edge")
	}
	for range 20 {
		h.send(tea.KeyPressMsg{Code: tea.KeyRight})
	}
	if s := h.screen(); !strings.Contains(s, "END-OF-LINE") || !strings.Contains(s, "← scrolls back") {
		t.Fatalf("→ did not scroll the long line into view:\n%s", s)
	}

	h.keys("d")
	h.typeText("b")
	h.keys("enter", "u", "/")
	h.typeText("resource_id")
	h.keys("enter")
	if s := h.screen(); !strings.Contains(s, "/resource_id  match 1 of 2") {
		t.Fatalf("search in the text diff:\n%s", s)
	}
}
