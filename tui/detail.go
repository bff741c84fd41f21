package tui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"statescope/keymap"
	"statescope/stores"
	"statescope/stores/redact"
	"statescope/stores/repair"
)

// detailKeys offers, on a corrupt record, only what works on it.
type detailKeys struct {
	keymap.Detail
	d *detailView
}

func (k detailKeys) ShortHelp() []key.Binding {
	switch d := k.d; {
	case !d.entry.Corrupt() && d.recoverable():
		return append([]key.Binding{k.Recover}, k.Detail.ShortHelp()...)
	case !d.entry.Corrupt():
		return k.Detail.ShortHelp()
	case d.raw == nil: // no bytes to show, edit or back up before a delete
		return []key.Binding{k.Backups}
	case len(d.raw.secrets) == 0:
		return []key.Binding{k.Hex, k.Edit, k.Backups, k.Delete}
	}
	return []key.Binding{k.Hex, k.Reveal, k.Edit, k.Backups, k.Delete}
}

// detailView shows one record: every field, the error, dependencies,
// outputs and config (masked until revealed), and its lock.
type detailView struct {
	scope
	env  *env
	keys keymap.Detail
	pane pane

	entry   stores.Row // as listed; the source of truth for a corrupt record
	state   *stores.State
	lock    *stores.LockInfo
	lockWhy error // why whether it is locked is unknown
	loading bool
	err     error
	gone    bool

	revealed bool
	dep      int // selected line of depLines, -1 for none
	depGraph

	// raw is a corrupt record's stored bytes as shown: what e edits.
	raw    *rawBytes
	rawWhy error // why they are not shown
	hex    bool
}

func newDetailView(e *env, en stores.Row) *detailView {
	return &detailView{env: e, keys: e.keys.Detail, entry: en, dep: -1, pane: newPane()}
}

func (d *detailView) Title() string     { return d.entry.ID }
func (d *detailView) Keys() help.KeyMap { return detailKeys{d.keys, d} }
func (d *detailView) Capturing() bool   { return d.pane.capturing() }
func (d *detailView) Busy() bool        { return d.loading }
func (d *detailView) Leave()            {}
func (d *detailView) Enter() tea.Cmd    { return d.load() }

// detailMsg is a freshly read record and its lock.
type detailMsg struct {
	gen   int
	state *stores.State
	err   error
	lock  *stores.LockInfo
	// lockWhy says why the lock is unknown (no inventory, or it failed).
	lockWhy error
	// raw is an unreadable record's stored bytes; rawWhy why there are none.
	raw    *rawBytes
	rawWhy error
}

// load reads the record and the lock inventory afresh: the listed copy
// may be old, and a dependency jump has only an ID.
func (d *detailView) load() tea.Cmd {
	ctx, gen := d.begin()
	d.loading = true
	s, id, now, stale := d.env.session.Store, d.entry.ID, d.env.now(), d.env.opts.StaleAfter
	return tea.Batch(d.loadDeps(ctx, gen), d.tag(func() tea.Msg {
		st, err := s.Get(ctx, id)
		msg := detailMsg{gen: gen, state: st, err: err}
		if errors.Is(err, stores.ErrCorrupt) {
			var raw []byte
			if raw, msg.rawWhy = repair.UnreadableBytes(ctx, s, id); raw != nil {
				msg.raw = newRawBytes(raw) // here: diagnosing and masking a large file takes a while
			}
		}
		ll, ok := s.(stores.LockLister)
		if !ok {
			msg.lockWhy = errors.New("this store has no lock inventory")
		}
		if ok && ctx.Err() == nil {
			locks, lerr := ll.Locks(ctx)
			msg.lockWhy = lerr
			if lerr == nil {
				stores.Judge(locks, now, stale)
				for _, l := range locks {
					if l.ResourceID == id {
						msg.lock = &l
						break
					}
				}
			}
		}
		return msg
	}))
}

func (d *detailView) SetSize(w, h int) {
	d.scope.SetSize(w, h)
	d.pane.setSize(w, h)
	d.render()
}

func (d *detailView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case detailMsg:
		if !d.current(msg.gen) {
			return nil
		}
		d.loading = false
		d.lock, d.lockWhy = msg.lock, msg.lockWhy
		d.err, d.gone, d.raw, d.rawWhy = nil, false, msg.raw, msg.rawWhy
		switch {
		case msg.err == nil:
			d.state, d.entry.Problem = msg.state, ""
		case errors.Is(msg.err, stores.ErrNotFound):
			d.gone = true
		case errors.Is(msg.err, stores.ErrCorrupt):
			if d.entry.Problem == "" {
				d.entry.Problem = msg.err.Error()
			}
		default:
			d.err = quiet(msg.err)
		}
		d.render()
	case depsMsg:
		d.gotDeps(msg)
	case storeChangedMsg:
		return d.load()
	case observedMsg:
		return d.openEditor(msg)
	case editedMsg:
		return d.edited(msg)
	case tea.MouseWheelMsg:
		return d.pane.wheel(msg)
	case tea.KeyPressMsg:
		return d.key(msg)
	}
	return nil
}

func (d *detailView) key(msg tea.KeyPressMsg) tea.Cmd {
	k := d.keys
	switch {
	case key.Matches(msg, k.Tree):
		return d.env.router.push(newTreeView(d.env, d.entry.ID))
	case d.pane.key(msg, k.Pane, d.env.keys.Input):
	case key.Matches(msg, k.NextDep), key.Matches(msg, k.PrevDep):
		if n := len(d.depLines()); n > 0 {
			back := key.Matches(msg, k.PrevDep)
			switch {
			case d.dep < 0 && back:
				d.dep = n - 1
			case d.dep < 0:
				d.dep = 0
			case back:
				d.dep = (d.dep + n - 1) % n
			default:
				d.dep = (d.dep + 1) % n
			}
			d.render()
			d.showDep()
		}
	case key.Matches(msg, k.Jump):
		return d.jump()
	case key.Matches(msg, k.Reveal):
		d.revealed = !d.revealed
		d.render()
	case key.Matches(msg, k.Hex) && d.raw != nil:
		d.hex = !d.hex
		d.render()
	case key.Matches(msg, k.CopyID):
		return copyCmd(d.entry.ID, "resource ID")
	case key.Matches(msg, k.CopyValues):
		if d.state != nil {
			return copyCmd(valuesJSON(d.shown()), "outputs and config"+maskedNote(!d.revealed))
		}
	case key.Matches(msg, k.Diff):
		return d.env.router.openDiff(d.entry, d.state)
	case key.Matches(msg, k.Refresh):
		return d.env.retry(d.err, d.load)
	case key.Matches(msg, k.Backups):
		return d.env.router.push(newBackupsView(d.env, d.entry.ID))
	case keymap.Pressed(msg, k.SetStatus):
		return d.setStatus()
	case keymap.Pressed(msg, k.Edit):
		return d.startEdit(true)
	case keymap.Pressed(msg, k.Delete):
		return d.env.openDelete(d.entry.ID, k.Delete)
	case keymap.Pressed(msg, k.Recover):
		return d.startRecover()
	}
	return nil
}

// setStatus opens the status picker on a readable record.
func (d *detailView) setStatus() tea.Cmd {
	if refused := d.env.refuse("set status", d.keys.SetStatus); refused != nil {
		return refused
	}
	if d.state == nil || d.entry.Corrupt() {
		return showStatus(d.entry.ID+" is not readable: edit its text (e), restore a backup (b) or delete it", true)
	}
	return d.env.router.push(newStatusView(d.env, d.state))
}

// copyCmd copies text to the clipboard with OSC 52 and says so.
func copyCmd(text, what string) tea.Cmd {
	return tea.Batch(tea.SetClipboard(text), showStatus("copied "+what+" to the clipboard (OSC 52)", false))
}

func maskedNote(masked bool) string {
	if masked {
		return ", secrets masked"
	}
	return ""
}

// shown is the record as displayed: masked unless revealed in this view.
func (d *detailView) shown() *stores.State {
	if d.revealed {
		return d.state
	}
	return redact.State(d.state)
}

func valuesJSON(s *stores.State) string {
	return prettyJSON(map[string]any{"outputs": s.Outputs, "config": s.Config})
}

func prettyJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("(cannot encode: %v)", err)
	}
	return strings.TrimRight(b.String(), "\n")
}

func (d *detailView) render() {
	st := d.env.styles
	var b strings.Builder
	row := func(label, value string) {
		b.WriteString(st.Dim.Render(padRight(label, 14)) + value + "\n")
	}
	now := d.env.now()
	switch {
	case d.loading && d.state == nil && !d.entry.Corrupt():
		b.WriteString(st.Dim.Render("loading " + d.entry.ID + "…"))
	case d.err != nil:
		b.WriteString(loadFailed(st, "load failed", d.err, d.width))
	case d.gone:
		b.WriteString(st.Warn.Render("there is no record " + d.entry.ID + " in this store"))
	case d.entry.Corrupt():
		row("resource", d.entry.ID)
		row("source", d.entry.Source)
		b.WriteString("\n" + st.Box.Render(st.Error.Render("CORRUPT RECORD")+"\n"+wrap(d.entry.Problem, d.width-6)) + "\n")
		d.writeLock(&b, row, now)
		d.writeRaw(&b)
	case d.state != nil:
		s := d.shown()
		row("resource", st.Bold.Render(s.ResourceID))
		row("type", dash(s.ResourceType))
		row("provider", dash(s.Provider))
		row("provider_ref", dash(s.ProviderRef))
		row("provider_id", dash(s.ProviderID))
		status := st.StatusStyle(s.Status).Render(dash(s.Status))
		if s.IsStuck(now, d.env.opts.StaleAfter) {
			status += st.Error.Render(fmt.Sprintf("  stuck: %s for %s", s.Status, stores.RelativeAge(s.UpdatedAt, now)))
		}
		row("status", status)
		row("created", timeCell(s.CreatedAt, now))
		row("updated", timeCell(s.UpdatedAt, now))
		row("config_hash", dash(s.ConfigHash))
		if d.entry.Source != "" {
			row("source", d.entry.Source)
		}
		d.writeLock(&b, row, now)
		if s.Error != "" {
			b.WriteString("\n" + st.Box.Render(st.Error.Render("ERROR")+"\n"+wrap(redact.Text(s.Error), d.width-6)) + "\n")
		}
		for _, l := range d.env.session.Limitations {
			b.WriteString(st.Warn.Render("note: "+l) + "\n")
		}
		d.writeDeps(&b)
		masked := redact.Count(d.state)
		title := "outputs & config"
		switch {
		case masked > 0 && !d.revealed:
			title += st.Warn.Render(fmt.Sprintf("  (%d secret-looking values masked — x reveals)", masked))
		case masked > 0:
			title += st.Error.Render("  (secrets REVEALED — x masks)")
		}
		b.WriteString("\n" + st.Title.Render(title) + "\n")
		b.WriteString(prettyJSON(map[string]any{"outputs": s.Outputs, "config": s.Config}))
		if len(s.Unknown) > 0 {
			b.WriteString("\n\n" + st.Title.Render("fields statescope does not know") + st.Dim.Render("  (kept as stored on every write)") + "\n")
			b.WriteString(prettyJSON(redact.FieldValues(s.Unknown)))
		}
	}
	d.pane.setContent(b.String())
}

// writeRaw shows a corrupt record's stored bytes, or why they cannot be
// shown (nor edited).
func (d *detailView) writeRaw(b *strings.Builder) {
	st := d.env.styles
	switch {
	case d.raw != nil:
		b.WriteString("\n" + d.raw.header(st, d.hex, d.revealed, d.keys.Hex.Help().Key, d.keys.Reveal.Help().Key, d.keys.Edit.Help().Key) + "\n")
		b.WriteString(d.raw.render(st, d.hex, d.revealed))
	case d.rawWhy != nil:
		b.WriteString("\n" + st.Warn.Render(wrap("no stored bytes to show or edit: "+redact.Text(d.rawWhy.Error()), d.width)) + "\n")
	}
}

func (d *detailView) writeLock(b *strings.Builder, row func(string, string), now time.Time) {
	st := d.env.styles
	if d.lock == nil && d.lockWhy != nil {
		row("lock", st.Warn.Render("?")+st.Dim.Render("  unknown: "+redact.Text(d.lockWhy.Error())))
		return
	}
	if d.lock == nil {
		row("lock", st.Dim.Render("not locked"))
		return
	}
	l := d.lock
	row("lock", st.VerdictStyle(l.Verdict).Render(string(l.Verdict))+fmt.Sprintf("  held %s by %s", lockAge(*l, now), dash(l.Holder.String())))
	row("lock evidence", redact.Text(l.Evidence))
}

func timeCell(ts string, now time.Time) string {
	if ts == "" {
		return "-"
	}
	return ts + "  (" + stores.RelativeAge(ts, now) + " ago)"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func wrap(s string, w int) string {
	return ansi.Wordwrap(s, max(w, 20), " /")
}

func (d *detailView) Render() string { return d.pane.view(d.env.styles) }

// Paste goes to the search being typed.
func (d *detailView) Paste(text string) tea.Cmd {
	d.pane.paste(text)
	return nil
}
