package repair_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"statescope/stores"
	"statescope/stores/demo"
	_ "statescope/stores/filesystem"
	"statescope/stores/repair"
)

// demoEngine is an engine on a fresh copy of the demo state, whose
// prod/db/orders is stuck in provisioning under an orphaned lock.
func demoEngine(t *testing.T) (*repair.Engine, string) {
	t.Helper()
	dir := t.TempDir()
	if err := demo.Materialize(os.DirFS(filepath.Join("..", "..", "testdata", "demo")), dir, demo.Reference); err != nil {
		t.Fatal(err)
	}
	s, err := stores.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stores.Close(s) })
	eng := repair.New(s, "test", t.TempDir())
	eng.Now = func() time.Time { return demo.Reference }
	return eng, dir
}

// Recover is offered only for a stuck record whose lock is orphaned; its
// plan is the release of that lock and the status a crash calls for.
func TestPlanRecover(t *testing.T) {
	eng, _ := demoEngine(t)
	ctx := context.Background()
	stuck := &stores.State{ResourceID: "unlocked/stuck", Status: stores.StatusDestroying, UpdatedAt: stores.FormatTime(demo.Reference.Add(-time.Hour))}
	if err := eng.Store.Save(ctx, stuck); err != nil {
		t.Fatal(err)
	}
	p, err := eng.PlanRecover(ctx, "prod/db/orders")
	if err != nil {
		t.Fatal(err)
	}
	if p.Release.Lock.Verdict != stores.VerdictOrphaned || p.Release.Lock.Token == "" || p.Record.Status != stores.StatusProvisioning ||
		p.Status != stores.StatusError || p.Reason != "left in provisioning by an interrupted run" {
		t.Fatalf("plan %+v, release %+v", p, p.Release.Lock)
	}
	for _, tc := range []struct{ id, why string }{
		{"prod/k8s/main", "not stuck"},
		{"unlocked/stuck", "not locked"},
		{"nope", "not found"},
	} {
		_, err := eng.PlanRecover(ctx, tc.id)
		if !errors.Is(err, repair.ErrRefused) && tc.why != "not found" || err == nil || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: %v, want a refusal saying %q", tc.id, err, tc.why)
		}
	}
}

// The release checks again when applied: a lock that changed hands since
// it was shown is not released.
func TestRecoverReleaseChecksAgain(t *testing.T) {
	eng, dir := demoEngine(t)
	ctx := context.Background()
	p, err := eng.PlanRecover(ctx, "prod/db/orders")
	if err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, "prod_db_orders.lock")
	if err := os.WriteFile(lock, []byte("2025-12-31T23:59:00Z\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.ApplyRecoverRelease(ctx, p); !errors.Is(err, repair.ErrRefused) {
		t.Fatalf("released a lock that changed since it was shown: %v", err)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Fatalf("the new lock is gone: %v", err)
	}

	p, err = eng.PlanRecover(ctx, "prod/db/orders")
	if err == nil {
		t.Fatalf("a fresh lock is orphaned: %+v", p.Release.Lock)
	}
}

func TestRecoverReleases(t *testing.T) {
	eng, dir := demoEngine(t)
	ctx := context.Background()
	p, err := eng.PlanRecover(ctx, "prod/db/orders")
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.ApplyRecoverRelease(ctx, p)
	if err != nil || res.Backup == "" {
		t.Fatalf("release: %+v, %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "prod_db_orders.lock")); !os.IsNotExist(err) {
		t.Fatalf("lock file: %v", err)
	}
	if _, err := eng.ApplyRecoverRelease(ctx, p); !errors.Is(err, repair.ErrRefused) {
		t.Fatalf("released twice: %v", err)
	}
}
