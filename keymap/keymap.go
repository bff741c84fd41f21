// Package keymap holds statescope's key bindings: a global set and one set
// per view, each usable as a Bubbles help.KeyMap, with overrides from the
// config file's keys map ("view.action": [keys…]).
package keymap

import (
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
)

// Global bindings work in every view that is not capturing text.
type Global struct {
	Quit     key.Binding
	Back     key.Binding
	Help     key.Binding
	Command  key.Binding
	Locks    key.Binding
	Resource key.Binding
	// Message shows the latest status line in full.
	Message key.Binding
	// Mouse turns mouse capture off and on.
	Mouse key.Binding
}

// Motion moves through a table or scrolls a pane; every list and pane
// view embeds it, so they all move the same way.
type Motion struct {
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
}

// Bindings lists the motion keys, for help.
func (m Motion) Bindings() []key.Binding {
	return []key.Binding{m.Up, m.Down, m.Top, m.Bottom, m.PageUp, m.PageDown}
}

// Pane scrolls a text pane (detail, diff): motion, sideways for long
// lines, and / search with n/N between matches.
type Pane struct {
	Motion
	Left, Right, Search, NextMatch, PrevMatch key.Binding
}

// Bindings lists the pane keys, for help.
func (p Pane) Bindings() []key.Binding {
	return append(p.Motion.Bindings(), p.Left, p.Right, p.Search, p.NextMatch, p.PrevMatch)
}

// Resources is the home table.
type Resources struct {
	Motion
	Open, Diff, Filter, Sort, Reverse key.Binding
	Refresh, Delete, CopyID           key.Binding
	// Backups opens the store's backups, deleted records' included.
	Backups key.Binding
	// Recover releases a stuck record's orphaned lock, then sets its status.
	Recover key.Binding
}

// Detail is one record.
type Detail struct {
	Pane
	NextDep, PrevDep, Jump           key.Binding
	Reveal, CopyID, CopyValues, Diff key.Binding
	Refresh                          key.Binding
	SetStatus, Edit, Delete, Backups key.Binding
	Tree                             key.Binding
	// Hex switches a corrupt record's stored bytes between text and hex.
	Hex key.Binding
	// Recover releases a stuck record's orphaned lock, then sets its status.
	Recover key.Binding
}

// Diff compares two records.
type Diff struct {
	Pane
	Mode, Reveal, Source key.Binding
}

// Locks is the lock inventory.
type Locks struct {
	Motion
	Filter, Sort, Reverse, Refresh, Open key.Binding
	ForceUnlock                          key.Binding
	// CopyID, CopyToken and CopyCommand copy the lock's resource ID, its
	// token and the exact `statescope unlock ID --token T` line.
	CopyID, CopyToken, CopyCommand key.Binding
	// Unlock is the backend's plain Unlock of a typed resource ID, for
	// remote backends without the lock inventory.
	Unlock key.Binding
}

// Connect is the screen shown while a store is opened (or reopened).
type Connect struct {
	Retry key.Binding
}

// Backups lists one record's backups.
type Backups struct {
	Motion
	Restore, Filter, Refresh, CopyPath key.Binding
}

// Audit is the audit log table.
type Audit struct {
	Motion
	Filter, Sort, Reverse, Refresh, CopyID, Open key.Binding
}

// Messages is the session's status lines (:messages).
type Messages struct {
	Motion
	Filter, Open, Copy key.Binding
}

// Contexts is the :ctx picker.
type Contexts struct {
	Motion
	Filter, Switch key.Binding
}

// Confirm is the dialog that shows a planned repair's diff.
type Confirm struct {
	Up, Down, Apply, Cancel, Reveal, Force key.Binding
}

// Input applies while typing (filter, command bar, confirmations, the diff
// picker): letters are text, so only these keys act.
type Input struct {
	Accept, Cancel, Complete, Up, Down key.Binding
}

// Help is the help screen.
type Help struct {
	Up, Down key.Binding
}

// Keymap is every set.
type Keymap struct {
	Global    Global
	Resources Resources
	Detail    Detail
	Diff      Diff
	Locks     Locks
	Backups   Backups
	Audit     Audit
	Messages  Messages
	Contexts  Contexts
	Confirm   Confirm
	Connect   Connect
	Help      Help
	Input     Input
	Fleet     Fleet
	Findings  Findings
	Tree      Tree
	// ReadOnly is set when mutating bindings are disabled.
	ReadOnly bool

	// StoreBackups is every record's backups (:backups).
	StoreBackups StoreBackups
}

func bind(help string, desc string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
}

// Shared motion bindings: arrows and vim keys both work.
func up() key.Binding       { return bind("↑/k", "up", "up", "k") }
func down() key.Binding     { return bind("↓/j", "down", "down", "j") }
func top() key.Binding      { return bind("g/home", "top", "g", "home") }
func bottom() key.Binding   { return bind("G/end", "bottom", "G", "end") }
func pageUp() key.Binding   { return bind("pgup/ctrl+b", "page up", "pgup", "ctrl+b") }
func pageDown() key.Binding { return bind("pgdn/ctrl+f", "page down", "pgdown", "ctrl+f") }

func defaultMotion() Motion {
	return Motion{Up: up(), Down: down(), Top: top(), Bottom: bottom(), PageUp: pageUp(), PageDown: pageDown()}
}

func defaultPane() Pane {
	return Pane{Motion: defaultMotion(),
		Left: bind("←/h", "scroll left", "left", "h"), Right: bind("→/l", "scroll right", "right", "l"),
		Search: bind("/", "search", "/"), NextMatch: bind("n", "next match", "n"), PrevMatch: bind("N", "previous match", "N")}
}

// detailPane is the detail view's pane: g opens the dependency tree
// there, so home alone goes to the top.
func detailPane() Pane {
	p := defaultPane()
	p.Top = bind("home", "top", "home")
	return p
}

func recoverKey() key.Binding { return bind("u", "recover stuck record", "u") }

// Default returns the built-in bindings.
func Default() *Keymap {
	return &Keymap{
		Global: Global{
			Quit:     bind("q", "quit", "q", "ctrl+c"),
			Back:     bind("esc", "back", "esc"),
			Help:     bind("?", "help", "?"),
			Command:  bind(":", "command", ":"),
			Locks:    bind("L", "locks", "L"),
			Resource: bind("R", "resources", "R"),
			Message:  bind("!", "last message in full", "!"),
			Mouse:    bind("M", "mouse capture on/off", "M"),
		},
		Resources: Resources{
			Motion:  defaultMotion(),
			Open:    bind("enter", "detail", "enter"),
			Diff:    bind("d", "diff", "d"),
			Filter:  bind("/", "filter", "/"),
			Sort:    bind("s", "sort column", "s"),
			Reverse: bind("S", "reverse sort", "S"),
			Refresh: bind("r", "refresh", "r", "ctrl+r"),
			Delete:  bind("ctrl+d", "delete", "ctrl+d"),
			CopyID:  bind("y", "copy ID", "y"),
			Backups: bind("b", "backups, deleted records too", "b"),
			Recover: recoverKey(),
		},
		Detail: Detail{
			Pane:       detailPane(),
			Tree:       bind("g", "dependency tree", "g"),
			NextDep:    bind("tab", "next linked record", "tab"),
			PrevDep:    bind("shift+tab", "previous linked record", "shift+tab"),
			Jump:       bind("enter", "open selected record", "enter"),
			Reveal:     bind("x", "reveal/mask secrets", "x"),
			CopyID:     bind("y", "copy ID", "y"),
			CopyValues: bind("c", "copy outputs+config", "c"),
			Diff:       bind("d", "diff", "d"),
			Refresh:    bind("r", "reload", "r", "ctrl+r"),
			SetStatus:  bind("S", "set status", "S"),
			Edit:       bind("e", "edit", "e"),
			Delete:     bind("ctrl+d", "delete", "ctrl+d"),
			Backups:    bind("b", "backups", "b"),
			Hex:        bind("H", "raw bytes as hex/text", "H"),
			Recover:    recoverKey(),
		},
		Diff: Diff{
			Pane:   defaultPane(),
			Mode:   bind("u", "structural/text", "u"),
			Reveal: bind("x", "reveal/mask secrets", "x"),
			Source: bind("tab", "compare with…", "tab"),
		},
		Locks: Locks{
			Motion:      defaultMotion(),
			Filter:      bind("/", "filter", "/"),
			Sort:        bind("s", "sort column", "s"),
			Reverse:     bind("S", "reverse sort", "S"),
			Refresh:     bind("r", "refresh", "r", "ctrl+r"),
			Open:        bind("enter", "resource detail", "enter"),
			ForceUnlock: bind("F", "force release", "F"),
			Unlock:      bind("U", "unlock by ID", "U"),
			CopyID:      bind("y", "copy ID", "y"),
			CopyToken:   bind("t", "copy token", "t"),
			CopyCommand: bind("c", "copy unlock command", "c"),
		},
		Backups: Backups{
			Motion:   defaultMotion(),
			Restore:  bind("enter", "restore this backup", "enter"),
			Filter:   bind("/", "filter", "/"),
			Refresh:  bind("r", "refresh", "r", "ctrl+r"),
			CopyPath: bind("y", "copy file path", "y"),
		},
		Audit: Audit{
			Motion:  defaultMotion(),
			Filter:  bind("/", "filter", "/"),
			Sort:    bind("s", "sort column", "s"),
			Reverse: bind("S", "reverse sort", "S"),
			Refresh: bind("r", "refresh", "r", "ctrl+r"),
			CopyID:  bind("y", "copy resource ID", "y"),
			Open:    bind("enter", "show the whole entry", "enter"),
		},
		Messages: Messages{
			Motion: defaultMotion(),
			Filter: bind("/", "filter", "/"),
			Open:   bind("enter", "show in full", "enter"),
			Copy:   bind("y", "copy message", "y"),
		},
		Contexts: Contexts{
			Motion: defaultMotion(),
			Filter: bind("/", "filter", "/"),
			Switch: bind("enter", "switch to it", "enter"),
		},
		Confirm: Confirm{
			Up: up(), Down: down(),
			Apply:  bind("enter/y", "apply", "enter", "y"),
			Cancel: bind("esc", "cancel", "esc"),
			Reveal: bind("x", "reveal/mask secrets", "x"),
			Force:  bind("f", "delete anyway…", "f"),
		},
		Connect:  Connect{Retry: bind("r", "try again", "r", "ctrl+r")},
		Fleet:    defaultFleet(),
		Findings: defaultFindings(),
		Tree:     defaultTree(),
		Help:     Help{Up: up(), Down: down()},
		Input: Input{
			Accept:   bind("enter", "accept", "enter"),
			Cancel:   bind("esc/ctrl+c", "cancel/clear", "esc", "ctrl+c"),
			Complete: bind("tab", "complete/next source", "tab"),
			Up:       bind("↑", "previous row", "up"),
			Down:     bind("↓", "next row", "down"),
		},
		StoreBackups: defaultStoreBackups(),
	}
}

// named lists every binding under its config name, so overrides and
// validation walk one table instead of repeating field lists.
func (k *Keymap) named() map[string]*key.Binding {
	m := map[string]*key.Binding{
		"global.quit": &k.Global.Quit, "global.back": &k.Global.Back, "global.help": &k.Global.Help,
		"global.command": &k.Global.Command, "global.locks": &k.Global.Locks, "global.resources": &k.Global.Resource,
		"global.message": &k.Global.Message, "global.mouse": &k.Global.Mouse,

		"resources.open": &k.Resources.Open, "resources.diff": &k.Resources.Diff, "resources.filter": &k.Resources.Filter,
		"resources.sort": &k.Resources.Sort, "resources.reverse": &k.Resources.Reverse, "resources.refresh": &k.Resources.Refresh,
		"resources.delete": &k.Resources.Delete, "resources.copy_id": &k.Resources.CopyID, "resources.recover": &k.Resources.Recover,
		"resources.backups": &k.Resources.Backups,

		"detail.next_dependency": &k.Detail.NextDep, "detail.previous_dependency": &k.Detail.PrevDep,
		"detail.open_dependency": &k.Detail.Jump, "detail.reveal": &k.Detail.Reveal, "detail.copy_id": &k.Detail.CopyID,
		"detail.copy_values": &k.Detail.CopyValues, "detail.diff": &k.Detail.Diff, "detail.refresh": &k.Detail.Refresh,
		"detail.set_status": &k.Detail.SetStatus, "detail.edit": &k.Detail.Edit, "detail.delete": &k.Detail.Delete,
		"detail.backups": &k.Detail.Backups, "detail.tree": &k.Detail.Tree, "detail.hex": &k.Detail.Hex, "detail.recover": &k.Detail.Recover,

		"diff.mode": &k.Diff.Mode, "diff.reveal": &k.Diff.Reveal, "diff.source": &k.Diff.Source,

		"locks.filter": &k.Locks.Filter, "locks.sort": &k.Locks.Sort, "locks.reverse": &k.Locks.Reverse,
		"locks.refresh": &k.Locks.Refresh,
		"locks.open":    &k.Locks.Open, "locks.force_unlock": &k.Locks.ForceUnlock, "locks.unlock": &k.Locks.Unlock,
		"locks.copy_id": &k.Locks.CopyID, "locks.copy_token": &k.Locks.CopyToken, "locks.copy_command": &k.Locks.CopyCommand,

		"backups.restore": &k.Backups.Restore, "backups.filter": &k.Backups.Filter, "backups.refresh": &k.Backups.Refresh,
		"backups.copy_path": &k.Backups.CopyPath,

		"audit.filter": &k.Audit.Filter, "audit.sort": &k.Audit.Sort, "audit.reverse": &k.Audit.Reverse,
		"audit.refresh": &k.Audit.Refresh, "audit.copy_id": &k.Audit.CopyID, "audit.open": &k.Audit.Open,

		"contexts.filter": &k.Contexts.Filter, "contexts.switch": &k.Contexts.Switch,
		"messages.filter": &k.Messages.Filter, "messages.open": &k.Messages.Open, "messages.copy": &k.Messages.Copy,

		"confirm.up": &k.Confirm.Up, "confirm.down": &k.Confirm.Down, "confirm.apply": &k.Confirm.Apply,
		"confirm.cancel": &k.Confirm.Cancel, "confirm.reveal": &k.Confirm.Reveal, "confirm.force": &k.Confirm.Force,

		"connect.retry": &k.Connect.Retry,

		"help.up": &k.Help.Up, "help.down": &k.Help.Down,

		"input.accept": &k.Input.Accept, "input.cancel": &k.Input.Cancel, "input.complete": &k.Input.Complete,
		"input.up": &k.Input.Up, "input.down": &k.Input.Down,
	}
	for view, p := range map[string]*Pane{"detail": &k.Detail.Pane, "diff": &k.Diff.Pane} {
		m[view+".scroll_left"], m[view+".scroll_right"], m[view+".search"] = &p.Left, &p.Right, &p.Search
		m[view+".next_match"], m[view+".previous_match"] = &p.NextMatch, &p.PrevMatch
	}
	// Every list and pane moves the same way, under its own names.
	for view, motion := range map[string]*Motion{
		"resources": &k.Resources.Motion, "detail": &k.Detail.Motion, "diff": &k.Diff.Motion,
		"locks": &k.Locks.Motion, "backups": &k.Backups.Motion, "audit": &k.Audit.Motion, "messages": &k.Messages.Motion, "contexts": &k.Contexts.Motion,
	} {
		m[view+".up"], m[view+".down"], m[view+".top"] = &motion.Up, &motion.Down, &motion.Top
		m[view+".bottom"], m[view+".page_up"], m[view+".page_down"] = &motion.Bottom, &motion.PageUp, &motion.PageDown
	}
	k.nameFleet(m)
	k.nameStoreBackups(m)
	return m
}

// Names lists every binding name the config file may override, sorted.
func Names() []string {
	m := Default().named()
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Load returns the default bindings with the config's overrides applied;
// an unknown name or an empty key list is an error naming the valid ones.
// In read-only mode every mutating binding is disabled.
func Load(overrides map[string][]string, readOnly bool) (*Keymap, error) {
	k := Default()
	named := k.named()
	names := make([]string, 0, len(overrides))
	for n := range overrides {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b, ok := named[n]
		if !ok {
			return nil, fmt.Errorf("keys: unknown binding %q; known bindings: %s", n, strings.Join(Names(), ", "))
		}
		keys := overrides[n]
		if len(keys) == 0 {
			return nil, fmt.Errorf("keys: binding %q has no keys", n)
		}
		b.SetKeys(keys...)
		b.SetHelp(strings.Join(keys, "/"), b.Help().Desc)
	}
	if err := k.collisions(); err != nil {
		return nil, err
	}
	if readOnly {
		k.ReadOnly = true
		for _, b := range k.mutating() {
			b.SetEnabled(false)
		}
	}
	return k, nil
}

// collisions reports two bindings one key would trigger on the same
// screen: two of one view's set, or one of them and a global binding
// (which is matched first, so the view's would never run).
func (k *Keymap) collisions() error {
	named := k.named()
	names := make([]string, 0, len(named))
	for n := range named {
		names = append(names, n)
	}
	sort.Strings(names)
	owner := map[string]string{} // "set\x00key" -> binding name
	for _, n := range names {
		set, _, _ := strings.Cut(n, ".")
		for _, key := range named[n].Keys() {
			for _, scope := range scopes(set) {
				other, taken := owner[scope+"\x00"+key]
				if taken && !sameAction[[2]string{other, n}] {
					return fmt.Errorf("keys: %q is bound to both %s and %s; give one of them another key", key, other, n)
				}
			}
			owner[set+"\x00"+key] = n
		}
	}
	return nil
}

// scopes are the sets whose keys a set's bindings must not reuse: its own
// and, on screens where global keys work, the global set.
func scopes(set string) []string {
	switch set {
	case "global", "input":
		return []string{set}
	}
	return []string{set, "global"}
}

// sameAction are pairs that share a key on purpose: they do the same.
var sameAction = map[[2]string]bool{{"confirm.cancel", "global.back"}: true, {"global.back", "confirm.cancel"}: true}

// ConfigName is the config name of a binding of the set named set (as
// shown in help, so a user knows what to rebind), "" if none matches.
// Bindings of one set have distinct descriptions.
func (k *Keymap) ConfigName(set string, b key.Binding) string {
	for n, kb := range k.named() {
		if strings.HasPrefix(n, set+".") && kb.Help().Desc == b.Help().Desc {
			return n
		}
	}
	return ""
}

// Set is a key set that names itself, for help and ConfigName.
type Set interface{ SetName() string }

func (Global) SetName() string    { return "global" }
func (Resources) SetName() string { return "resources" }
func (Detail) SetName() string    { return "detail" }
func (Diff) SetName() string      { return "diff" }
func (Locks) SetName() string     { return "locks" }
func (Backups) SetName() string   { return "backups" }
func (Audit) SetName() string     { return "audit" }
func (Confirm) SetName() string   { return "confirm" }
func (Messages) SetName() string  { return "messages" }
func (Contexts) SetName() string  { return "contexts" }
func (Connect) SetName() string   { return "connect" }
func (Help) SetName() string      { return "help" }
func (Input) SetName() string     { return "input" }

// mutating are the bindings that change the store; read-only mode
// disables them and the views refuse them with one message.
func (k *Keymap) mutating() []*key.Binding {
	return []*key.Binding{
		&k.Resources.Delete, &k.Resources.Recover, &k.Detail.Recover, &k.Detail.SetStatus, &k.Detail.Edit, &k.Detail.Delete,
		&k.Backups.Restore, &k.Locks.ForceUnlock, &k.Locks.Unlock, &k.Confirm.Apply, &k.Confirm.Force,
	}
}

// Pressed reports whether msg names one of b's keys even when b is
// disabled, so a view can explain why a disabled action did nothing.
func Pressed(msg fmt.Stringer, b key.Binding) bool {
	s := msg.String()
	for _, k := range b.Keys() {
		if k == s {
			return true
		}
	}
	return false
}

// ShortHelp is the global set's one-line help.
func (g Global) ShortHelp() []key.Binding {
	return []key.Binding{g.Help, g.Command, g.Back, g.Quit}
}

// FullHelp groups the global bindings.
func (g Global) FullHelp() [][]key.Binding {
	return [][]key.Binding{{g.Command, g.Resource, g.Locks, g.Message, g.Mouse}, {g.Help, g.Back, g.Quit}}
}

// ShortHelp of the resources table.
func (r Resources) ShortHelp() []key.Binding {
	return []key.Binding{r.Open, r.Filter, r.Diff, r.Sort, r.Refresh, r.Delete}
}

// FullHelp of the resources table.
func (r Resources) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		r.Motion.Bindings(),
		{r.Open, r.Diff, r.Filter, r.Sort, r.Reverse, r.Refresh, r.CopyID},
		{r.Backups, r.Delete, r.Recover},
	}
}

// ShortHelp of the detail view.
func (d Detail) ShortHelp() []key.Binding {
	return []key.Binding{d.NextDep, d.Reveal, d.Diff, d.SetStatus, d.Edit, d.Backups, d.Delete}
}

// FullHelp of the detail view.
func (d Detail) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		d.Pane.Bindings(),
		{d.NextDep, d.PrevDep, d.Jump, d.Tree, d.Reveal, d.CopyID, d.CopyValues, d.Diff, d.Refresh, d.Hex},
		{d.SetStatus, d.Recover, d.Edit, d.Backups, d.Delete},
	}
}

// ShortHelp of the diff view.
func (d Diff) ShortHelp() []key.Binding {
	return []key.Binding{d.Source, d.Mode, d.Reveal, d.Search}
}

// FullHelp of the diff view.
func (d Diff) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		d.Pane.Bindings(),
		{d.Source, d.Mode, d.Reveal},
	}
}

// ShortHelp of the lock inventory.
func (l Locks) ShortHelp() []key.Binding {
	return []key.Binding{l.ForceUnlock, l.Open, l.Filter, l.CopyCommand, l.Refresh}
}

// FullHelp of the lock inventory.
func (l Locks) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		l.Motion.Bindings(),
		{l.ForceUnlock, l.Unlock, l.Open, l.Filter, l.Sort, l.Reverse, l.Refresh},
		{l.CopyID, l.CopyToken, l.CopyCommand},
	}
}

// ShortHelp of the connect screen.
func (c Connect) ShortHelp() []key.Binding { return []key.Binding{c.Retry} }

// FullHelp of the connect screen.
func (c Connect) FullHelp() [][]key.Binding { return [][]key.Binding{{c.Retry}} }

// ShortHelp of a record's backups.
func (b Backups) ShortHelp() []key.Binding { return []key.Binding{b.Restore, b.Filter, b.Refresh} }

// FullHelp of a record's backups.
func (b Backups) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		b.Motion.Bindings(),
		{b.Restore, b.Filter, b.Refresh, b.CopyPath},
	}
}

// ShortHelp of the audit log.
func (a Audit) ShortHelp() []key.Binding { return []key.Binding{a.Open, a.Filter, a.Sort, a.Refresh} }

// FullHelp of the audit log.
func (a Audit) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		a.Motion.Bindings(),
		{a.Open, a.Filter, a.Sort, a.Reverse, a.Refresh, a.CopyID},
	}
}

// ShortHelp of the messages list.
func (m Messages) ShortHelp() []key.Binding { return []key.Binding{m.Open, m.Filter, m.Copy} }

// FullHelp of the messages list.
func (m Messages) FullHelp() [][]key.Binding {
	return [][]key.Binding{m.Motion.Bindings(), {m.Open, m.Filter, m.Copy}}
}

// ShortHelp of the context picker.
func (c Contexts) ShortHelp() []key.Binding { return []key.Binding{c.Switch, c.Filter} }

// FullHelp of the context picker.
func (c Contexts) FullHelp() [][]key.Binding {
	return [][]key.Binding{c.Motion.Bindings(), {c.Switch, c.Filter}}
}

// ShortHelp of the repair confirmation; cancelling is the global esc
// (back) shown beside it.
func (c Confirm) ShortHelp() []key.Binding { return []key.Binding{c.Apply, c.Reveal} }

// FullHelp of the repair confirmation.
func (c Confirm) FullHelp() [][]key.Binding {
	return [][]key.Binding{{c.Up, c.Down}, {c.Apply, c.Cancel, c.Reveal, c.Force}}
}

// ShortHelp of the help screen.
func (h Help) ShortHelp() []key.Binding { return []key.Binding{h.Up, h.Down} }

// FullHelp of the help screen.
func (h Help) FullHelp() [][]key.Binding { return [][]key.Binding{{h.Up, h.Down}} }

// ShortHelp while typing.
func (i Input) ShortHelp() []key.Binding { return []key.Binding{i.Accept, i.Cancel} }

// FullHelp while typing.
func (i Input) FullHelp() [][]key.Binding {
	return [][]key.Binding{{i.Accept, i.Cancel, i.Complete, i.Up, i.Down}}
}
