package keymap

import (
	"reflect"
	"strings"
	"testing"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string][]string
		readOnly  bool
		check     func(t *testing.T, k *Keymap)
		wantErr   string
	}{
		{name: "defaults: arrows and vim keys both move", check: func(t *testing.T, k *Keymap) {
			if !key.Matches(tea.KeyPressMsg{Code: 'j', Text: "j"}, k.Resources.Down) || !key.Matches(tea.KeyPressMsg{Code: tea.KeyDown}, k.Resources.Down) {
				t.Error("j and the down arrow must both move down")
			}
		}},
		{name: "override replaces keys and help", overrides: map[string][]string{"resources.refresh": {"f5", "ctrl+l"}}, check: func(t *testing.T, k *Keymap) {
			if got := strings.Join(k.Resources.Refresh.Keys(), ","); got != "f5,ctrl+l" {
				t.Errorf("keys %s", got)
			}
			if k.Resources.Refresh.Help().Key != "f5/ctrl+l" {
				t.Errorf("help %q", k.Resources.Refresh.Help().Key)
			}
		}},
		{name: "read-only disables every repair", readOnly: true, check: func(t *testing.T, k *Keymap) {
			for _, b := range []key.Binding{k.Locks.ForceUnlock, k.Locks.Unlock, k.Resources.Delete, k.Detail.SetStatus, k.Detail.Edit, k.Detail.Delete, k.Backups.Restore, k.Confirm.Apply} {
				if b.Enabled() {
					t.Errorf("%s still enabled", b.Help().Desc)
				}
			}
			if !k.ReadOnly || !k.Detail.Backups.Enabled() || !k.Resources.Backups.Enabled() || !k.StoreBackups.Open.Enabled() {
				t.Error("read-only must keep the backups list (it only reads)")
			}
			if !Pressed(tea.KeyPressMsg{Code: 'F', Text: "F"}, k.Locks.ForceUnlock) {
				t.Error("Pressed must still recognise the disabled key")
			}
		}},
		{name: "repair bindings are overridable", overrides: map[string][]string{"detail.edit": {"E"}, "confirm.apply": {"enter"}}, check: func(t *testing.T, k *Keymap) {
			if !key.Matches(tea.KeyPressMsg{Code: 'E', Text: "E"}, k.Detail.Edit) || key.Matches(tea.KeyPressMsg{Code: 'y', Text: "y"}, k.Confirm.Apply) {
				t.Error("overrides not applied")
			}
		}},
		{name: "a key two bindings of a view share", overrides: map[string][]string{"detail.edit": {"b"}},
			wantErr: `keys: "b" is bound to both detail.backups and detail.edit`},
		{name: "a view key a global binding takes first", overrides: map[string][]string{"locks.refresh": {"L"}},
			wantErr: `keys: "L" is bound to both global.locks and locks.refresh`},
		{name: "the same key in different views is fine", overrides: map[string][]string{"detail.edit": {"s"}}, check: func(t *testing.T, k *Keymap) {}},
		{name: "unknown name", overrides: map[string][]string{"resources.explode": {"x"}}, wantErr: `unknown binding "resources.explode"; known bindings: `},
		{name: "empty keys", overrides: map[string][]string{"global.quit": {}}, wantErr: `binding "global.quit" has no keys`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := Load(tt.overrides, tt.readOnly)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, k)
		})
	}
}

// TestEverySetIsAHelpKeyMap with help text on every binding it shows.
func TestEverySetIsAHelpKeyMap(t *testing.T) {
	k := Default()
	sets := map[string]help.KeyMap{"global": k.Global, "resources": k.Resources, "detail": k.Detail, "diff": k.Diff, "locks": k.Locks, "help": k.Help, "input": k.Input,
		"backups": k.Backups, "store_backups": k.StoreBackups, "audit": k.Audit, "confirm": k.Confirm, "connect": k.Connect}
	for name, set := range sets {
		if len(set.ShortHelp()) == 0 || len(set.FullHelp()) == 0 {
			t.Errorf("%s has no help", name)
		}
		for _, group := range set.FullHelp() {
			for _, b := range group {
				if b.Help().Key == "" || b.Help().Desc == "" {
					t.Errorf("%s: binding %v has no help text", name, b.Keys())
				}
			}
		}
	}
}

// TestEveryBindingIsNamed: each key.Binding field of every set has a
// config name (a missed one could not be rebound), and within a set the
// descriptions differ (help finds a binding's name by it).
func TestEveryBindingIsNamed(t *testing.T) {
	k := Default()
	byAddr := map[*key.Binding]string{}
	for n, b := range k.named() {
		byAddr[b] = n
	}
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch b, ok := v.Addr().Interface().(*key.Binding); {
		case ok:
			name, named := byAddr[b]
			if !named {
				t.Errorf("%s has no config name", path)
			}
			set, _, _ := strings.Cut(name, ".")
			if got := k.ConfigName(set, *b); got != name {
				t.Errorf("%s: ConfigName gives %q, want %q", path, got, name)
			}
			return
		case v.Kind() == reflect.Struct:
			for i := range v.NumField() {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		}
	}
	walk("Keymap", reflect.ValueOf(k).Elem())
}
