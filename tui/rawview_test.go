package tui

import (
	"fmt"
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

// TestRawBytesLargeFileShowsWhereItBreaks: a record larger than what is
// drawn shows the part around the failing byte, with true line numbers
// and offsets, and says which part it is.
func TestRawBytesLargeFileShowsWhereItBreaks(t *testing.T) {
	raw := []byte("{\n" + strings.Repeat("  \"k\": \"v\",\n", 50000) + "  \"last\": tru")
	r := newRawBytes(raw)
	st := DefaultStyles()
	if h := ansi.Strip(r.header(st, false, false, "H", "x", "e")); !strings.Contains(h, "shown; e opens them all") || !strings.Contains(h, "line 50002, column 14") {
		t.Errorf("header:\n%s", h)
	}
	text := ansi.Strip(r.render(st, false, false))
	if !strings.HasSuffix(text, "50002 │   \"last\": tru \n      │ "+strings.Repeat(" ", 13)+"^ unexpected end of JSON input") || strings.Contains(text, "    1 │ {") {
		t.Errorf("text view ends:\n%s", text[max(0, len(text)-300):])
	}
	if hex := ansi.Strip(r.render(st, true, false)); !strings.Contains(hex, fmt.Sprintf("%08x", len(raw)-len(raw)%16)) || strings.Contains(hex, "00000000  7b") {
		t.Errorf("hex view ends:\n%s", hex[max(0, len(hex)-300):])
	}
}
