package repair_test

import (
	"os"
	"path/filepath"
	"testing"

	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/memory"
	"statescope/stores/repair/repairtest"
	"statescope/stores/storetest"
)

func TestMemory(t *testing.T) {
	repairtest.Run(t, repairtest.Harness{
		New: func(*testing.T) stores.Store { return memory.New() },
		Corrupt: func(t *testing.T, s stores.Store, id string) {
			s.(*memory.Store).PutRaw(id, []byte("\x00garbage{"))
		},
		Capabilities: storetest.Capabilities{storetest.LockInventory, storetest.LockHolders, storetest.CorruptRecords},
		Plant:        func(t *testing.T, s stores.Store, id string, raw []byte) { s.(*memory.Store).PutRaw(id, raw) },
	})
}

func TestFilesystem(t *testing.T) {
	repairtest.Run(t, repairtest.Harness{
		New: func(t *testing.T) stores.Store {
			s, err := filesystem.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Corrupt: func(t *testing.T, s stores.Store, id string) {
			dir := s.(*filesystem.Store).Dir()
			if err := os.WriteFile(filepath.Join(dir, id+".json"), []byte("\x00garbage{"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		CorruptRaw:   true,
		Capabilities: storetest.AllCapabilities,
		Plant: func(t *testing.T, s stores.Store, id string, raw []byte) {
			if err := os.WriteFile(filepath.Join(s.(*filesystem.Store).Dir(), id+".json"), raw, 0o600); err != nil {
				t.Fatal(err)
			}
		},
	})
}
