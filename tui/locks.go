package tui

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"statescope/keymap"
	"statescope/stores"
	"statescope/stores/redact"
	"statescope/stores/shellcmd"
	"statescope/tui/grid"
)

// locksView is the lock inventory, orphaned first, with force release.
type locksView struct {
	scope
	env  *env
	keys keymap.Locks
	table[stores.LockInfo]

	loading     bool
	loaded      bool
	unsupported bool
	why         error // why there is no inventory, in the backend's words
	err         error

	confirm *confirmRelease
	unlock  *plainUnlock
}

func newLocksView(e *env) *locksView {
	st, now := &e.styles, e.now
	g := grid.New([]grid.Column[stores.LockInfo]{
		{Title: "RESOURCE", MaxWidth: 32, MinWidth: 16, Middle: true, Text: func(l stores.LockInfo) string { return l.ResourceID }},
		{Title: "AGE", Whole: true, Text: func(l stores.LockInfo) string { return lockAge(l, now()) },
			Compare: func(a, b stores.LockInfo) int { return a.AcquiredAt.Compare(b.AcquiredAt) }},
		{Title: "HOLDER", MaxWidth: 32, MinWidth: 12, Drop: 1, Text: func(l stores.LockInfo) string { return dash(l.Holder.String()) }},
		{Title: "VERDICT", Whole: true, Text: func(l stores.LockInfo) string { return string(l.Verdict) },
			Style:   func(l stores.LockInfo) *lipgloss.Style { return st.VerdictStyle(l.Verdict) },
			Compare: func(a, b stores.LockInfo) int { return cmp.Compare(verdictRank(a.Verdict), verdictRank(b.Verdict)) }},
		{Title: "EVIDENCE", Flex: true, MinWidth: 16, Text: func(l stores.LockInfo) string { return redact.Text(l.Evidence) }},
	}, func(l stores.LockInfo) string { return l.ResourceID }, func(l stores.LockInfo) []string {
		return []string{l.ResourceID, string(l.Verdict), l.Holder.String()}
	}, st.Grid)
	g.SortBy(3) // the most suspect first
	return &locksView{env: e, keys: e.keys.Locks, table: newTable(g, func(l stores.LockInfo) (string, string) { return l.ResourceID, "resource ID " + l.ResourceID })}
}

func (v *locksView) Title() string     { return "locks" }
func (v *locksView) Keys() help.KeyMap { return v.keys }
func (v *locksView) Capturing() bool   { return v.filter.typing || v.confirm != nil || v.unlock != nil }
func (v *locksView) Busy() bool        { return v.loading }
func (v *locksView) Leave()            {}
func (v *locksView) Enter() tea.Cmd    { return tea.Batch(v.load(), v.scheduleRefresh()) }

func (v *locksView) SetSize(w, h int) {
	v.scope.SetSize(w, h)
	v.grid.SetSize(w, max(h-2, 2))
}

func (v *locksView) scheduleRefresh() tea.Cmd {
	if d := v.env.opts.Refresh; d > 0 {
		return v.tag(tea.Tick(d, func(time.Time) tea.Msg { return refreshTickMsg{} }))
	}
	return nil
}

func (v *locksView) load() tea.Cmd {
	ctx, gen := v.begin()
	v.loading, v.err = true, nil
	return v.tag(loadLocks(ctx, gen, v.env.session.Store, v.env.now(), v.env.opts.StaleAfter))
}

// Paste goes to the confirmation or the filter being typed.
func (v *locksView) Paste(text string) tea.Cmd {
	if v.confirm != nil {
		v.confirm.typed.paste(text)
		return nil
	}
	if v.unlock != nil {
		v.unlock.paste(text)
		return nil
	}
	return v.tag(v.filter.paste(text, v.grid))
}

func (v *locksView) Update(msg tea.Msg) tea.Cmd {
	if press, ok := msg.(tea.KeyPressMsg); ok && v.confirm != nil {
		return v.confirmKey(press)
	}
	if press, ok := msg.(tea.KeyPressMsg); ok && v.unlock != nil {
		return v.unlockKey(press)
	}
	k := v.keys
	if cmd, ok := v.update(msg, v.env.keys.Input, tableKeys{Motion: k.Motion, Filter: k.Filter, Sort: k.Sort, Reverse: k.Reverse}); ok {
		return v.tag(cmd)
	}
	switch msg := msg.(type) {
	case locksMsg:
		if !v.current(msg.gen) {
			return nil
		}
		v.loading, v.loaded = false, true
		v.unsupported, v.why, v.err = msg.unsupported, msg.why, quiet(msg.err)
		if v.err == nil {
			return v.tag(v.grid.SetItems(msg.locks))
		}
	case refreshTickMsg:
		var cmd tea.Cmd
		if !v.loading && v.confirm == nil && v.unlock == nil {
			cmd = v.load()
		}
		return tea.Batch(cmd, v.scheduleRefresh())
	case storeChangedMsg:
		return v.load()
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Refresh):
			return v.env.retry(v.err, v.load)
		case key.Matches(msg, k.Open):
			if l, ok := v.grid.Selected(); ok {
				return v.env.router.push(newDetailView(v.env, stores.Row{ID: l.ResourceID}))
			}
		case key.Matches(msg, k.CopyID):
			return v.copyRow()
		case key.Matches(msg, k.CopyToken):
			if l, ok := v.grid.Selected(); ok {
				return copyCmd(l.Token, "the lock token of "+l.ResourceID)
			}
		case key.Matches(msg, k.CopyCommand):
			if l, ok := v.grid.Selected(); ok {
				return copyCmd(unlockLine(l, v.env.session.Args), "the unlock command for "+l.ResourceID+credentialsNote(v.env.session.Args))
			}
		case keymap.Pressed(msg, k.ForceUnlock):
			return v.startRelease()
		case keymap.Pressed(msg, k.Unlock):
			return v.startUnlock()
		}
	}
	return nil
}

// startRelease opens the confirmation, or says why it cannot.
func (v *locksView) startRelease() tea.Cmd {
	if refused := v.env.refuse("force release", v.keys.ForceUnlock); refused != nil {
		return refused
	}
	l, ok := v.grid.Selected()
	if !ok {
		return nil
	}
	var cmd tea.Cmd
	v.confirm, cmd = v.env.askRelease(l)
	return cmd
}

// askRelease is the force-release confirmation of l, or why there is none.
func (e *env) askRelease(l stores.LockInfo) (*confirmRelease, tea.Cmd) {
	if _, can := e.session.Store.(stores.ForceUnlocker); !can {
		return nil, showStatus("this store cannot force-release locks", true)
	}
	return &confirmRelease{lock: l, typed: newTypedConfirm(l.ResourceID)}, nil
}

func (v *locksView) confirmKey(msg tea.KeyPressMsg) tea.Cmd {
	return v.env.answerRelease(&v.confirm, msg)
}

// answerRelease passes a key to the confirmation *c and closes it once
// answered.
func (e *env) answerRelease(c **confirmRelease, msg tea.KeyPressMsg) tea.Cmd {
	l := (*c).lock
	switch accepted, cancelled := (*c).typed.key(msg, e.keys.Input); {
	case cancelled:
		*c = nil
		return showStatus("release cancelled; nothing changed", false)
	case accepted:
		*c = nil
		// The outcome goes to the router, which reports it and refreshes
		// every open view.
		return e.releaseLock(l)
	}
	return nil
}

func (v *locksView) Render() string {
	st := v.env.styles
	var b strings.Builder
	switch {
	case v.unlock != nil:
		b.WriteString(v.unlock.view(st, v.width))
	case v.unsupported && v.why != nil:
		b.WriteString(st.Warn.Render(wrap(v.why.Error(), v.width-2)) + "\n\n")
		if _, ok := unlockWarner(v.env.session.Store); ok {
			b.WriteString(st.Dim.Render("press " + v.keys.Unlock.Help().Key + " to unlock one resource ID with the backend's plain Unlock, after its warning"))
		}
	case v.unsupported:
		b.WriteString(st.Dim.Render("this store has no lock inventory"))
	case v.err != nil:
		b.WriteString(loadFailed(st, "lock inventory failed", v.err, v.width))
	case v.confirm != nil:
		b.WriteString(v.confirm.view(st, v.env.now(), v.width))
	case !v.loaded:
		b.WriteString(st.Dim.Render("reading the lock inventory…"))
	case v.grid.Len() == 0:
		b.WriteString(st.OK.Render("no locks") + st.Dim.Render(" — nothing is held in this store"))
	default:
		b.WriteString(v.summary() + "\n" + v.grid.View())
	}
	return fit(b.String(), v.width, v.height-1) + "\n" + v.footer(st)
}

func (v *locksView) summary() string {
	by := map[stores.Verdict]int{}
	for _, l := range v.grid.Items() {
		by[l.Verdict]++
	}
	var parts []string
	for _, verdict := range verdictOrder {
		if n := by[verdict]; n > 0 {
			parts = append(parts, v.env.styles.VerdictStyle(verdict).Render(fmt.Sprintf("%s %d", verdict, n)))
		}
	}
	return v.env.styles.Bold.Render(fmt.Sprintf("%d locks", v.grid.Len())) + "  " + strings.Join(parts, " · ")
}

// unlockLine is the exact CLI command that releases this lock instance,
// quoted for sh: tokens may hold quotes (S3) or | (Azure).
func unlockLine(l stores.LockInfo, storeArgs []string) string {
	return shellcmd.Line(append([]string{"unlock", l.ResourceID, "--token", l.Token}, storeArgs...)...)
}

// credentialsNote warns that a copied command names its store without the
// credentials the screen never shows.
func credentialsNote(storeArgs []string) string {
	for _, a := range storeArgs {
		if strings.Contains(a, "xxxxx") {
			return "; put the store's credentials back where it says xxxxx"
		}
	}
	return ""
}

// confirmRelease is the force-release dialog: it states exactly what will
// happen and needs the resource ID typed back.
type confirmRelease struct {
	lock  stores.LockInfo
	typed *typedConfirm
}

func (c *confirmRelease) view(st Styles, now time.Time, width int) string {
	l := c.lock
	var b strings.Builder
	box := min(width, 100)
	inner := box - 4 // border and padding
	row := func(label, value string) {
		b.WriteString(hanging(st.Dim.Render(padRight(label, 10)), value, 10, inner) + "\n")
	}
	b.WriteString(st.Error.Render("FORCE RELEASE LOCK") + "\n\n")
	row("resource", st.Bold.Render(l.ResourceID))
	row("action", st.Warn.Render(dash(l.Release)))
	row("token", dash(l.Token))
	row("age", lockAge(l, now))
	row("holder", dash(l.Holder.String()))
	row("verdict", st.VerdictStyle(l.Verdict).Render(string(l.Verdict)))
	row("evidence", redact.Text(l.Evidence))
	row("source", dash(l.Source))
	if l.Verdict == stores.VerdictHeld {
		b.WriteString("\n" + st.Error.Render("Not known to be abandoned: its operation may still be running, and releasing lets a second writer in.") + "\n")
	}
	b.WriteString("\n" + wrap("Only this exact lock (token "+dash(l.Token)+") is released; if it changed meanwhile, nothing happens.", inner) + "\n")
	b.WriteString(wrap("Records are not touched; the lock is backed up and the release audited.", inner) + "\n\n")
	b.WriteString(c.typed.view(st))
	b.WriteString(st.Dim.Render("enter releases · esc cancels"))
	return st.Box.Width(box).Render(b.String())
}

// hanging is label then value wrapped to width, its later lines indented
// under the value's first.
func hanging(label, value string, indent, width int) string {
	lines := strings.Split(ansi.Wordwrap(value, max(width-indent, 10), " /,;"), "\n")
	return label + strings.Join(lines, "\n"+strings.Repeat(" ", indent))
}
