package tui

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"statescope/stores/repair"
)

// rawBytes is an unreadable record's stored bytes as the detail view
// shows them: as text or a hex dump, secret-looking values masked unless
// revealed, the byte where parsing fails highlighted with a caret line
// under it.
type rawBytes struct {
	raw     []byte
	problem repair.ParseProblem
	secrets []secretSpan // found once: masking is applied on every render
}

func newRawBytes(raw []byte) *rawBytes {
	return &rawBytes{raw: raw, problem: repair.Diagnose(raw), secrets: rawSecrets(string(raw))}
}

// render draws the bytes; spans are nil when secrets are revealed.
func (r *rawBytes) render(st Styles, hex, revealed bool) string {
	spans := r.secrets
	if revealed {
		spans = nil
	}
	mark := lipgloss.NewStyle().Reverse(true).Inherit(st.Error)
	if hex {
		return r.hex(st, mark, spans)
	}
	return r.text(st, mark, spans)
}

// header says what is shown and where parsing fails.
func (r *rawBytes) header(st Styles, hex, revealed bool, hexKey, revealKey string) string {
	p := r.problem
	view, other := "text", "hex"
	if hex {
		view, other = "hex", "text"
	}
	h := st.Title.Render("stored bytes") + st.Dim.Render(fmt.Sprintf("  %d bytes as %s · %s shows %s", len(r.raw), view, hexKey, other))
	if !utf8.Valid(r.raw) {
		h += st.Warn.Render("  (not valid UTF-8: � marks bytes that are not text)")
	}
	switch {
	case len(r.secrets) > 0 && revealed:
		h += "\n" + st.Error.Render("secrets REVEALED — "+revealKey+" masks")
	case len(r.secrets) > 0:
		h += "\n" + st.Warn.Render(fmt.Sprintf("%d secret-looking values masked — %s reveals (text that does not parse is masked by its keys and values as far as they can be told)", len(r.secrets), revealKey))
	}
	where := "it does not parse: " + p.Reason
	if p.Offset >= 0 {
		where = fmt.Sprintf("it does not parse at line %d, column %d (byte %d): %s", p.Line, p.Column, p.Offset, p.Reason)
	}
	return h + "\n" + st.Error.Render(where)
}

// text shows the bytes line by line with line numbers. Control
// characters are shown as their Unicode symbols and bytes that are not
// UTF-8 as �, so nothing stored can drive the terminal.
func (r *rawBytes) text(st Styles, mark lipgloss.Style, spans []secretSpan) string {
	raw := r.raw
	lines := bytes.Count(raw, []byte("\n")) + 1
	numW := len(fmt.Sprint(lines))
	var b strings.Builder
	start, n := 0, 1
	for {
		end := start + bytes.IndexByte(raw[start:], '\n')
		if end < start {
			end = len(raw)
		}
		line, col := r.line(st, mark, spans, start, end)
		num := st.Dim.Render(fmt.Sprintf("%*d │ ", numW, n))
		b.WriteString(num + line + "\n")
		if col >= 0 {
			b.WriteString(st.Dim.Render(strings.Repeat(" ", numW)+" │ ") + strings.Repeat(" ", col) + st.Error.Render("^ "+r.problem.Reason) + "\n")
		}
		if end == len(raw) {
			break
		}
		start, n = end+1, n+1
	}
	return strings.TrimRight(b.String(), "\n")
}

// line renders raw[start:end] and the column the parse error is at on
// it, -1 when it is elsewhere.
func (r *rawBytes) line(st Styles, mark lipgloss.Style, spans []secretSpan, start, end int) (string, int) {
	raw, off := r.raw, r.problem.Offset
	var b strings.Builder
	width, col := 0, -1
	emit := func(s string, at bool) {
		if at {
			col = width
			s = mark.Render(s)
		}
		width += ansi.StringWidth(ansi.Strip(s))
		b.WriteString(s)
	}
	for i := start; i < end; {
		if sp, ok := spanAt(spans, i); ok {
			// A span is shown once, where it starts; a line it runs on
			// into shows nothing of it.
			next := min(sp.end, end)
			repl := ""
			if sp.start >= start {
				repl = sp.repl
			}
			if off >= i && off < next {
				col = width
			}
			emit(st.Warn.Render(repl), false)
			i = next
			continue
		}
		c, size := utf8.DecodeRune(raw[i:end])
		emit(string(shown(c, size)), i == off)
		i += size
	}
	if off == end && off == len(raw) {
		emit(" ", true)
	}
	return b.String(), col
}

// spanAt finds the secret span holding byte i.
func spanAt(spans []secretSpan, i int) (secretSpan, bool) {
	for _, sp := range spans {
		if i >= sp.start && i < sp.end {
			return sp, true
		}
	}
	return secretSpan{}, false
}

// shown is how a character is drawn: control characters as their
// Unicode symbols, C1 controls and bytes that are not UTF-8 as �.
func shown(c rune, size int) rune {
	switch {
	case c == utf8.RuneError && size == 1, c >= 0x80 && c < 0xa0:
		return '�'
	case c < 0x20:
		return 0x2400 + c
	case c == 0x7f:
		return '␡'
	}
	return c
}

// hex is a dump in hexdump -C's layout, 16 bytes a row; masked bytes
// show as ••.
func (r *rawBytes) hex(st Styles, mark lipgloss.Style, spans []secretSpan) string {
	raw, off := r.raw, r.problem.Offset
	var b strings.Builder
	for row := 0; row < len(raw) || row <= off && off == len(raw); row += 16 {
		var hx, txt strings.Builder
		caret := -1
		for j := range 16 {
			i := row + j
			if j == 8 {
				hx.WriteString(" ")
			}
			h, t := "  ", " "
			if i < len(raw) {
				h, t = fmt.Sprintf("%02x", raw[i]), printable(raw[i])
				if _, masked := spanAt(spans, i); masked {
					h, t = "••", "•"
				}
			}
			if i == off {
				caret = 10 + j*3
				if j >= 8 {
					caret++
				}
				h, t = mark.Render(h), mark.Render(t)
			}
			hx.WriteString(h + " ")
			if i < len(raw) || i == off {
				txt.WriteString(t)
			}
		}
		b.WriteString(st.Dim.Render(fmt.Sprintf("%08x", row)) + "  " + hx.String() + " |" + txt.String() + "|\n")
		if caret >= 0 {
			b.WriteString(strings.Repeat(" ", caret) + st.Error.Render("^^ "+r.problem.Reason) + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func printable(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return string(c)
	}
	return "."
}
