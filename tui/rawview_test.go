package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestRawBytesNeverDriveTheTerminal: stored bytes are drawn as text with
// control characters as their symbols and non-UTF-8 bytes as �, the
// failing byte pointed at by a caret in the column it is drawn in.
func TestRawBytesNeverDriveTheTerminal(t *testing.T) {
	tests := []struct {
		name, raw string
		want      []string // lines of the text view, the caret line included
	}{
		{"nul", "\x00garbage{", []string{"1 │ ␀garbage{", "  │ ^ invalid character '\\x00' looking for beginning of value"}},
		{"escape sequence", "{\"a\": \"\x1b[2J\x07\"}", []string{"1 │ {\"a\": \"␛[2J␇\"}", "  │        ^ invalid character '\\x1b' in string literal"}},
		{"not UTF-8", "{\"a\": \"\xff\xfe\", ?}", []string{"1 │ {\"a\": \"��\", ?}", "  │             ^ invalid character '?' looking for beginning of object key string"}},
		{"C1 control and tab", "{\"a\":\t\"\u0085\"\r\n ?", []string{"1 │ {\"a\":␉\"�\"␍", "2 │  ?", "  │  ^ invalid character '?' after object key:value pair"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ansi.Strip(newRawBytes([]byte(tt.raw)).render(DefaultStyles(), false, false))
			if want := strings.Join(tt.want, "\n"); got != want {
				t.Errorf("text view:\n%s\nwant:\n%s", got, want)
			}
			for _, c := range got {
				if c < 0x20 && c != '\n' || c == 0x7f || c >= 0x80 && c < 0xa0 {
					t.Errorf("a control character %U reaches the terminal", c)
				}
			}
		})
	}
}
