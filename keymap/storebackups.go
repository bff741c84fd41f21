package keymap

import "charm.land/bubbles/v2/key"

// StoreBackups lists every record of the store with backups, deleted
// ones too (:backups, b in the resources view).
type StoreBackups struct {
	Motion
	Open, Filter, Sort, Reverse, Refresh, CopyID key.Binding
}

func defaultStoreBackups() StoreBackups {
	return StoreBackups{
		Motion:  defaultMotion(),
		Open:    bind("enter", "open its backups", "enter"),
		Filter:  bind("/", "filter", "/"),
		Sort:    bind("s", "sort column", "s"),
		Reverse: bind("S", "reverse sort", "S"),
		Refresh: bind("r", "refresh", "r", "ctrl+r"),
		CopyID:  bind("y", "copy ID", "y"),
	}
}

// nameStoreBackups adds the store-wide backups bindings to named.
func (k *Keymap) nameStoreBackups(m map[string]*key.Binding) {
	s := &k.StoreBackups
	for name, b := range map[string]*key.Binding{
		"open": &s.Open, "filter": &s.Filter, "sort": &s.Sort, "reverse": &s.Reverse, "refresh": &s.Refresh, "copy_id": &s.CopyID,
		"up": &s.Up, "down": &s.Down, "top": &s.Top, "bottom": &s.Bottom, "page_up": &s.PageUp, "page_down": &s.PageDown,
	} {
		m["store_backups."+name] = b
	}
}

func (StoreBackups) SetName() string { return "store_backups" }

// ShortHelp of the store's backups.
func (s StoreBackups) ShortHelp() []key.Binding {
	return []key.Binding{s.Open, s.Filter, s.Refresh}
}

// FullHelp of the store's backups.
func (s StoreBackups) FullHelp() [][]key.Binding {
	return [][]key.Binding{s.Motion.Bindings(), {s.Open, s.Filter, s.Sort, s.Reverse, s.Refresh, s.CopyID}}
}
