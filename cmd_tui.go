package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/pflag"

	"statescope/stores"
	"statescope/stores/fleet"
	"statescope/stores/repair"
	"statescope/tui"
)

// tuiFlags are the root flags only the terminal UI reads.
type tuiFlags struct {
	against string
	refresh time.Duration
}

func (a *app) addTUIFlags(pf *pflag.FlagSet) {
	pf.StringVar(&a.tui.against, "against", "", "diff records against this store target or context (the TUI's diff view and the diff command)")
	pf.DurationVar(&a.tui.refresh, "refresh", 0, "TUI: reload the tables at this interval, e.g. 5s (default: the config's refresh, else off)")
}

// runTUI opens the terminal UI on the selected store.
func (a *app) runTUI(ctx context.Context) error {
	if !a.isTerminal() {
		return usageError{errors.New("the terminal UI needs a terminal; for scripts use `statescope list`, `show` or `locks`")}
	}
	members, _ := fleet.Select(a.cfg, nil)
	// Several contexts and none chosen: start on the fleet.
	startFleet := a.storeTarget == "" && a.contextName == "" && a.backend.infraPath == "" &&
		a.cfg.CurrentContext == "" && len(members) > 1
	var session tui.Session
	if !startFleet {
		target, name, ro, err := a.target()
		if err != nil {
			return err
		}
		session = tui.Session{Name: name, Target: repair.TargetName(target), ReadOnly: ro, Args: a.targetArgs(), Open: reopen(target, name, ro, a.targetArgs())}
	}
	refresh := a.tui.refresh
	if refresh == 0 {
		refresh = a.cfg.Refresh.Duration
	}
	// Without a state directory the UI still browses; repairs say why
	// they are off.
	stateDir, _ := repair.DefaultStateDir()
	// The UI opens the store itself, once it is up to ask about an unknown
	// SSH host key.
	hostKeys := tui.NewHostKeys()
	m, err := tui.New(ctx, tui.Options{
		Session:        session,
		Fleet:          members,
		StartFleet:     startFleet,
		Contexts:       a.cfg.Names(),
		ContextTargets: a.contextTargets(),
		OpenContext:    a.openContext,
		OpenTarget:     openForReading,
		Against:        a.tui.against,
		Refresh:        refresh,
		StaleAfter:     a.staleAfter,
		KeyOverrides:   a.cfg.Keys,
		Now:            a.now,
		StateDir:       stateDir,
		HostKeys:       hostKeys,
		NoMouse:        a.cfg.NoMouse,
	})
	if err != nil {
		return usageError{fmt.Errorf("config %s: %w", a.cfg.Path, err)}
	}
	defer m.Close()
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(a.in), tea.WithOutput(a.out))
	hostKeys.Attach(p.Send)
	a.hostKeys.Store(hostKeys)
	defer a.hostKeys.Store(nil)
	_, err = p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // interrupted by a signal: a normal way out
	}
	return err
}

// openSession opens a target, noting the backend's limitations before a
// read-only wrapper hides them.
func openSession(ctx context.Context, target, name string, readOnly bool, args []string) (tui.Session, error) {
	s, err := stores.Open(ctx, target)
	if err != nil {
		return tui.Session{}, err
	}
	sess := tui.Session{Store: s, Name: name, Target: repair.TargetName(target), ReadOnly: readOnly, Args: args, Open: reopen(target, name, readOnly, args)}
	if l, ok := s.(stores.Limiter); ok {
		sess.Limitations = l.Limitations()
	}
	if readOnly {
		sess.Store = stores.ReadOnly(s)
	}
	return sess, nil
}

// reopen opens the same target again: the UI's first connection, and its
// reconnection after the connection was lost.
func reopen(target, name string, readOnly bool, args []string) func(context.Context) (tui.Session, error) {
	return func(ctx context.Context) (tui.Session, error) { return openSession(ctx, target, name, readOnly, args) }
}

// contextTargets are the contexts' targets, credentials removed.
func (a *app) contextTargets() map[string]string {
	out := map[string]string{}
	for name, c := range a.cfg.Contexts {
		out[name] = stores.RedactTarget(c.Store)
	}
	return out
}

// openContext opens a config context for :ctx and diffs.
func (a *app) openContext(ctx context.Context, name string) (tui.Session, error) {
	name, c, err := a.cfg.Context(name)
	if err != nil {
		return tui.Session{}, err
	}
	return openSession(ctx, c.Store, name, a.readOnly || a.cfg.ReadOnly || c.ReadOnly, []string{"--context", name})
}

// openForReading opens a diff target; it is only ever read.
func openForReading(ctx context.Context, target string) (stores.Store, error) {
	return stores.OpenReadOnly(ctx, target)
}
