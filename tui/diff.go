package tui

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"statescope/keymap"
	"statescope/stores"
	"statescope/stores/recorddiff"
	"statescope/tui/grid"
	"statescope/tui/jsondiff"
)

// source is what the record is compared with.
type source int

const (
	fromResource source = iota // another record in this store
	fromContext                // the same record in a config context
	fromTarget                 // the same record in a typed store target
	fromFile                   // a record JSON file
)

var sourceNames = []string{"another resource", "a context", "a store target", "a JSON file"}

// openDiff opens the diff view for a listed record; this is the record
// when it is already read (nil: the first comparison reads it).
func (m *Model) openDiff(r stores.Row, this *stores.State) tea.Cmd {
	if r.Corrupt() {
		m.setStatus(r.ID+" is corrupt: nothing to compare", true)
		return nil
	}
	return m.push(newDiffView(m.env, r.ID, this))
}

// diffView compares a record's outputs and config with another record:
// picked from a fuzzy list, from another store or context, or a file.
type diffView struct {
	scope
	env  *env
	keys keymap.Diff
	pane pane

	id   string
	this *stores.State // read with the first comparison when not given

	picking bool
	kind    source
	in      input
	choices *grid.Model[string] // resource IDs or context names
	listing bool

	loading bool
	err     error
	other   *stores.State
	// label names the source compared with (or being read, or that
	// failed); only is what the comparison covers.
	label    string
	only     recorddiff.Sections
	changes  []jsondiff.Change
	text     bool
	revealed bool

	// tabs are the columns each source tab of the picker spans, for clicks.
	tabs [][2]int
}

func newDiffView(e *env, id string, this *stores.State) *diffView {
	d := &diffView{env: e, keys: e.keys.Diff, id: id, this: this, pane: newPane(), picking: true, in: input{prompt: "> "}}
	d.choices = grid.New([]grid.Column[string]{{Title: "RESOURCE", Flex: true, Text: func(s string) string { return s }}},
		func(s string) string { return s }, func(s string) []string { return []string{s} }, e.styles.Grid)
	return d
}

func (d *diffView) Title() string     { return "diff" }
func (d *diffView) Keys() help.KeyMap { return d.keys }
func (d *diffView) Capturing() bool   { return d.picking || d.pane.capturing() }

// TypingHelp: the source picker also moves to the next kind of source.
func (d *diffView) TypingHelp() []key.Binding {
	k := d.env.keys.Input
	if d.picking {
		return []key.Binding{k.Accept, k.Cancel, k.Complete}
	}
	return k.ShortHelp()
}
func (d *diffView) Busy() bool { return d.loading || d.listing }
func (d *diffView) Leave()     {}

func (d *diffView) Enter() tea.Cmd {
	if against := d.env.opts.Against; against != "" {
		d.picking = false
		if slices.Contains(d.env.opts.Contexts, against) {
			return d.compare(fromContext, against)
		}
		return d.compare(fromTarget, against)
	}
	return d.pick(fromResource)
}

func (d *diffView) SetSize(w, h int) {
	d.scope.SetSize(w, h)
	d.pane.setSize(w, max(h-2, 2))
	d.choices.SetSize(w, max(h-4, 2))
	d.render()
}

// pick shows the chooser for a kind of source; the resource list is
// streamed from the store under this view's context.
func (d *diffView) pick(kind source) tea.Cmd {
	d.picking, d.kind, d.err = true, kind, nil
	d.in.SetValue("")
	d.choices.SetQuery("")
	switch kind {
	case fromResource:
		ctx, gen := d.begin()
		d.listing = true
		d.choices.SetItems(nil)
		return d.tag(streamRows(ctx, gen, d.env.session.Store, nil))
	case fromContext:
		d.choices.SetItems(d.env.opts.Contexts)
	}
	return nil
}

// otherMsg is the record to compare with and this view's record, or why
// either could not be read.
type otherMsg struct {
	gen   int
	this  *stores.State
	state *stores.State
	only  recorddiff.Sections
	err   error
}

// compare loads the other record under this view's context.
func (d *diffView) compare(kind source, what string) tea.Cmd {
	ctx, gen := d.begin()
	// What is on screen now is for the previous source: the header names
	// the new one from here on, whatever the outcome.
	d.picking, d.kind, d.loading, d.err, d.listing = false, kind, true, nil, false
	d.other, d.changes, d.only = nil, nil, nil
	id, this, store, opts, hostKeys := d.id, d.this, d.env.session.Store, d.env.opts, d.env.opts.HostKeys
	switch kind {
	case fromContext:
		d.label = id + " @ " + what
	case fromTarget:
		d.label = id + " @ " + stores.RedactTarget(what)
	default:
		d.label = what
	}
	d.render()
	load := func() (*stores.State, recorddiff.Sections, error) {
		switch kind {
		case fromResource:
			s, err := store.Get(ctx, what)
			return s, nil, err
		case fromContext:
			if opts.OpenContext == nil {
				return nil, nil, fmt.Errorf("no contexts are configured")
			}
			sess, err := opening(hostKeys, ctx, func(ctx context.Context) (Session, error) { return opts.OpenContext(ctx, what) })
			if err != nil {
				return nil, nil, err
			}
			defer stores.Close(sess.Store)
			s, err := sess.Store.Get(ctx, id)
			return s, nil, err
		case fromTarget:
			if opts.OpenTarget == nil {
				return nil, nil, fmt.Errorf("opening store targets is not available")
			}
			other, err := opening(hostKeys, ctx, func(ctx context.Context) (stores.Store, error) { return opts.OpenTarget(ctx, what) })
			if err != nil {
				return nil, nil, err
			}
			defer stores.Close(other)
			s, err := other.Get(ctx, id)
			return s, nil, err
		default:
			raw, err := os.ReadFile(what)
			if err != nil {
				return nil, nil, err
			}
			return recorddiff.DecodeCompared(raw)
		}
	}
	return d.tag(func() tea.Msg {
		if this == nil {
			// Opened from the table, which holds no records: read it now.
			var err error
			if this, err = store.Get(ctx, id); err != nil {
				return otherMsg{gen: gen, err: err}
			}
		}
		s, only, err := load()
		return otherMsg{gen: gen, this: this, state: s, only: only, err: err}
	})
}

func (d *diffView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case rowsMsg:
		if !d.current(msg.gen) {
			return nil
		}
		ids := make([]string, 0, len(msg.rows))
		for _, r := range msg.rows {
			if r.ID != d.id && !r.Corrupt() {
				ids = append(ids, r.ID)
			}
		}
		d.choices.Append(ids)
		if msg.done {
			d.listing, d.err = false, quiet(msg.err)
			return nil
		}
		return d.tag(msg.next)
	case grid.FilterMsg:
		return d.tag(d.choices.Apply(msg))
	case otherMsg:
		if !d.current(msg.gen) {
			return nil
		}
		d.loading = false
		if d.err = quiet(msg.err); d.err == nil {
			d.this, d.other, d.only = msg.this, msg.state, msg.only
			d.changes, d.err = recorddiff.Compare(d.this, d.other, d.only)
		}
		d.render()
	case tea.MouseWheelMsg:
		if d.picking {
			d.choices.Move(wheelDelta(msg))
			return nil
		}
		return d.pane.wheel(msg)
	case clickMsg:
		return d.click(msg)
	case tea.KeyPressMsg:
		if d.picking {
			return d.pickKey(msg)
		}
		return d.key(msg)
	}
	return nil
}

// click picks a source tab or a row of the picker.
func (d *diffView) click(msg clickMsg) tea.Cmd {
	if !d.picking {
		return nil
	}
	if msg.y == 0 {
		for i, span := range d.tabs {
			if msg.x >= span[0] && msg.x < span[1] {
				return d.pick(source(i))
			}
		}
		return nil
	}
	d.choices.Click(msg.y - 2) // under the tabs and the text field
	return nil
}

// Paste goes to the picker's text field (a target or file path), or the
// search being typed.
func (d *diffView) Paste(text string) tea.Cmd {
	if d.pane.capturing() {
		d.pane.paste(text)
		return nil
	}
	d.in.Paste(text)
	if d.kind == fromResource || d.kind == fromContext {
		return d.tag(d.choices.SetQuery(d.in.Value()))
	}
	return nil
}

func (d *diffView) pickKey(msg tea.KeyPressMsg) tea.Cmd {
	k := d.env.keys.Input
	switch {
	case key.Matches(msg, k.Cancel):
		if d.other != nil || d.err != nil {
			d.picking = false // back to the comparison on screen
			return nil
		}
		return d.env.router.pop()
	case key.Matches(msg, k.Complete):
		return d.pick((d.kind + 1) % source(len(sourceNames)))
	case key.Matches(msg, k.Accept):
		switch d.kind {
		case fromResource, fromContext:
			if choice, ok := d.choices.Selected(); ok {
				return d.compare(d.kind, choice)
			}
		default:
			if v := strings.TrimSpace(d.in.Value()); v != "" {
				return d.compare(d.kind, v)
			}
		}
		return nil
	case key.Matches(msg, k.Up):
		d.choices.Move(-1)
		return nil
	case key.Matches(msg, k.Down):
		d.choices.Move(1)
		return nil
	}
	if d.in.Update(msg) && (d.kind == fromResource || d.kind == fromContext) {
		return d.tag(d.choices.SetQuery(d.in.Value()))
	}
	return nil
}

func (d *diffView) key(msg tea.KeyPressMsg) tea.Cmd {
	k := d.keys
	switch {
	case d.pane.key(msg, k.Pane, d.env.keys.Input):
	case key.Matches(msg, k.Mode):
		d.text = !d.text
		d.render()
	case key.Matches(msg, k.Reveal):
		d.revealed = !d.revealed
		d.render()
	case key.Matches(msg, k.Source):
		return d.pick(d.kind)
	}
	return nil
}

func (d *diffView) render() {
	st := d.env.styles
	var content string
	switch {
	case d.err != nil:
		content = st.Error.Render("cannot compare: "+d.err.Error()) + st.Dim.Render("  — tab picks another source")
	case d.other == nil:
		content = ""
	case d.text:
		a, b := textDocs(d.this, d.other, d.only, d.revealed)
		thisName := d.id + " (" + d.env.session.Name + ")"
		if d.width >= sideBySideMin {
			content = renderSideBySide(st, thisName, d.label, a, b, d.width)
		} else {
			content = renderUnified(st, thisName, d.label, a, b)
		}
		if hidden := d.hiddenChanges(); hidden > 0 {
			content = st.Warn.Render(fmt.Sprintf("%d differences are inside masked values — x reveals", hidden)) + "\n" + content
		}
	default:
		content = renderStructural(st, d.changes, d.only, d.revealed, d.width)
	}
	d.pane.setContent(content)
}

// hiddenChanges counts differences the masked text diff cannot show.
func (d *diffView) hiddenChanges() int {
	if d.revealed {
		return 0
	}
	n := 0
	for _, c := range d.changes {
		if recorddiff.Masked(c) {
			n++
		}
	}
	return n
}

func (d *diffView) Render() string {
	st := d.env.styles
	if d.picking {
		return d.renderPicker()
	}
	mode := "structural"
	if d.text {
		mode = "text"
	}
	head := st.Bold.Render(d.id) + st.Dim.Render(" ("+d.env.session.Name+")  ↔  ")
	head += st.Bold.Render(d.label)
	switch {
	case d.loading:
		head += st.Dim.Render("  loading…")
	case d.err != nil:
		head += st.Error.Render("  (not compared)")
	}
	sub := st.Dim.Render(d.only.String() + " · " + mode + " (u switches) · ")
	if d.revealed {
		sub += st.Error.Render("secrets REVEALED")
	} else {
		sub += st.Dim.Render("secrets masked (x reveals)")
	}
	return head + "\n" + sub + "\n" + d.pane.view(st)
}

func (d *diffView) renderPicker() string {
	st := d.env.styles
	var tabs []string
	lead := "compare " + st.Bold.Render(d.id) + " with:  "
	x := ansi.StringWidth(lead)
	d.tabs = d.tabs[:0]
	for i, n := range sourceNames {
		label := " " + n + " "
		d.tabs = append(d.tabs, [2]int{x, x + ansi.StringWidth(label)})
		x += ansi.StringWidth(label) + 1
		if source(i) == d.kind {
			tabs = append(tabs, st.Selected.Render(label))
		} else {
			tabs = append(tabs, st.Dim.Render(label))
		}
	}
	var b strings.Builder
	b.WriteString(lead + strings.Join(tabs, " ") + st.Dim.Render("   (tab switches, or click)") + "\n")
	switch d.kind {
	case fromResource, fromContext:
		b.WriteString(d.in.View(st.Key) + st.Dim.Render(fmt.Sprintf("   %d of %d · ↑/↓ select · enter compares", d.choices.Visible(), d.choices.Len())) + "\n")
		if d.kind == fromContext && d.choices.Len() == 0 {
			b.WriteString(st.Dim.Render("the config file defines no contexts"))
		} else {
			b.WriteString(d.choices.View())
		}
	case fromTarget:
		b.WriteString(d.in.View(st.Key) + "\n" + st.Dim.Render("a store target (a directory, file:///dir, s3://…); the same resource ID is read from it"))
	case fromFile:
		b.WriteString(d.in.View(st.Key) + "\n" + st.Dim.Render("the path of a JSON file holding one record"))
	}
	if d.err != nil {
		b.WriteString("\n" + st.Error.Render(d.err.Error()))
	}
	return b.String()
}
