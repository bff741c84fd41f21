package keymap

import (
	"reflect"
	"testing"

	"charm.land/bubbles/v2/help"
)

// TestHelpNamesEveryBinding: every key set names itself and every binding
// its help lists has a config name, so `?` tells the user what to rebind
// in every view.
func TestHelpNamesEveryBinding(t *testing.T) {
	k := Default()
	v := reflect.ValueOf(k).Elem()
	for i := range v.NumField() {
		field := v.Type().Field(i)
		if field.Type.Kind() != reflect.Struct {
			continue
		}
		set, ok := v.Field(i).Interface().(Set)
		if !ok {
			t.Errorf("Keymap.%s does not name its set (no SetName)", field.Name)
			continue
		}
		km, ok := v.Field(i).Interface().(help.KeyMap)
		if !ok {
			t.Errorf("Keymap.%s is not a help.KeyMap", field.Name)
			continue
		}
		for _, group := range km.FullHelp() {
			for _, b := range group {
				if k.ConfigName(set.SetName(), b) == "" {
					t.Errorf("%s: help shows %q (%s) without a config name", set.SetName(), b.Help().Key, b.Help().Desc)
				}
			}
		}
	}
}
