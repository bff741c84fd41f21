package keymap

import "charm.land/bubbles/v2/key"

// Fleet is every context at once.
type Fleet struct {
	Motion
	Open, Locks, Findings, Refresh, Filter, Sort, Reverse key.Binding
}

// Findings is one store's check.
type Findings struct {
	Motion
	Open, Repair, Copy, Refresh, Filter, Sort, Reverse key.Binding
}

// Tree is a record's dependency tree.
type Tree struct {
	Motion
	Expand, Collapse, Toggle, Direction, Open key.Binding
}

func defaultFleet() Fleet {
	return Fleet{
		Motion:   defaultMotion(),
		Open:     bind("enter", "open context", "enter"),
		Locks:    bind("L", "its locks", "L"),
		Findings: bind("c", "its findings", "c"),
		Refresh:  bind("r", "check again", "r", "ctrl+r"),
		Filter:   bind("/", "filter", "/"),
		Sort:     bind("s", "sort column", "s"),
		Reverse:  bind("S", "reverse sort", "S"),
	}
}

func defaultFindings() Findings {
	return Findings{
		Motion:  defaultMotion(),
		Open:    bind("enter", "resource detail", "enter"),
		Repair:  bind("x", "repair…", "x"),
		Copy:    bind("y", "copy repair command", "y"),
		Refresh: bind("r", "check again", "r", "ctrl+r"),
		Filter:  bind("/", "filter", "/"),
		Sort:    bind("s", "sort column", "s"),
		Reverse: bind("S", "reverse sort", "S"),
	}
}

func defaultTree() Tree {
	return Tree{
		Motion:    defaultMotion(),
		Expand:    bind("→/l", "expand", "right", "l"),
		Collapse:  bind("←/h", "collapse/parent", "left", "h"),
		Toggle:    bind("space", "expand/collapse", "space"),
		Direction: bind("tab", "dependencies/dependents", "tab"),
		Open:      bind("enter", "open detail", "enter"),
	}
}

// nameFleet adds the fleet, findings and tree bindings to named.
func (k *Keymap) nameFleet(m map[string]*key.Binding) {
	for name, b := range map[string]*key.Binding{
		"fleet.open": &k.Fleet.Open, "fleet.locks": &k.Fleet.Locks, "fleet.findings": &k.Fleet.Findings,
		"fleet.refresh": &k.Fleet.Refresh, "fleet.filter": &k.Fleet.Filter, "fleet.sort": &k.Fleet.Sort, "fleet.reverse": &k.Fleet.Reverse,

		"findings.open": &k.Findings.Open, "findings.repair": &k.Findings.Repair, "findings.copy": &k.Findings.Copy,
		"findings.refresh": &k.Findings.Refresh, "findings.filter": &k.Findings.Filter, "findings.sort": &k.Findings.Sort,
		"findings.reverse": &k.Findings.Reverse,

		"tree.expand": &k.Tree.Expand, "tree.collapse": &k.Tree.Collapse, "tree.toggle": &k.Tree.Toggle,
		"tree.direction": &k.Tree.Direction, "tree.open": &k.Tree.Open,
	} {
		m[name] = b
	}
	for view, motion := range map[string]*Motion{"fleet": &k.Fleet.Motion, "findings": &k.Findings.Motion, "tree": &k.Tree.Motion} {
		m[view+".up"], m[view+".down"], m[view+".top"] = &motion.Up, &motion.Down, &motion.Top
		m[view+".bottom"], m[view+".page_up"], m[view+".page_down"] = &motion.Bottom, &motion.PageUp, &motion.PageDown
	}
}

// ShortHelp of the fleet.
func (f Fleet) ShortHelp() []key.Binding {
	return []key.Binding{f.Open, f.Locks, f.Findings, f.Refresh, f.Filter}
}

// FullHelp of the fleet.
func (f Fleet) FullHelp() [][]key.Binding {
	return [][]key.Binding{f.Motion.Bindings(), {f.Open, f.Locks, f.Findings, f.Refresh, f.Filter, f.Sort, f.Reverse}}
}

// ShortHelp of the findings.
func (f Findings) ShortHelp() []key.Binding {
	return []key.Binding{f.Repair, f.Open, f.Copy, f.Refresh, f.Filter}
}

// FullHelp of the findings.
func (f Findings) FullHelp() [][]key.Binding {
	return [][]key.Binding{f.Motion.Bindings(), {f.Repair, f.Open, f.Copy, f.Refresh, f.Filter, f.Sort, f.Reverse}}
}

// ShortHelp of the dependency tree.
func (t Tree) ShortHelp() []key.Binding {
	return []key.Binding{t.Toggle, t.Direction, t.Open}
}

// FullHelp of the dependency tree.
func (t Tree) FullHelp() [][]key.Binding {
	return [][]key.Binding{t.Motion.Bindings(), {t.Expand, t.Collapse, t.Toggle, t.Direction, t.Open}}
}

func (Fleet) SetName() string    { return "fleet" }
func (Findings) SetName() string { return "findings" }
func (Tree) SetName() string     { return "tree" }
