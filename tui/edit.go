package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"

	tea "charm.land/bubbletea/v2"

	"statescope/stores"
	"statescope/stores/repair"
	"statescope/stores/repair/editor"
)

// editRun is the engine's editor loop as a command the program runs with
// the terminal handed over (tea.Exec): invalid saves reopen the editor
// with the error on top, and the loop ends with a valid record or none.
type editRun struct {
	ctx         context.Context
	eng         *repair.Engine
	editor      string
	seen        repair.Observed
	in          io.Reader
	out, errOut io.Writer
	edited      *stores.State
}

func (r *editRun) SetStdin(in io.Reader)   { r.in = in }
func (r *editRun) SetStdout(out io.Writer) { r.out = out }
func (r *editRun) SetStderr(w io.Writer)   { r.errOut = w }

func (r *editRun) Run() error {
	var err error
	r.edited, err = r.eng.EditRecord(r.ctx, r.editor, r.in, r.out, r.errOut, r.seen)
	return err
}

// observedMsg is the record as read just before it is edited.
type observedMsg struct {
	seen repair.Observed
	err  error
	// onScreen: edited from the detail view, which must be showing it as read.
	onScreen bool
}

// editedMsg is what the editor loop returned.
type editedMsg struct {
	seen   repair.Observed
	edited *stores.State
	err    error
}

// startEdit reads the record afresh with its version: that read is what
// the edit is checked against when it is applied. A corrupt record is
// edited as the text of its stored bytes; onScreen: they must be the ones
// the view shows (the editor shows them otherwise, as from a finding).
func (d *detailView) startEdit(onScreen bool) tea.Cmd {
	if refused := d.env.refuse("edit", d.keys.Edit); refused != nil {
		return refused
	}
	ctx, eng, id := d.ctx, d.env.repair, d.entry.ID
	return d.tag(func() tea.Msg {
		seen, err := eng.ObserveEdit(ctx, id)
		return observedMsg{seen: seen, err: err, onScreen: onScreen}
	})
}

// openEditor suspends the UI and runs the editor on the record. A
// corrupt record's bytes must be the ones on screen: otherwise the
// operator would fix text they have not seen.
func (d *detailView) openEditor(msg observedMsg) tea.Cmd {
	if msg.err != nil {
		return showStatus("cannot edit: "+msg.err.Error(), true)
	}
	if corrupt := msg.seen.Corrupt != ""; msg.onScreen && (corrupt != d.entry.Corrupt() || corrupt && (d.raw == nil || !bytes.Equal(d.raw.raw, msg.seen.Raw))) {
		return tea.Batch(showStatus(d.entry.ID+" changed since it was shown; it is shown again as it is now — look, then e edits it", true), d.load())
	}
	run := &editRun{ctx: d.env.ctx, eng: d.env.repair, editor: editor.FromEnv(), seen: msg.seen}
	to := d.id
	return d.env.exec(run, func(err error) tea.Msg {
		return tagged{to: to, msg: editedMsg{seen: msg.seen, edited: run.edited, err: err}}
	})
}

// edited opens the confirmation of the edit, or says why there is none.
func (d *detailView) edited(msg editedMsg) tea.Cmd {
	switch {
	case errors.Is(msg.err, editor.ErrCancelled):
		return showStatus("edit cancelled; nothing was changed", false)
	case msg.err != nil:
		return showStatus(editFailure(msg.err), true)
	}
	pv := newPlanView(d.env, repair.ActionEdit, msg.seen.ID, func(_ context.Context, eng *repair.Engine, _ bool) (*repair.Plan, error) {
		return eng.PlanEdit(msg.seen, msg.edited)
	})
	pv.kept, _ = stores.EncodeState(msg.edited)
	return d.env.router.push(pv)
}

// editFailure puts the file that keeps the user's text first, so a long
// reason cut off at the screen's edge never hides where the text is.
func editFailure(err error) string {
	reason, path, kept := strings.Cut(err.Error(), "; your text is kept in ")
	if !kept {
		return "edit: " + err.Error()
	}
	path, _, _ = strings.Cut(path, "; ")
	return "your text is kept in " + path + " — " + reason
}
