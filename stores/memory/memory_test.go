package memory_test

import (
	"testing"

	"statescope/stores"
	"statescope/stores/memory"
	"statescope/stores/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) stores.Store { return memory.New() },
		Corrupt: func(t *testing.T, s stores.Store, id string) {
			s.(*memory.Store).PutRaw(id, []byte("{not json"))
		},
		Capabilities: storetest.Capabilities{storetest.LockInventory, storetest.LockHolders, storetest.CorruptRecords},
	})
}
