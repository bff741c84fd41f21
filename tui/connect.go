package tui

import (
	"context"
	"errors"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"statescope/keymap"
	"statescope/remote"
)

// connectView opens the session's target, the first time or again after
// the connection was lost, then hands over to the resources view. Opening
// runs in a command so the UI is up to ask about an unknown host key.
type connectView struct {
	scope
	env  *env
	keys keymap.Connect
	// again: reconnecting after the connection was lost.
	again bool

	connecting bool
	err        error
}

func newConnectView(e *env, again bool) *connectView {
	return &connectView{env: e, keys: e.keys.Connect, again: again}
}

// prefix makes "connect…" read "reconnect…" when connecting again.
func (v *connectView) prefix() string {
	if v.again {
		return "re"
	}
	return ""
}

func (v *connectView) Title() string     { return v.prefix() + "connecting" }
func (v *connectView) Keys() help.KeyMap { return v.keys }
func (v *connectView) Capturing() bool   { return false }
func (v *connectView) Busy() bool        { return v.connecting }
func (v *connectView) Leave()            {}
func (v *connectView) Enter() tea.Cmd    { return v.connect() }

// connectedMsg is the outcome of a connect view's open. The router takes
// it, not the view: a store opened for a view that is gone must be closed.
type connectedMsg struct {
	view, gen int
	session   Session
	err       error
}

func (v *connectView) connect() tea.Cmd {
	open := v.env.session.Open
	if open == nil {
		v.err = errors.New("this session cannot be reopened: it was not opened from a target")
		return nil
	}
	ctx, gen := v.begin()
	v.connecting, v.err = true, nil
	id, timeout, hostKeys := v.id, v.env.opts.OperationTimeout, v.env.opts.HostKeys
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		s, err := opening(hostKeys, ctx, open)
		return connectedMsg{view: id, gen: gen, session: s, err: err}
	}
}

func (m *Model) connected(msg connectedMsg) tea.Cmd {
	v, ok := m.find(msg.view).(*connectView)
	if !ok || !v.current(msg.gen) {
		return closeStore(msg.session.Store)
	}
	v.connecting = false
	if msg.err != nil {
		v.err = msg.err
		return nil
	}
	return m.adopt(msg.session, v.prefix()+"connected to "+msg.session.Name)
}

// reconnect reopens the session's target after the connection was lost:
// the old client is dead, so reloading through it cannot help. The old
// store is closed off the UI thread and every view starts again.
func (m *Model) reconnect() tea.Cmd {
	if m.env.session.Open == nil {
		m.setStatus("cannot reconnect: this session was not opened from a target", true)
		return nil
	}
	old := m.env.session
	m.env.session.Store = nil
	m.env.repair = nil
	return tea.Batch(m.replace(newConnectView(m.env, true)), closeStore(old.Store))
}

// retry answers r after a failed load: a lost connection is reopened,
// anything else loaded again.
func (e *env) retry(err error, reload func() tea.Cmd) tea.Cmd {
	if errors.Is(err, remote.ErrUnreachable) {
		return e.router.reconnect()
	}
	return reload()
}

// loadFailed shows a failed load whole (a lost connection's error is
// long) and what r will do about it.
func loadFailed(st Styles, what string, err error, width int) string {
	hint := "press r to retry"
	if errors.Is(err, remote.ErrUnreachable) {
		hint = "press r to reconnect"
	}
	return st.Error.Render(wrap(what+": "+err.Error(), width-2)) + "\n" + st.Dim.Render(hint)
}

func (v *connectView) Update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(tea.KeyPressMsg); ok && key.Matches(msg, v.keys.Retry) && !v.connecting {
		return v.connect()
	}
	return nil
}

func (v *connectView) Render() string {
	st := v.env.styles
	if v.err == nil {
		return st.Dim.Render(v.prefix() + "connecting to " + v.env.session.Name + "…")
	}
	title, _ := openFailure(v.err)
	return errorBox(st, title, v.err, v.width) + "\n" + st.Dim.Render("r tries again · q quits")
}
