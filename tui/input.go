package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// input is a one-line text field: the filter, the command bar and the
// typed confirmations. It has no blinking cursor, so frames stay stable.
type input struct {
	prompt string
	value  []rune
}

// SetValue replaces the text.
func (in *input) SetValue(s string) { in.value = []rune(s) }

// Value is the text typed so far.
func (in *input) Value() string { return string(in.value) }

// Update edits the text; it reports whether msg was an editing key.
func (in *input) Update(msg tea.KeyPressMsg) bool {
	switch msg.String() {
	case "backspace", "ctrl+h":
		if len(in.value) > 0 {
			in.value = in.value[:len(in.value)-1]
		}
		return true
	case "ctrl+u":
		in.value = nil
		return true
	case "ctrl+w":
		s := strings.TrimRight(string(in.value), " ")
		if i := strings.LastIndexAny(s, " /."); i >= 0 {
			in.value = []rune(s[:i+1])
		} else {
			in.value = nil
		}
		return true
	}
	if msg.Text != "" && msg.Mod&(tea.ModCtrl|tea.ModAlt) == 0 {
		in.value = append(in.value, []rune(msg.Text)...)
		return true
	}
	return false
}

// View renders the prompt, the text and a block cursor.
func (in *input) View(promptStyle lipgloss.Style) string {
	return promptStyle.Render(in.prompt) + string(in.value) + "█"
}

// Paste appends pasted text, on one line.
func (in *input) Paste(s string) {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
	in.value = append(in.value, []rune(s)...)
}
