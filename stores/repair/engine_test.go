package repair_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"statescope/stores"
	"statescope/stores/memory"
	"statescope/stores/repair"
	"statescope/stores/repair/audit"
	"statescope/stores/repair/backup"
	"statescope/stores/repair/repairtest"
)

// failingSave is a store whose writes fail, like a backend that went away
// between the read and the write.
type failingSave struct{ stores.Store }

var errDisk = errors.New("disk on fire")

func (failingSave) Save(context.Context, *stores.State) error { return errDisk }

func TestFailedBackupAborts(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	orig := repairtest.Record("db")
	if err := s.Save(ctx, orig); err != nil {
		t.Fatal(err)
	}
	stateDir := t.TempDir()
	eng := repair.New(s, "mem://", stateDir)
	// A file where the backup directory must go makes every backup fail.
	if err := os.WriteFile(filepath.Join(stateDir, "backups"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := eng.PlanSetStatus(ctx, "db", stores.StatusError, "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Apply(ctx, p); err == nil || !strings.Contains(err.Error(), "backup failed") {
		t.Fatalf("apply with a failing backup: %v", err)
	}
	if got, _ := s.Get(ctx, "db"); got.Status != orig.Status {
		t.Error("the record was written without a backup")
	}
	if err := s.Lock(ctx, "db"); err != nil {
		t.Errorf("lock left held: %v", err)
	}
	entries, _ := eng.Audit.Read()
	if len(entries) != 1 || entries[0].Result != audit.ResultRefused {
		t.Errorf("audit: %+v", entries)
	}
}

func TestFailedWriteReleasesLockAndSaysWhere(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	if err := s.Save(ctx, repairtest.Record("db")); err != nil {
		t.Fatal(err)
	}
	eng := repair.New(failingSave{s}, "mem://", t.TempDir())
	p, err := eng.PlanSetStatus(ctx, "db", stores.StatusError, "x")
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Apply(ctx, p)
	if !errors.Is(err, errDisk) || !strings.Contains(err.Error(), "the record is unchanged") || !strings.Contains(err.Error(), res.Backup) {
		t.Fatalf("failed write: %v", err)
	}
	if _, _, err := backup.Read(res.Backup); err != nil {
		t.Errorf("backup of the record: %v", err)
	}
	if err := s.Lock(ctx, "db"); err != nil {
		t.Errorf("lock left held after a failed write: %v", err)
	}
}

// cancelOnSave is a store whose write is interrupted by the user.
type cancelOnSave struct {
	stores.Store
	cancel context.CancelFunc
}

func (c cancelOnSave) Save(ctx context.Context, _ *stores.State) error {
	c.cancel()
	return ctx.Err()
}

func TestReleasedEvenWhenCancelled(t *testing.T) {
	s := memory.New()
	if err := s.Save(context.Background(), repairtest.Record("db")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eng := repair.New(cancelOnSave{s, cancel}, "mem://", t.TempDir())
	p, err := eng.PlanSetStatus(ctx, "db", stores.StatusError, "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Apply(ctx, p); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "unchanged") {
		t.Fatalf("interrupted apply: %v", err)
	}
	if err := s.Lock(context.Background(), "db"); err != nil {
		t.Errorf("an interrupted apply left its lock: %v", err)
	}
}

// TestSetStatusReason: the reason reaches the audit line whatever the
// status; setting error keeps the error text the provider wrote.
func TestSetStatusReason(t *testing.T) {
	tests := []struct {
		name, prevStatus, prevError, status, reason, wantError string
	}{
		{"error on a stuck record", "provisioning", "", "error", "crashed mid-apply", "crashed mid-apply"},
		{"error again keeps the provider's text", "error", "quota exceeded in eu-west-1", "error", "retry after the quota raise",
			"quota exceeded in eu-west-1; statescope set-status: retry after the quota raise"},
		{"active clears the error, the reason is audited", "error", "quota exceeded", "active", "fixed by hand", ""},
		{"destroyed", "destroying", "", "destroyed", "deleted in the console", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := memory.New()
			rec := repairtest.Record("db")
			rec.Status, rec.Error = tt.prevStatus, tt.prevError
			if err := s.Save(ctx, rec); err != nil {
				t.Fatal(err)
			}
			eng := repair.New(s, "mem://", t.TempDir())
			p, err := eng.PlanSetStatus(ctx, "db", tt.status, tt.reason)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := eng.Apply(ctx, p); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.Get(ctx, "db"); got.Status != tt.status || got.Error != tt.wantError {
				t.Errorf("record: status %s error %q, want %s %q", got.Status, got.Error, tt.status, tt.wantError)
			}
			entries, _ := eng.Audit.Read()
			if len(entries) != 1 || entries[0].Reason != tt.reason {
				t.Errorf("audit: %+v, want reason %q", entries, tt.reason)
			}
		})
	}
}
