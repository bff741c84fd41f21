package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"statescope/keymap"
)

// pane is a scrollable text pane: lines longer than the screen scroll
// sideways, its last line says where the view is (lines 12–40 of 58), and
// / searches it (n and N move between the matching lines).
type pane struct {
	vp    viewport.Model
	lines []string // each content line as plain lower-case text, for search

	typing  bool
	search  input
	query   string
	matches []int // line numbers holding the query
	cur     int   // the current match, an index into matches
}

// sideStep is how far ← and → move a long line.
const sideStep = 8

func newPane() pane {
	vp := viewport.New()
	vp.SetHorizontalStep(sideStep)
	vp.MouseWheelDelta = 3
	return pane{vp: vp, search: input{prompt: "/"}, cur: -1}
}

// setSize gives the text all but the position line.
func (p *pane) setSize(w, h int) {
	p.vp.SetWidth(w)
	p.vp.SetHeight(max(h-1, 1))
}

// setContent replaces the text, keeping the scroll position and search.
func (p *pane) setContent(s string) {
	p.vp.SetContent(s)
	p.lines = strings.Split(strings.ToLower(ansi.Strip(s)), "\n")
	p.rematch(false)
}

// rematch finds the query's lines again; jump moves to the first match
// at or after the top of the view.
func (p *pane) rematch(jump bool) {
	p.matches, p.cur = nil, -1
	if p.query == "" {
		p.vp.LeftGutterFunc = nil
		return
	}
	q := strings.ToLower(p.query)
	for i, l := range p.lines {
		if strings.Contains(l, q) {
			p.matches = append(p.matches, i)
		}
	}
	p.vp.LeftGutterFunc = p.gutter
	if len(p.matches) == 0 {
		return
	}
	p.cur = 0
	for i, line := range p.matches {
		if line >= p.vp.YOffset() {
			p.cur = i
			break
		}
	}
	if jump {
		p.show()
	}
}

// gutter marks the current match ▸ and the other matching lines ·.
func (p *pane) gutter(c viewport.GutterContext) string {
	switch {
	case c.Soft || c.Index >= len(p.lines):
		return "  "
	case p.cur >= 0 && p.matches[p.cur] == c.Index:
		return "▸ "
	}
	for _, m := range p.matches {
		if m == c.Index {
			return "· "
		}
	}
	return "  "
}

// show scrolls the current match into view, at the query's column.
func (p *pane) show() {
	if p.cur < 0 {
		return
	}
	line := p.matches[p.cur]
	col := strings.Index(p.lines[line], strings.ToLower(p.query))
	p.vp.EnsureVisible(line, ansi.StringWidth(p.lines[line][:col]), ansi.StringWidth(p.lines[line][:col])+ansi.StringWidth(p.query))
}

// capturing reports a search being typed.
func (p *pane) capturing() bool { return p.typing }

// paste adds pasted text to the search being typed.
func (p *pane) paste(text string) {
	if p.typing {
		p.search.Paste(text)
	}
}

// key handles the pane's keys: motion, ←/→, /, n and N, and the search
// being typed. It reports whether msg was one of them.
func (p *pane) key(msg tea.KeyPressMsg, k keymap.Pane, in keymap.Input) bool {
	if p.typing {
		switch {
		case key.Matches(msg, in.Accept):
			p.typing = false
			p.query = strings.TrimSpace(p.search.Value())
			p.rematch(true)
		case key.Matches(msg, in.Cancel):
			p.typing = false
		default:
			p.search.Update(msg)
		}
		return true
	}
	switch {
	case scrollPane(msg, &p.vp, k.Motion):
	case key.Matches(msg, k.Left):
		p.vp.ScrollLeft(sideStep)
	case key.Matches(msg, k.Right):
		p.vp.ScrollRight(sideStep)
	case key.Matches(msg, k.Search):
		p.typing = true
		p.search.SetValue(p.query)
	case key.Matches(msg, k.NextMatch) && len(p.matches) > 0:
		p.cur = (p.cur + 1) % len(p.matches)
		p.show()
	case key.Matches(msg, k.PrevMatch) && len(p.matches) > 0:
		p.cur = (p.cur + len(p.matches) - 1) % len(p.matches)
		p.show()
	default:
		return false
	}
	return true
}

// wheel scrolls the pane.
func (p *pane) wheel(msg tea.MouseWheelMsg) tea.Cmd {
	var cmd tea.Cmd
	p.vp, cmd = p.vp.Update(msg)
	return cmd
}

// view is the text and the position line under it.
func (p *pane) view(st Styles) string {
	return p.vp.View() + "\n" + p.status(st)
}

// status says which lines are on screen, how far right the view is, and
// the search: typed, or its matches.
func (p *pane) status(st Styles) string {
	total := p.vp.TotalLineCount()
	first := min(p.vp.YOffset()+1, total)
	last := min(p.vp.YOffset()+p.vp.Height(), total)
	pos := fmt.Sprintf("lines %d–%d of %d", first, last, total)
	if x := p.vp.XOffset(); x > 0 {
		pos += fmt.Sprintf(" · columns %d– (← scrolls back)", x+1)
	}
	var left string
	switch {
	case p.typing:
		left = p.search.View(st.Key)
	case p.query != "" && len(p.matches) == 0:
		left = st.Warn.Render(fmt.Sprintf("/%s: no match", p.query))
	case p.query != "":
		left = st.Key.Render("/") + p.query + st.Dim.Render(fmt.Sprintf("  match %d of %d (n/N)", p.cur+1, len(p.matches)))
	}
	gap := p.vp.Width() - ansi.StringWidth(left) - ansi.StringWidth(pos)
	return left + strings.Repeat(" ", max(gap, 1)) + st.Dim.Render(pos)
}
