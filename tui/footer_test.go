package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"statescope/keymap"
)

// TestFooterKeepsHelp: however narrow the screen, the footer drops other
// hints before the help key, and never runs past the width.
func TestFooterKeepsHelp(t *testing.T) {
	k := keymap.Default()
	bindings := append(k.Detail.ShortHelp(), k.Global.ShortHelp()...)
	for _, width := range []int{200, 80, 40, 12} {
		line := ansi.Strip(fitBindings(Styles{}, bindings, k.Global.Help, width))
		if !strings.Contains(line, "? help") {
			t.Errorf("width %d: %q lost the help key", width, line)
		}
		if w := ansi.StringWidth(line); w > width {
			t.Errorf("width %d: %q is %d wide", width, line, w)
		}
	}
	if line := ansi.Strip(fitBindings(Styles{}, bindings, k.Global.Help, 200)); !strings.Contains(line, "q quit") {
		t.Errorf("a wide footer should show every hint, got %q", line)
	}
}
