package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"statescope/keymap"
)

// typedConfirm asks for a resource ID to be typed back before a drastic
// action (force release, deleting a record others depend on), or for an
// explicit answer such as "yes".
type typedConfirm struct {
	want     string
	in       input
	hint     string // shown after a wrong entry
	mismatch bool
}

func newTypedConfirm(want string) *typedConfirm {
	return newTypedAnswer("type the resource ID to confirm: ", want, "the typed ID does not match "+want)
}

func newTypedAnswer(prompt, want, hint string) *typedConfirm {
	return &typedConfirm{want: want, in: input{prompt: prompt}, hint: hint}
}

// key edits the text; on accept it reports whether the text matched, on
// cancel that the user backed out.
func (c *typedConfirm) key(msg tea.KeyPressMsg, k keymap.Input) (accepted, cancelled bool) {
	switch {
	case key.Matches(msg, k.Cancel):
		return false, true
	case key.Matches(msg, k.Accept):
		c.mismatch = c.in.Value() != c.want
		return !c.mismatch, false
	}
	c.in.Update(msg)
	c.mismatch = false
	return false, false
}

func (c *typedConfirm) paste(text string) {
	c.in.Paste(text)
	c.mismatch = false
}

// view is the field and, after a wrong entry, why nothing happened.
func (c *typedConfirm) view(st Styles) string {
	s := c.in.View(st.Key) + "\n"
	if c.mismatch {
		s += st.Error.Render(c.hint) + "\n"
	}
	return s
}
