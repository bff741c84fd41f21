package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"statescope/keymap"
	"statescope/stores/redact"
	"statescope/tui/grid"
)

// message is one status line the session showed.
type message struct {
	seq   int
	at    time.Time
	isErr bool
	store string
	text  string
}

// messageLimit bounds the session's message log: the oldest go first.
const messageLimit = 1000

// messageLog is every status line of the session, in order, secret-looking
// values masked, for :messages and for reading a long one in full.
type messageLog struct {
	entries []message
	seq     int
}

func (l *messageLog) add(at time.Time, store, text string, isErr bool) {
	l.seq++
	l.entries = append(l.entries, message{seq: l.seq, at: at, isErr: isErr, store: store, text: redact.Text(text)})
	if len(l.entries) > messageLimit {
		l.entries = l.entries[len(l.entries)-messageLimit:]
	}
}

// textDialog shows one text in full, wrapped: a message, an audit entry.
type textDialog struct {
	title, sub, text string
	isErr            bool
}

func messageDialog(m message) *textDialog {
	title := "MESSAGE"
	if m.isErr {
		title = "ERROR"
	}
	return &textDialog{title: title, sub: m.at.UTC().Format(backupTime) + " · " + m.store, text: m.text, isErr: m.isErr}
}

func (d *textDialog) key(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.env.keys.Input.Accept, m.env.keys.Input.Cancel, m.env.keys.Global.Quit) {
		m.dialog = nil
	}
	return nil
}

func (d *textDialog) view(st Styles, width int) string {
	style := st.Bold
	if d.isErr {
		style = st.Error
	}
	head := style.Render(d.title) + st.Dim.Render("  "+d.sub)
	return st.Box.Width(min(width, 100)).Render(head+"\n\n"+wrap(d.text, min(width, 100)-4)) + "\n" + st.Dim.Render("enter, esc or q closes")
}

// showLastMessage opens the latest status line in full.
func (m *Model) showLastMessage() tea.Cmd {
	if n := len(m.messages.entries); n > 0 {
		m.dialog = messageDialog(m.messages.entries[n-1])
		return nil
	}
	m.setStatus("no messages yet", false)
	return nil
}

// messagesView is the session's status lines, newest first (:messages).
type messagesView struct {
	scope
	env  *env
	keys keymap.Messages
	table[message]
}

func newMessagesView(e *env) *messagesView {
	st := &e.styles
	g := grid.New([]grid.Column[message]{
		{Title: "TIME", Whole: true, Text: func(m message) string { return m.at.UTC().Format(backupTime) },
			Compare: func(a, b message) int { return b.seq - a.seq }},
		{Title: "STORE", MaxWidth: 20, MinWidth: 8, Drop: 1, Text: func(m message) string { return m.store }},
		{Title: "MESSAGE", Flex: true, MinWidth: 20, Text: func(m message) string { return m.text },
			Style: func(m message) *lipgloss.Style {
				if m.isErr {
					return &st.Error
				}
				return &st.Plain
			}},
	}, func(m message) string { return fmt.Sprint(m.seq) }, func(m message) []string { return []string{m.text, m.store} }, st.Grid)
	g.SortBy(0) // newest first
	return &messagesView{env: e, keys: e.keys.Messages, table: newTable(g, func(m message) (string, string) { return m.text, "the message" })}
}

func (v *messagesView) Title() string     { return "messages" }
func (v *messagesView) Keys() help.KeyMap { return v.keys }
func (v *messagesView) Busy() bool        { return false }
func (v *messagesView) Leave()            {}

func (v *messagesView) Enter() tea.Cmd {
	return v.tag(v.grid.SetItems(append([]message(nil), v.env.router.messages.entries...)))
}

func (v *messagesView) SetSize(w, h int) {
	v.scope.SetSize(w, h)
	v.grid.SetSize(w, max(h-2, 2))
}

// Paste goes to the filter being typed.
func (v *messagesView) Paste(text string) tea.Cmd { return v.tag(v.filter.paste(text, v.grid)) }

func (v *messagesView) Update(msg tea.Msg) tea.Cmd {
	k := v.keys
	if cmd, ok := v.update(msg, v.env.keys.Input, tableKeys{Motion: k.Motion, Filter: k.Filter}); ok {
		return v.tag(cmd)
	}
	if msg, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(msg, k.Open):
			if m, ok := v.grid.Selected(); ok {
				v.env.router.dialog = messageDialog(m)
			}
		case key.Matches(msg, k.Copy):
			return v.copyRow()
		}
	}
	return nil
}

func (v *messagesView) Render() string {
	st := v.env.styles
	var b strings.Builder
	b.WriteString(st.Bold.Render(fmt.Sprintf("%d messages", v.grid.Len())) + st.Dim.Render("  this session's status lines, newest first · enter shows one in full") + "\n")
	if v.grid.Len() == 0 {
		b.WriteString(st.Dim.Render("no messages yet"))
	} else {
		b.WriteString(v.grid.View())
	}
	return fit(b.String(), v.width, v.height-1) + "\n" + v.footer(st)
}
