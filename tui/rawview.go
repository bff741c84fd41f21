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

// rawShown is how many of a corrupt record's bytes the detail view draws:
// the part around where parsing fails. The editor opens them all.
const rawShown = 256 << 10

// rawBytes is an unreadable record's stored bytes as the detail view
// shows them: as text or a hex dump, secret-looking values masked unless
// revealed, the byte where parsing fails highlighted with a caret line
// under it. It is built off the UI's goroutine (see detailView.load).
type rawBytes struct {
	raw     []byte
	problem repair.ParseProblem
	secrets []secretSpan // over all of raw: a masked value may start before the part shown
	// drawn caches each view (hex, revealed): a view renders on every key.
	drawn map[[2]bool]string
}

func newRawBytes(raw []byte) *rawBytes {
	return &rawBytes{raw: raw, problem: repair.Diagnose(raw), secrets: rawSecrets(string(raw))}
}

// window is the part of the bytes drawn: all of them, or rawShown bytes
// around where parsing fails, from a line start when one is near (hex:
// from a row start).
func (r *rawBytes) window(hex bool) (start, end int) {
	n := len(r.raw)
	if n <= rawShown {
		return 0, n
	}
	start = max(0, min(r.problem.Offset-rawShown/2, n-rawShown))
	if hex {
		start -= start % 16
	} else if nl := bytes.LastIndexByte(r.raw[max(0, start-4096):start], '\n'); nl >= 0 {
		start = max(0, start-4096) + nl + 1
	}
	return start, min(n, start+rawShown+4096)
}

// render draws the bytes, secrets masked unless revealed.
func (r *rawBytes) render(st Styles, hex, revealed bool) string {
	if s, ok := r.drawn[[2]bool{hex, revealed}]; ok {
		return s
	}
	cur := &spanCursor{r.secrets}
	if revealed {
		cur.spans = nil
	}
	mark := lipgloss.NewStyle().Reverse(true).Inherit(st.Error)
	draw := r.text
	if hex {
		draw = r.hex
	}
	s := draw(st, mark, cur)
	if r.drawn == nil {
		r.drawn = map[[2]bool]string{}
	}
	r.drawn[[2]bool{hex, revealed}] = s
	return s
}

// header says what is shown and where parsing fails.
func (r *rawBytes) header(st Styles, hex, revealed bool, hexKey, revealKey, editKey string) string {
	p := r.problem
	view, other := "text", "hex"
	if hex {
		view, other = "hex", "text"
	}
	h := st.Title.Render("stored bytes") + st.Dim.Render(fmt.Sprintf("  %d bytes as %s · %s shows %s", len(r.raw), view, hexKey, other))
	if start, end := r.window(hex); end-start < len(r.raw) {
		h += st.Warn.Render(fmt.Sprintf("  (bytes %d–%d shown; %s opens them all)", start, end, editKey))
	}
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
func (r *rawBytes) text(st Styles, mark lipgloss.Style, cur *spanCursor) string {
	ws, we := r.window(false)
	raw := r.raw
	n := bytes.Count(raw[:ws], []byte("\n")) + 1
	numW := len(fmt.Sprint(n + bytes.Count(raw[ws:we], []byte("\n"))))
	var b strings.Builder
	for start := ws; ; n++ {
		end := start + bytes.IndexByte(raw[start:we], '\n')
		if end < start {
			end = we
		}
		b.WriteString(st.Dim.Render(fmt.Sprintf("%*d │ ", numW, n)))
		if col := r.line(&b, st, mark, cur, start, end); col >= 0 {
			b.WriteString("\n" + st.Dim.Render(strings.Repeat(" ", numW)+" │ ") + strings.Repeat(" ", col) + st.Error.Render("^ "+r.problem.Reason))
		}
		if end == we {
			break
		}
		b.WriteString("\n")
		start = end + 1
	}
	return b.String()
}

// line writes raw[start:end] to b and returns the column the parse error
// is at on it, -1 when it is elsewhere.
func (r *rawBytes) line(b *strings.Builder, st Styles, mark lipgloss.Style, cur *spanCursor, start, end int) int {
	raw, off := r.raw, r.problem.Offset
	var plain strings.Builder // the line as drawn, for the error's column
	col := -1
	at := func() {
		if col < 0 {
			col = ansi.StringWidth(plain.String())
		}
	}
	for i := start; i < end; {
		if sp, ok := cur.at(i); ok {
			// A span is shown once, where it starts; a line it runs on
			// into shows nothing of it.
			next := min(sp.end, end)
			if off >= i && off < next {
				at()
			}
			if sp.start >= start {
				b.WriteString(st.Warn.Render(sp.repl))
				plain.WriteString(sp.repl)
			}
			i = next
			continue
		}
		c, size := utf8.DecodeRune(raw[i:end])
		c = shown(c, size)
		if i == off {
			at()
			b.WriteString(mark.Render(string(c)))
		} else {
			b.WriteRune(c)
		}
		plain.WriteRune(c)
		i += size
	}
	if off == end && off == len(raw) {
		at()
		b.WriteString(mark.Render(" "))
	}
	return col
}

// spanCursor finds the secret span holding a byte, for bytes asked for
// in increasing order (spans are sorted and do not overlap).
type spanCursor struct{ spans []secretSpan }

func (c *spanCursor) at(i int) (secretSpan, bool) {
	for len(c.spans) > 0 && c.spans[0].end <= i {
		c.spans = c.spans[1:]
	}
	if len(c.spans) > 0 && c.spans[0].start <= i {
		return c.spans[0], true
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
func (r *rawBytes) hex(st Styles, mark lipgloss.Style, cur *spanCursor) string {
	ws, we := r.window(true)
	raw, off := r.raw, r.problem.Offset
	var b strings.Builder
	for row := ws; row < we || row <= off && off == len(raw) && we == len(raw); row += 16 {
		var hx, txt strings.Builder
		caret := -1
		for j := range 16 {
			i := row + j
			if j == 8 {
				hx.WriteString(" ")
			}
			h, t := "  ", " "
			if i < we {
				h, t = fmt.Sprintf("%02x", raw[i]), printable(raw[i])
				if _, masked := cur.at(i); masked {
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
			if i < we || i == off {
				txt.WriteString(t)
			}
		}
		if row > ws {
			b.WriteString("\n")
		}
		b.WriteString(st.Dim.Render(fmt.Sprintf("%08x", row)) + "  " + hx.String() + " |" + txt.String() + "|")
		if caret >= 0 {
			b.WriteString("\n" + strings.Repeat(" ", caret) + st.Error.Render("^^ "+r.problem.Reason))
		}
	}
	return b.String()
}

func printable(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return string(c)
	}
	return "."
}
