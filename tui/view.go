package tui

import (
	"context"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
)

// View is one screen on the router's stack. The router calls attach and
// Enter when it pushes a view and Leave when it pops or replaces it, and
// nowhere else; later actions (edit, delete, restore…) are just more Views.
type View interface {
	// Title is the view's breadcrumb.
	Title() string
	// Enter starts the view (its first loads); the view's context is live.
	Enter() tea.Cmd
	// Leave is called after the view's context has been cancelled.
	Leave()
	// Update handles keys, mouse and the view's own (tagged) messages.
	Update(msg tea.Msg) tea.Cmd
	// Render draws the view into its size.
	Render() string
	SetSize(w, h int)
	// Keys is the view's key map, for the help bar and the help screen.
	Keys() help.KeyMap
	// Capturing reports text entry in progress: global keys are off.
	Capturing() bool
	// Busy reports a load in progress (the router shows a spinner).
	Busy() bool
	base() *scope
}

// scope is what every view embeds: its identity on the stack, its context
// (derived from the app's, cancelled when it is left), and the generation
// and cancel function of its current load.
type scope struct {
	id     int
	ctx    context.Context
	cancel context.CancelFunc
	left   bool

	gen        int
	loadCancel context.CancelFunc

	width, height int
}

func (s *scope) base() *scope { return s }

// SetSize records the area the view renders into.
func (s *scope) SetSize(w, h int) { s.width, s.height = w, h }

// begin starts a new load: the previous one is cancelled, the new one gets
// a fresh context under the view's and the next generation.
func (s *scope) begin() (context.Context, int) {
	if s.loadCancel != nil {
		s.loadCancel()
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.loadCancel = cancel
	s.gen++
	return ctx, s.gen
}

// loaded is what one load of a view read, for the load tagged gen.
type loaded[T any] struct {
	gen   int
	value T
	err   error
}

// fetch runs read off the UI goroutine as a new load of the view s. The
// view takes the answer only when s.current(gen): a load superseded, or a
// view left, has its late answer dropped there.
func fetch[T any](s *scope, read func(context.Context) (T, error)) tea.Cmd {
	ctx, gen := s.begin()
	return s.tag(func() tea.Msg {
		v, err := read(ctx)
		return loaded[T]{gen: gen, value: v, err: err}
	})
}

// current reports whether a reply tagged gen belongs to the live load.
func (s *scope) current(gen int) bool { return !s.left && gen == s.gen }

// tagged is a reply addressed to one view; the router drops it when that
// view is no longer on the stack.
type tagged struct {
	to  int
	msg tea.Msg
}

// tag addresses a command's reply to this view.
func (s *scope) tag(cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	id := s.id
	return func() tea.Msg {
		msg := cmd()
		if msg == nil {
			return nil
		}
		return tagged{to: id, msg: msg}
	}
}
