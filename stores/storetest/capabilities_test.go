package storetest

import (
	"strings"
	"testing"

	"statescope/stores"
	"statescope/stores/memory"
)

// lockless is a store that lost its lock inventory (a wrapper that forgot
// to pass it through, say).
type lockless struct{ stores.Store }

func TestCapabilitiesMustMatchTheStore(t *testing.T) {
	memCaps := Capabilities{LockInventory, LockHolders, CorruptRecords}
	tests := []struct {
		name       string
		store      stores.Store
		declared   Capabilities
		canCorrupt bool
		want       []string // fragments, one per expected problem
	}{
		{"exact", memory.New(), memCaps, true, nil},
		{"declared but missing", lockless{memory.New()}, memCaps, true,
			[]string{"declares lock inventory and force release", "declares lock holders"}},
		{"compare-and-swap and row versions declared on a store without them", memory.New(), AllCapabilities, true,
			[]string{"declares compare-and-swap writes", "declares versioned row listings"}},
		{"corrupt declared without a planter", memory.New(), memCaps, false, []string{"declares unreadable records"}},
		{"present but undeclared", memory.New(), nil, true,
			[]string{"has lock inventory", "has lock holders", "has unreadable records"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.declared.mismatches(tt.store, tt.canCorrupt)
			if len(got) != len(tt.want) {
				t.Fatalf("problems %q, want %d", got, len(tt.want))
			}
			for i, frag := range tt.want {
				if !strings.Contains(got[i], frag) {
					t.Errorf("problem %q, want it to say %q", got[i], frag)
				}
			}
		})
	}
}
