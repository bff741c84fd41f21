package tui

import (
	"context"
	"errors"
	"strings"
	"sync"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"statescope/remote"
)

// HostKeys puts the SSH question "trust this unknown host key?" to the
// operator inside the running UI: its Ask is remote.Options.HostKeyPrompt.
// The remote package asks synchronously while a store is being opened, so
// Ask blocks that open (never Update) until the dialog is answered or the
// open's context ends. The UI opens stores one at a time through HostKeys,
// which is how a question knows the open, and the context, it belongs to.
type HostKeys struct {
	turn chan struct{} // held by the open in progress

	mu   sync.Mutex
	send func(tea.Msg)
	open context.Context // of the open holding the turn
}

// NewHostKeys returns a bridge with no program attached yet.
func NewHostKeys() *HostKeys { return &HostKeys{turn: make(chan struct{}, 1)} }

// Attach routes the questions to a program (tea.Program.Send).
func (h *HostKeys) Attach(send func(tea.Msg)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.send = send
}

// Ask shows host and its SHA256 fingerprint and reports whether the
// operator typed yes. A question from anything but an open the UI started
// is answered no: nobody would see it.
func (h *HostKeys) Ask(host, fingerprint string) bool {
	h.mu.Lock()
	ctx, send := h.open, h.send
	h.mu.Unlock()
	if ctx == nil || send == nil {
		return false
	}
	q := hostKeyMsg{host: host, fingerprint: fingerprint, ctx: ctx, reply: make(chan bool, 1)}
	send(q)
	select {
	case yes := <-q.reply:
		return yes
	case <-ctx.Done():
		return false
	}
}

// opening runs open holding the turn, so a question it asks is tied to
// its context, which ends with it. Without a bridge (tests) it just runs open.
func opening[T any](h *HostKeys, ctx context.Context, open func(context.Context) (T, error)) (T, error) {
	if h == nil {
		return open(ctx)
	}
	// A question's dialog goes away when its open ends, even when the
	// caller's context lives on (the diff view's).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	select {
	case h.turn <- struct{}{}:
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
	h.mu.Lock()
	h.open = ctx
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.open = nil
		h.mu.Unlock()
		<-h.turn
	}()
	return open(ctx)
}

// hostKeyMsg is a question from Ask; the dialog answers on reply.
type hostKeyMsg struct {
	host, fingerprint string
	ctx               context.Context
	reply             chan bool
}

// hostKeyGoneMsg: the open that asked ended (timed out, cancelled, or it
// went on after the answer); its dialog, if still shown, goes away.
type hostKeyGoneMsg struct{ reply chan bool }

// dialog is a modal box the router shows over the body: it takes every
// key until it closes itself (router.dialog = nil).
type dialog interface {
	key(m *Model, msg tea.KeyPressMsg) tea.Cmd
	view(st Styles, width int) string
}

// hostKeyDialog asks about an unknown host key; only a typed "yes" trusts it.
type hostKeyDialog struct {
	q     hostKeyMsg
	typed *typedConfirm
}

func (m *Model) askHostKey(q hostKeyMsg) tea.Cmd {
	if prev, ok := m.dialog.(*hostKeyDialog); ok {
		prev.q.reply <- false // superseded: never leave an open waiting
	}
	m.dialog = &hostKeyDialog{q: q, typed: newTypedAnswer("type yes to trust it, no to refuse: ", "yes", "answer yes or no")}
	ctx, reply := q.ctx, q.reply
	return func() tea.Msg {
		<-ctx.Done()
		return hostKeyGoneMsg{reply: reply}
	}
}

func (d *hostKeyDialog) key(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	no := func() tea.Cmd {
		m.dialog = nil
		d.q.reply <- false
		return showStatus("host key of "+d.q.host+" not trusted; nothing was recorded", true)
	}
	if key.Matches(msg, m.env.keys.Input.Accept) && strings.EqualFold(strings.TrimSpace(d.typed.in.Value()), "no") {
		return no()
	}
	switch accepted, cancelled := d.typed.key(msg, m.env.keys.Input); {
	case cancelled:
		return no()
	case accepted:
		m.dialog = nil
		d.q.reply <- true
		return showStatus("trusted "+d.q.host+" ("+d.q.fingerprint+"); added to known_hosts", false)
	}
	return nil
}

func (d *hostKeyDialog) paste(text string) { d.typed.paste(text) }

func (d *hostKeyDialog) view(st Styles, width int) string {
	var b strings.Builder
	b.WriteString(st.Warn.Render("UNKNOWN SSH HOST KEY") + "\n\n")
	b.WriteString(st.Dim.Render(padRight("host", 13)) + st.Bold.Render(d.q.host) + "\n")
	b.WriteString(st.Dim.Render(padRight("fingerprint", 13)) + st.Bold.Render(d.q.fingerprint) + "\n\n")
	b.WriteString(wrap("This host is not in known_hosts, so nothing shows it is the machine you mean to reach. "+
		"Compare the fingerprint with one its administrator gives you (ssh-keygen -lf on the host's key). "+
		"Trusting it adds the key to known_hosts; a different key for this host is refused from then on.", min(width, 100)-4) + "\n\n")
	b.WriteString(d.typed.view(st))
	b.WriteString(st.Dim.Render("enter answers · esc refuses"))
	return st.Box.Width(min(width, 100)).Render(b.String())
}

// alertDialog shows an error too important for the status line, whole.
type alertDialog struct {
	title string
	err   error
}

func (d *alertDialog) key(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.env.keys.Input.Accept, m.env.keys.Input.Cancel, m.env.keys.Global.Quit) {
		m.dialog = nil
	}
	return nil
}

func (d *alertDialog) view(st Styles, width int) string {
	return errorBox(st, d.title, d.err, width) + "\n" + st.Dim.Render("enter, esc or q closes")
}

// errorBox draws a failure in full, wrapped to width.
func errorBox(st Styles, title string, err error, width int) string {
	return st.Box.Width(min(width, 100)).Render(st.Error.Render(title) + "\n\n" + wrap(err.Error(), min(width, 100)-4))
}

// openFailure is the title for a failed open: host key problems are named,
// since they need the operator, not a retry.
func openFailure(err error) (title string, hostKey bool) {
	switch {
	case errors.Is(err, remote.ErrHostKeyMismatch):
		return "SSH HOST KEY MISMATCH", true
	case errors.Is(err, remote.ErrHostKeyUnknown):
		return "SSH HOST KEY NOT TRUSTED", true
	}
	return "CANNOT OPEN THE STORE", false
}
