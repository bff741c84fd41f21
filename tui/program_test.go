package tui

import (
	"bytes"
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"statescope/stores/storetest"
)

// TestProgram runs the UI as a real Bubble Tea program (commands in
// goroutines, the renderer, a fixed colour profile) and quits it.
func TestProgram(t *testing.T) {
	m, err := New(context.Background(), Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("58 records")) },
		teatest.WithDuration(storetest.Remaining(t)))
	tm.Type("L")
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("3 locks")) },
		teatest.WithDuration(storetest.Remaining(t)))
	tm.Type("q") // back from the locks view
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("58 records")) },
		teatest.WithDuration(storetest.Remaining(t)))
	tm.Type("q") // quits from the home view
	final := tm.FinalModel(t, teatest.WithFinalTimeout(storetest.Remaining(t))).(*Model)
	if len(final.stack) != 0 {
		t.Fatalf("%d views open after quit", len(final.stack))
	}
	if !strings.Contains(ansi.Strip(final.View().Content), "statescope › demo") {
		t.Fatal("final frame lost its breadcrumbs")
	}
}
