package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

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
// characters (an OSC 52 clipboard write, a bidi override) is drawn with
// them escaped in the tree and the findings, never sent to the terminal.
func TestTreeAndFindingsShowHostileIDs(t *testing.T) {
	const evil, shown = "a\x1b]52;c;QQ==\x07b\u202e", `a\x1b]52;c;QQ==\ab\u202e`
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
	if raw := h.m.View().Content; strings.ContainsAny(raw, "\x07\u202e") || strings.Contains(raw, "\x1b]") || strings.Contains(raw, "\x1b[2J") {
		t.Errorf("the %s sends a control sequence from the store to the terminal: %q", view, raw)
	}
}

// TestTreeDeepChain: a chain 1,000 records deep opened far down still
// shows each row's ID at 80 columns (the indent stops growing and says
// the depth), and ← on a row that is not open goes to its parent.
func TestTreeDeepChain(t *testing.T) {
	s := memory.New()
	for i := range 1000 {
		st := &stores.State{ResourceID: fmt.Sprintf("n%04d", i), Status: stores.StatusActive}
		if i < 999 {
			st.Dependencies = []string{fmt.Sprintf("n%04d", i+1)}
		}
		if err := s.Save(context.Background(), st); err != nil {
			t.Fatal(err)
		}
	}
	h := newSyncHarness(t, Options{Session: Session{Store: s, Name: "t"}})
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.run(h.m.push(newDetailView(h.m.env, stores.Row{ID: "n0000"})))
	h.keys("g", "G")
	for range 60 {
		h.keys("l", "G")
	}
	v := h.m.top().(*treeView)
	if r, _ := v.selected(); r.depth != 62 {
		t.Fatalf("the cursor is at depth %d, want 62", r.depth)
	}
	if s := h.screen(); !strings.Contains(s, "…62 ▸ n0062  active") {
		t.Errorf("the deepest row's ID is not on screen:\n%s", s)
	}
	h.keys("left")
	if r, _ := v.selected(); r.id != "n0061" {
		t.Errorf("← on a closed row went to %s, not its parent n0061", r.id)
	}
	h.keys("left") // n0061 is open: ← closes it
	if r, _ := v.selected(); r.id != "n0061" || v.open[r.path] {
		t.Errorf("← on an open row: at %s, open %v", r.id, v.open[r.path])
	}
}

// TestTreeMouse: the wheel scrolls the tree and a click selects the row
// under it, as in the tables.
func TestTreeMouse(t *testing.T) {
	s := memory.New()
	deps := make([]string, 100)
	for i := range deps {
		deps[i] = fmt.Sprintf("leaf-%03d", i)
	}
	if err := s.Save(context.Background(), &stores.State{ResourceID: "hub", Status: stores.StatusActive, Dependencies: deps}); err != nil {
		t.Fatal(err)
	}
	h := newSyncHarness(t, Options{Session: Session{Store: s, Name: "t"}})
	h.run(h.m.push(newDetailView(h.m.env, stores.Row{ID: "hub"})))
	h.keys("g")
	v := h.m.top().(*treeView)
	h.send(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if v.cursor != 3 {
		t.Errorf("the wheel moved the cursor to %d, want 3", v.cursor)
	}
	h.send(tea.MouseClickMsg{Y: 4, Button: tea.MouseLeft}) // the body's fourth line: rows start under the title
	if r, _ := v.selected(); r.id != "leaf-001" {
		t.Errorf("the click selected %s, want leaf-001", r.id)
	}
}
