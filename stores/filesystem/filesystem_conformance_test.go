package filesystem_test

import (
	"os"
	"path/filepath"
	"testing"

	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
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
		Capabilities: storetest.AllCapabilities,
	})
}
