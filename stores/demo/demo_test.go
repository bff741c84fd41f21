package demo_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"statescope/stores"
	"statescope/stores/demo"
	"statescope/stores/filesystem"
)

func TestMaterializeKeepsAgesAndFormats(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2031, 6, 1, 12, 0, 0, 0, time.UTC)
	if err := demo.Materialize(os.DirFS("../../testdata/demo"), dir, now); err != nil {
		t.Fatal(err)
	}
	s, err := filesystem.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	entries, err := s.List(ctx, stores.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var corrupt, stuck, failed int
	statuses := map[string]bool{}
	for _, e := range entries {
		if e.Corrupt() {
			corrupt++
			continue
		}
		statuses[e.State.Status] = true
		if e.State.IsStuck(now, stores.DefaultStaleAfter) {
			stuck++
		}
		if e.State.Error != "" {
			failed++
		}
	}
	if len(entries) < 55 || corrupt != 1 || stuck != 1 || failed < 1 {
		t.Errorf("demo: %d entries, %d corrupt, %d stuck, %d with errors", len(entries), corrupt, stuck, failed)
	}
	for _, st := range stores.Statuses {
		if !statuses[st] {
			t.Errorf("demo has no %s record", st)
		}
	}
	orders, err := s.Get(ctx, "prod/db/orders")
	if err != nil {
		t.Fatal(err)
	}
	if got := stores.RelativeAge(orders.UpdatedAt, now); got != "3d" {
		t.Errorf("stuck record age = %s, want 3d", got)
	}
	// The wfctl-written record keeps wfctl's key order.
	raw, _ := os.ReadFile(filepath.Join(dir, "legacy_db_old.json"))
	if strings.Index(string(raw), `"config"`) > strings.Index(string(raw), `"outputs"`) {
		t.Error("stamping rewrote the wfctl record in engine order")
	}
	locks, err := s.Locks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stores.Judge(locks, now, stores.DefaultStaleAfter)
	verdicts := map[stores.Verdict]int{}
	for _, l := range locks {
		verdicts[l.Verdict]++
	}
	if verdicts[stores.VerdictOrphaned] != 2 || verdicts[stores.VerdictHeld] != 1 || len(locks) != 3 {
		t.Errorf("demo locks: %v", verdicts)
	}
	if locks[0].ResourceID != "prod/db/orders" {
		t.Errorf("oldest orphan first: got %s", locks[0].ResourceID)
	}
}

func TestCheckRefusesWhatIsNotADemo(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, files ...string) string {
		dir := filepath.Join(base, name)
		os.MkdirAll(dir, 0o750)
		for _, f := range files {
			os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600)
		}
		return dir
	}
	marked := mk("marked", "a.json")
	if err := demo.MarkDone(marked); err != nil {
		t.Fatal(err)
	}
	fake := mk("fake", "a.json")
	os.Symlink(marked+"/"+demo.Marker, filepath.Join(fake, demo.Marker))
	plainMarker := mk("file-marker", demo.Marker)
	tests := []struct {
		dir       string
		fresh, ok bool
	}{
		{filepath.Join(base, "missing"), true, true},
		{mk("empty"), true, true},
		{marked, false, true},
		{mk("state", "a.json", "a.lock"), false, false},
		{fake, false, false},        // a link to a marker is not one
		{plainMarker, false, false}, // nor is a file of its name
	}
	for _, tt := range tests {
		fresh, err := demo.Check(tt.dir)
		if fresh != tt.fresh || (err == nil) != tt.ok {
			t.Errorf("%s: fresh %v, %v", filepath.Base(tt.dir), fresh, err)
		}
	}
	if err := demo.MarkDone(marked); err == nil {
		t.Error("marking twice succeeded")
	}
}
