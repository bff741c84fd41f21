package repair_test

import (
	"context"
	"errors"
	"testing"

	"statescope/stores"
	"statescope/stores/memory"
	"statescope/stores/repair"
	"statescope/stores/repair/repairtest"
)

// unreadableStore answers every read of one ID as corrupt, with no bytes
// to show (as a remote plugin does).
type unreadableStore struct {
	stores.Store
	id string
}

func (u unreadableStore) Get(ctx context.Context, id string) (*stores.State, error) {
	if id == u.id {
		return nil, stores.ErrCorrupt
	}
	return u.Store.Get(ctx, id)
}

// TestStoreBackupsOfThisStoreOnly: two stores sharing one state directory
// each see only the backups taken from them, and how each record stands.
func TestStoreBackupsOfThisStoreOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mine, theirs := memory.New(), memory.New()
	for _, s := range []stores.Store{mine, theirs} {
		for _, id := range []string{"db", "app", "cache"} {
			if err := s.Save(ctx, repairtest.Record(id)); err != nil {
				t.Fatal(err)
			}
		}
	}
	applyOn := func(eng *repair.Engine) func(*repair.Plan, error) {
		return func(p *repair.Plan, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := eng.Apply(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	other := repair.New(theirs, "mem://theirs", dir)
	applyOn(other)(other.PlanDelete(ctx, "cache", false))
	eng := repair.New(mine, "mem://mine", dir)
	applyOn(eng)(eng.PlanDelete(ctx, "db", false))
	applyOn(eng)(eng.PlanSetStatus(ctx, "app", stores.StatusDestroyed, ""))
	applyOn(eng)(eng.PlanSetStatus(ctx, "cache", stores.StatusPlanned, ""))

	eng.Store = unreadableStore{mine, "cache"}
	list, err := eng.StoreBackups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]repair.RecordNow{}
	for _, b := range list {
		got[b.ID] = b.Now
		for _, bk := range b.Backups {
			if bk.Meta.Target != "mem://mine" {
				t.Errorf("%s: a backup of %s is listed", b.ID, bk.Meta.Target)
			}
		}
	}
	want := map[string]repair.RecordNow{"db": repair.NowDeleted, "app": repair.NowDiffers, "cache": repair.NowUnreadable}
	if len(got) != len(want) {
		t.Fatalf("store backups %v, want %v", got, want)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s is %q, want %q", id, got[id], w)
		}
	}

	// A store that cannot be read says so on the row, not by failing all.
	eng.Store = failingGet{mine}
	list, err = eng.StoreBackups(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("%v, %v", list, err)
	}
	for _, b := range list {
		if b.Now != repair.NowUnknown || !errors.Is(b.Err, errDisk) {
			t.Errorf("%s: %q %v, want unknown with the read's error", b.ID, b.Now, b.Err)
		}
	}
}

type failingGet struct{ stores.Store }

func (failingGet) Get(context.Context, string) (*stores.State, error) { return nil, errDisk }
