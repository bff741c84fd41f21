package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"statescope/keymap"
	"statescope/stores"
	"statescope/stores/fleet"
	ptext "statescope/stores/printable"
	"statescope/stores/repair"
	"statescope/tui/grid"
)

// Session is one opened store.
type Session struct {
	Store stores.Store
	// Name is the context name or the target with credentials removed.
	Name string
	// Target names the store in backups and the audit log
	// (repair.TargetName); Name when empty.
	Target string
	// ReadOnly: every mutation is disabled (the store is wrapped too).
	ReadOnly bool
	// Limitations are the backend's stores.Limiter notes, taken before any
	// read-only wrapper hid them.
	Limitations []string
	// Args are the statescope flags that name this store in a command
	// printed to run (--context NAME, or --store TARGET with credentials
	// removed).
	Args []string
	// Open opens the same target again: the UI connects with it when Store
	// is nil, and reconnects with it when the connection is lost.
	Open func(ctx context.Context) (Session, error)
}

// Options configure the UI.
type Options struct {
	Session Session
	// Contexts are the config's context names, for :ctx and the diff view.
	Contexts []string
	// ContextTargets are their store targets, credentials removed, for
	// the :ctx picker.
	ContextTargets map[string]string
	// OpenContext opens a named context (for :ctx and diffs against it).
	OpenContext func(ctx context.Context, name string) (Session, error)
	// OpenTarget opens a store target for a diff; the result is only read.
	OpenTarget func(ctx context.Context, target string) (stores.Store, error)
	// Against is the --against target or context for diffs.
	Against string
	// Refresh reloads the tables at this interval (0: off).
	Refresh    time.Duration
	StaleAfter time.Duration
	// KeyOverrides is the config's keys map.
	KeyOverrides map[string][]string
	// Now is the clock (tests pin it).
	Now func() time.Time
	// OperationTimeout bounds a repair and opening a context.
	OperationTimeout time.Duration
	// StateDir keeps the repairs' backups and audit log
	// (repair.DefaultStateDir); "" turns repairs off.
	StateDir string
	// HostKeys asks about unknown SSH host keys in the UI; every store the
	// UI opens goes through it. Nil: opens run as they are.
	HostKeys *HostKeys
	// NoMouse starts with mouse capture off (global.mouse toggles it).
	NoMouse bool
	// Fleet is every config context, for :fleet (opened with OpenTarget,
	// read-only). StartFleet opens the UI on it, with no session yet.
	Fleet      []fleet.Member
	StartFleet bool
}

// env is what every view shares: the app context, the session, the keys,
// the styles and the router.
type env struct {
	ctx     context.Context
	opts    Options
	session Session
	keys    *keymap.Keymap
	styles  Styles
	now     func() time.Time
	router  *Model
	// repair is the session's safety engine; every mutation goes through it.
	repair *repair.Engine
	// exec suspends the UI to run a command (tea.Exec; tests run it inline).
	exec func(tea.ExecCommand, tea.ExecCallback) tea.Cmd
}

// Model is the root: it owns the view stack and is the only place views
// are entered and left.
type Model struct {
	env    *env
	stack  []View
	nextID int
	// opening counts context switches: only the latest one's session is
	// adopted when it answers.
	opening int
	// cancelOpening stops the context being opened (openingName); nil
	// when none is.
	cancelOpening context.CancelFunc
	openingName   string

	width, height int
	spinner       spinner.Model
	spinning      bool

	status    string
	statusErr bool
	// messages keeps every status line of the session (:messages, !).
	messages messageLog
	// mouse is whether the UI captures the mouse (off: the terminal's
	// own text selection works).
	mouse   bool
	command *commandBar
	// dialog is a modal box over the body (host key question, alert).
	dialog dialog

	// helpLine caches the help bar for the bindings named by helpSig at
	// helpWidth; it only changes when one of those does.
	helpLine, helpSig string
	helpWidth         int
}

// New builds the UI on an opened session; ctx is the app context every
// view's context derives from.
func New(ctx context.Context, opts Options) (*Model, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = stores.DefaultStaleAfter
	}
	if opts.OperationTimeout <= 0 {
		opts.OperationTimeout = 30 * time.Second
	}
	keys, err := keymap.Load(opts.KeyOverrides, opts.Session.ReadOnly)
	if err != nil {
		return nil, err
	}
	m := &Model{spinner: spinner.New(spinner.WithSpinner(spinner.MiniDot)), width: 80, height: 24, mouse: !opts.NoMouse}
	m.env = &env{ctx: ctx, opts: opts, session: opts.Session, keys: keys, styles: DefaultStyles(), now: opts.Now, router: m, exec: tea.Exec}
	m.env.repair = m.env.newEngine(opts.Session)
	return m, nil
}

// Init opens the home view, or connects first when the session has no
// store yet (a network target: connecting may ask about a host key).
func (m *Model) Init() tea.Cmd {
	if m.env.opts.StartFleet {
		return m.push(newFleetView(m.env))
	}
	if m.env.session.Store == nil {
		return m.push(newConnectView(m.env, false))
	}
	return m.push(newResourcesView(m.env))
}

// Close leaves every view and closes the current store.
func (m *Model) Close() error {
	m.leaveAll()
	return stores.Close(m.env.session.Store)
}

func (m *Model) top() View {
	if len(m.stack) == 0 {
		return nil
	}
	return m.stack[len(m.stack)-1]
}

// push enters v on top of the stack under a context of its own.
func (m *Model) push(v View) tea.Cmd {
	m.nextID++
	b := v.base()
	b.id = m.nextID
	b.ctx, b.cancel = context.WithCancel(m.env.ctx)
	v.SetSize(m.width, m.bodyHeight())
	m.stack = append(m.stack, v)
	return v.Enter()
}

// pop leaves the top view; the home view stays.
func (m *Model) pop() tea.Cmd {
	if len(m.stack) <= 1 {
		return nil
	}
	leave(m.top())
	m.stack = m.stack[:len(m.stack)-1]
	return nil
}

// replace leaves every view and makes v the only one.
func (m *Model) replace(v View) tea.Cmd {
	m.leaveAll()
	return m.push(v)
}

func (m *Model) leaveAll() {
	for i := len(m.stack) - 1; i >= 0; i-- {
		leave(m.stack[i])
	}
	m.stack = nil
}

func leave(v View) {
	b := v.base()
	b.left = true
	b.cancel()
	v.Leave()
}

func (m *Model) find(id int) View {
	for _, v := range m.stack {
		if v.base().id == id {
			return v
		}
	}
	return nil
}

// setStatus shows a one-line message until the next key, and keeps it
// in the session's messages.
func (m *Model) setStatus(text string, isErr bool) {
	m.status, m.statusErr = text, isErr
	if text != "" {
		m.messages.add(m.env.now(), m.env.session.Name, text, isErr)
	}
}

func (m *Model) bodyHeight() int { return max(m.height-3, 3) }

// statusMsg sets the status line from a command.
type statusMsg struct {
	text  string
	isErr bool
}

// showStatus is a command that sets the status line.
func showStatus(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return statusMsg{text: text, isErr: isErr} }
}

// clickMsg is a left click inside the body, in the view's coordinates.
type clickMsg struct{ x, y int }

// storeChangedMsg tells every open view the store was modified.
type storeChangedMsg struct{}

// Update routes messages: keys to the command bar, the global bindings or
// the top view; tagged replies to the view that asked, if it is still open.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	if v := m.top(); v != nil && v.Busy() && !m.spinning {
		m.spinning = true
		cmd = tea.Batch(cmd, m.spinner.Tick)
	}
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		for _, v := range m.stack {
			v.SetSize(m.width, m.bodyHeight())
		}
		return nil
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.MouseWheelMsg:
		if v := m.top(); v != nil && m.dialog == nil {
			return v.Update(msg)
		}
	case tea.MouseClickMsg:
		// The body starts under the breadcrumbs; a click there goes to the
		// view in its own coordinates.
		mouse := msg.Mouse()
		if v := m.top(); v != nil && m.dialog == nil && m.command == nil && mouse.Button == tea.MouseLeft &&
			mouse.Y >= 1 && mouse.Y <= m.bodyHeight() {
			return v.Update(clickMsg{x: mouse.X, y: mouse.Y - 1})
		}
	case tea.PasteMsg:
		if m.dialog != nil {
			if p, ok := m.dialog.(interface{ paste(string) }); ok {
				p.paste(msg.Content)
			}
			return nil // never into the view under the dialog
		}
		if m.command != nil {
			m.command.in.Paste(msg.Content)
			return nil
		}
		if p, ok := m.top().(paster); ok && m.top().Capturing() {
			return p.Paste(msg.Content)
		}
	case tagged:
		if v := m.find(msg.to); v != nil {
			return v.Update(msg.msg)
		}
		return nil // its view was left: the reply is stale
	case spinner.TickMsg:
		if v := m.top(); v == nil || !v.Busy() {
			m.spinning = false
			return nil
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return cmd
	case statusMsg:
		m.setStatus(msg.text, msg.isErr)
	case repairedMsg:
		return m.repaired(msg)
	case sessionMsg:
		return m.switchSession(msg)
	case connectedMsg:
		return m.connected(msg)
	case hostKeyMsg:
		return m.askHostKey(msg)
	case hostKeyGoneMsg:
		if d, ok := m.dialog.(*hostKeyDialog); ok && d.q.reply == msg.reply {
			m.dialog = nil
			m.setStatus("the connection to "+d.q.host+" ended before the host key was answered", true)
		}
	}
	return nil
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	g := m.env.keys.Global
	top := m.top()
	typing := m.dialog != nil || m.command != nil || (top != nil && top.Capturing())
	if msg.String() == "ctrl+c" && !(typing && key.Matches(msg, m.env.keys.Input.Cancel)) {
		// Always quits, even with quit rebound — except that text being
		// typed (a filter, a prompt, a dialog) is cancelled first.
		return m.quit()
	}
	m.status = ""
	if m.dialog != nil {
		return m.dialog.key(m, msg)
	}
	if m.command != nil {
		return m.command.update(msg)
	}
	if top == nil {
		return nil
	}
	if top.Capturing() {
		return top.Update(msg)
	}
	if m.env.session.Store == nil && !m.fleetHome() && !key.Matches(msg, g.Quit) {
		return top.Update(msg) // no store yet: only the connect view's keys
	}
	if c, ok := top.(claimer); ok && c.Claims(msg) {
		return top.Update(msg)
	}
	switch {
	case key.Matches(msg, g.Quit) && len(m.stack) == 1:
		return m.quit() // only from a top-level view; elsewhere q closes
	case key.Matches(msg, g.Back) && m.stopOpening():
		m.setStatus("stopped opening context "+m.openingName, false)
		return nil
	case key.Matches(msg, g.Back), key.Matches(msg, g.Quit):
		if b, ok := top.(backer); ok && b.Back() {
			return nil
		}
		return m.pop()
	case key.Matches(msg, g.Help):
		if _, isHelp := top.(*helpView); isHelp {
			return m.pop()
		}
		return m.push(newHelpView(m.env, top))
	case key.Matches(msg, g.Command):
		m.command = newCommandBar(m)
		return nil
	case key.Matches(msg, g.Message):
		return m.showLastMessage()
	case key.Matches(msg, g.Mouse):
		m.mouse = !m.mouse
		if m.mouse {
			m.setStatus("mouse on: clicks select, the wheel scrolls", false)
		} else {
			m.setStatus("mouse off: the terminal selects text ("+g.Mouse.Help().Key+" turns it back on)", false)
		}
		return nil
	case key.Matches(msg, g.Locks):
		if _, already := top.(*locksView); already || m.noStore() {
			return nil
		}
		return m.push(newLocksView(m.env))
	case key.Matches(msg, g.Resource):
		if m.noStore() {
			return nil
		}
		if m.fleetHome() { // a context opened from the fleet: it stays under
			for len(m.stack) > 1 {
				m.pop()
			}
			return m.push(newResourcesView(m.env))
		}
		return m.replace(newResourcesView(m.env))
	}
	return top.Update(msg)
}

// fleetHome reports the fleet is the bottom view: the start screen (the
// global keys work there before a context is open, those needing a store
// say so) or the fleet the current context was opened from.
func (m *Model) fleetHome() bool {
	return len(m.stack) > 0 && isFleet(m.stack[0])
}

// noStore refuses, saying why, what needs a store while none is open
// (the start fleet, before a context is chosen).
func (m *Model) noStore() bool {
	if m.env.session.Store != nil {
		return false
	}
	m.setStatus("no context is open yet: enter opens the selected one, :ctx NAME another", true)
	return true
}

// claimer is a view that uses some global keys itself (the fleet's L is
// that context's locks).
type claimer interface{ Claims(tea.KeyPressMsg) bool }

// paster is a view with a text field that takes pasted text.
type paster interface{ Paste(text string) tea.Cmd }

// backer is a view that uses esc itself first (clearing a filter) and
// reports whether it did.
type backer interface{ Back() bool }

func (m *Model) quit() tea.Cmd {
	m.leaveAll()
	return tea.Quit
}

// sessionMsg is a context opened by :ctx or the fleet; then, when set,
// is the view to open over its resources; keep, when set and still open,
// stays under them (the fleet), so going back returns to it.
type sessionMsg struct {
	gen     int
	session Session
	err     error
	keep    View
	then    func(*env) View
}

func (m *Model) switchContext(name string) tea.Cmd { return m.switchContextThen(name, nil, nil) }

func (m *Model) switchContextThen(name string, keep View, then func(*env) View) tea.Cmd {
	open := m.env.opts.OpenContext
	if open == nil {
		m.setStatus("no config contexts to switch to", true)
		return nil
	}
	hostKeys := m.env.opts.HostKeys
	// A later choice, or esc, stops this one: a dial to an unreachable
	// host must not run on to its timeout behind the operator's back.
	m.stopOpening()
	ctx, cancel := context.WithTimeout(m.env.ctx, m.env.opts.OperationTimeout)
	m.opening++
	gen := m.opening
	m.openingName, m.cancelOpening = name, cancel
	m.setStatus("opening context "+name+"… ("+m.env.keys.Global.Back.Help().Key+" stops)", false)
	return func() tea.Msg {
		defer cancel()
		s, err := opening(hostKeys, ctx, func(ctx context.Context) (Session, error) { return open(ctx, name) })
		if err != nil {
			return sessionMsg{gen: gen, err: fmt.Errorf("context %s: %w", name, err)}
		}
		return sessionMsg{gen: gen, session: s, keep: keep, then: then}
	}
}

// stopOpening cancels the context being opened, if any; its answer, when
// it comes, is dropped.
func (m *Model) stopOpening() bool {
	if m.cancelOpening == nil {
		return false
	}
	m.cancelOpening()
	m.cancelOpening = nil
	m.opening++
	return true
}

func (m *Model) switchSession(msg sessionMsg) tea.Cmd {
	switch {
	case msg.gen != m.opening && msg.err == nil:
		return closeStore(msg.session.Store) // another context was chosen since
	case msg.gen != m.opening:
		return nil
	}
	m.cancelOpening = nil
	if msg.err != nil {
		if title, hostKey := openFailure(msg.err); hostKey {
			m.dialog = &alertDialog{title: title, err: msg.err}
			m.status = "" // no longer opening: the dialog says why
			return nil
		}
		m.setStatus(msg.err.Error(), true)
		return nil
	}
	before, keep := m.stack, msg.keep
	if keep != nil && m.find(keep.base().id) != nil { // still open: adopt leaves it alone
		m.stack = slices.DeleteFunc(slices.Clone(m.stack), func(v View) bool { return v == keep })
	} else {
		keep = nil
	}
	cmd := m.adopt(msg.session, "switched to "+msg.session.Name)
	if m.env.session.Store != msg.session.Store {
		m.stack = before // refused: nothing was left
		return cmd
	}
	if keep != nil {
		m.stack = append([]View{keep}, m.stack...)
	}
	if msg.then != nil {
		cmd = tea.Batch(cmd, m.push(msg.then(m.env)))
	}
	return cmd
}

// adopt makes s the session and opens its resources; the store it
// replaces is closed.
func (m *Model) adopt(s Session, status string) tea.Cmd {
	keys, err := keymap.Load(m.env.opts.KeyOverrides, s.ReadOnly)
	if err != nil {
		m.setStatus(err.Error(), true)
		return closeStore(s.Store)
	}
	m.leaveAll()
	old := m.env.session.Store
	m.env.session, m.env.keys, m.env.repair = s, keys, m.env.newEngine(s)
	m.setStatus(status, false)
	return tea.Batch(m.push(newResourcesView(m.env)), closeStore(old))
}

// closeStore closes a store off the Update path: closing may talk to
// the network.
func closeStore(s stores.Store) tea.Cmd {
	return func() tea.Msg {
		stores.Close(s)
		return nil
	}
}

// View lays out breadcrumbs, the top view, the status line and the help bar.
func (m *Model) View() tea.View {
	st := m.env.styles
	var b strings.Builder
	b.WriteString(m.crumbs())
	b.WriteByte('\n')
	body := ""
	switch v := m.top(); {
	case m.dialog != nil:
		body = m.dialog.view(st, m.width)
	case v != nil:
		body = v.Render()
	}
	b.WriteString(fit(body, m.width, m.bodyHeight()))
	b.WriteByte('\n')
	switch {
	case m.command != nil:
		b.WriteString(m.command.view())
	case m.status != "":
		style := st.Status
		if m.statusErr {
			style = st.StatusErr
		}
		b.WriteString(style.Render(m.statusLine()))
	}
	b.WriteByte('\n')
	b.WriteString(m.helpBar())
	v := tea.NewView(b.String())
	v.AltScreen = true
	if m.mouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	v.WindowTitle = "statescope – " + ptext.Escape(m.env.session.Name)
	return v
}

// oneLine is text from outside (a name, a driver's error) on one line:
// whitespace runs (pgx's "\n\t" between causes) become one space, what
// does not print its escape.
func oneLine(s string) string { return ptext.Escape(strings.Join(strings.Fields(s), " ")) }

// statusLine is the status cut to the screen, saying how to read the rest.
func (m *Model) statusLine() string {
	status := oneLine(m.status) // it quotes names and errors from outside
	if ansi.StringWidth(status) <= m.width {
		return status
	}
	more := "… (" + m.env.keys.Global.Message.Help().Key + " shows all)"
	return ansi.Truncate(status, max(m.width-ansi.StringWidth(more), 0), "") + more
}

func (m *Model) crumbs() string {
	st := m.env.styles
	var suffix string
	if v := m.top(); v != nil && v.Busy() {
		suffix += " " + m.spinner.View()
	}
	if m.env.session.ReadOnly {
		suffix += "  " + st.Warn.Render("[read-only]")
	}
	desc := ""
	if m.env.session.Store != nil {
		desc = stores.Describe(m.env.session.Store)
	}
	// The transport (e.g. ssh ops@host → plugin /opt/…) keeps at least
	// half the line; the breadcrumbs are abbreviated to fit the rest.
	room := m.width - ansi.StringWidth(suffix)
	if desc != "" {
		room -= min(ansi.StringWidth(desc), m.width/2) + 2
	}
	line := m.trail(room) + suffix
	if desc == "" {
		return ansi.Truncate(line, m.width, "…")
	}
	room = m.width - ansi.StringWidth(line) - 2
	desc = ansi.Truncate(desc, max(room, 0), "…")
	return line + strings.Repeat(" ", max(m.width-ansi.StringWidth(line)-ansi.StringWidth(desc), 0)) + st.Dim.Render(desc)
}

// trail is the breadcrumb trail in at most w columns: the app's name goes
// first, then the middle views become "…", then the last one is cut in
// the middle; the session and the current view always show.
func (m *Model) trail(w int) string {
	st := m.env.styles
	titles := make([]string, 0, len(m.stack))
	for _, v := range m.stack {
		titles = append(titles, v.Title())
	}
	sep := st.CrumbSep.Render(" › ")
	join := func(app bool, titles []string) string {
		var parts []string
		if m.env.session.Name != "" { // none chosen yet (the start fleet)
			parts = append(parts, st.Title.Render(ptext.Escape(m.env.session.Name)))
		}
		if app {
			parts = append([]string{st.Crumb.Render("statescope")}, parts...)
		}
		return strings.Join(append(parts, titles...), sep)
	}
	if line := join(true, titles); ansi.StringWidth(line) <= w {
		return line
	}
	for more := true; more && ansi.StringWidth(join(false, titles)) > w; {
		switch {
		case len(titles) >= 3 && titles[1] != "…":
			titles[1] = "…"
		case len(titles) > 3:
			titles = append(titles[:2], titles[3:]...) // "…" stands for one more
		default:
			more = false
		}
	}
	line := join(false, titles)
	if over := ansi.StringWidth(line) - w; over > 0 && len(titles) > 0 {
		last := titles[len(titles)-1]
		titles[len(titles)-1] = grid.Cut(last, max(ansi.StringWidth(last)-over, 8), true)
		line = join(false, titles)
	}
	return ansi.Truncate(line, max(w, 0), "…")
}

// typingHelp is a view whose text entry takes more keys than accept and
// cancel (a picker's rows, a next source): its footer lists them.
type typingHelp interface{ TypingHelp() []key.Binding }

func (m *Model) helpBar() string {
	v := m.top()
	if v == nil {
		return ""
	}
	typing, _ := v.(typingHelp)
	var bindings []key.Binding
	switch {
	case m.dialog != nil:
		bindings = []key.Binding{m.env.keys.Input.Accept, m.env.keys.Input.Cancel}
	case m.command != nil:
		bindings = append(m.env.keys.Input.ShortHelp(), m.env.keys.Input.Complete)
	case v.Capturing() && typing != nil:
		bindings = typing.TypingHelp()
	case v.Capturing():
		bindings = m.env.keys.Input.ShortHelp()
	case m.env.session.Store == nil && !m.fleetHome():
		bindings = append(v.Keys().ShortHelp(), m.env.keys.Global.Quit) // nothing else works yet
	default:
		bindings = append(v.Keys().ShortHelp(), m.env.keys.Global.ShortHelp()...)
		if len(m.stack) > 1 {
			bindings = bindings[:len(bindings)-1] // q goes back here, as esc does
		}
	}
	// A view offers only what works on its screen now, so the line is
	// rendered again whenever its bindings change.
	var sig strings.Builder
	for _, b := range bindings {
		h := b.Help()
		fmt.Fprintf(&sig, "%s\x00%s\x00%t\x00", h.Key, h.Desc, b.Enabled())
	}
	if m.helpWidth == m.width && m.helpSig == sig.String() {
		return m.helpLine
	}
	m.helpLine = fitBindings(m.env.styles, bindings, m.env.keys.Global.Help, m.width)
	m.helpWidth, m.helpSig = m.width, sig.String()
	return m.helpLine
}

// fit pads or cuts s to exactly h lines, each cut to w columns.
func fit(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "")
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}
