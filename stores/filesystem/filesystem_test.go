package filesystem

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"statescope/stores"
)

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	write(t, dir, "f", "x")
	tests := []struct{ path, want string }{
		{filepath.Join(dir, "missing"), "does not exist"},
		{file, "is a file"},
	}
	for _, tt := range tests {
		if _, err := Open(tt.path); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%s) = %v, want %q", tt.path, err, tt.want)
		}
	}
	if os.Geteuid() != 0 {
		locked := filepath.Join(dir, "locked")
		os.Mkdir(locked, 0o000)
		if _, err := Open(locked); err == nil || !strings.Contains(err.Error(), "not readable") {
			t.Errorf("unreadable dir: %v", err)
		}
	}
}

// TestWfctlDirectory reads a directory as wfctl writes it: ':' and '*'
// replaced in names, config before outputs, metadata.json, *.lock.json.
func TestWfctlDirectory(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "db_a_b.json", `{"resource_id":"db:a*b","resource_type":"infra.database","provider":"aws","status":"active","config":{"x":1},"outputs":{"y":2},"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}`)
	write(t, dir, "metadata.json", `{"generator_metadata":{"wfctl_version":"0.51.10","plugins":[]}}`)
	write(t, dir, "old.lock.json", `{"stale":"lock"}`)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	entries, err := s.List(ctx, stores.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].ID != "db:a*b" || entries[0].Corrupt() {
		t.Fatalf("entries: %+v", entries)
	}
	got, err := s.Get(ctx, "db:a*b")
	if err != nil || got.Config["x"] == nil {
		t.Fatalf("get by the ID inside the file: %+v %v", got, err)
	}
	// Saving it again keeps the record in wfctl's file rather than adding a twin.
	got.Status = stores.StatusError
	if err := s.Save(ctx, got); err != nil {
		t.Fatal(err)
	}
	entries, _ = s.List(ctx, stores.Filter{})
	if len(entries) != 1 || entries[0].Source != filepath.Join(dir, "db_a_b.json") {
		t.Errorf("save created a twin: %+v", entries)
	}
}

func TestNameCollisionRefused(t *testing.T) {
	s, _ := Open(t.TempDir())
	ctx := context.Background()
	if err := s.Save(ctx, &stores.State{ResourceID: "a/b"}); err != nil {
		t.Fatal(err)
	}
	err := s.Save(ctx, &stores.State{ResourceID: "a_b"})
	if err == nil || !strings.Contains(err.Error(), "collide") {
		t.Fatalf("colliding save: %v", err)
	}
	if got, err := s.Get(ctx, "a/b"); err != nil || got.ResourceID != "a/b" {
		t.Errorf("collision damaged the first record: %v", err)
	}
}

func TestSaveIsAtomicAndPrivate(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	if err := s.Save(context.Background(), &stores.State{ResourceID: "x", Status: "active"}); err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 || files[0].Name() != "x.json" {
		t.Fatalf("left files behind: %v", files)
	}
	info, _ := os.Stat(filepath.Join(dir, "x.json"))
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", info.Mode().Perm())
	}
	data, _ := os.ReadFile(filepath.Join(dir, "x.json"))
	if strings.HasSuffix(string(data), "\n") || !strings.Contains(string(data), "\n  \"resource_type\"") {
		t.Errorf("not upstream format: %q", data)
	}
}

func TestUpstreamLockFile(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	ctx := context.Background()
	if err := s.Save(ctx, &stores.State{ResourceID: "team/db"}); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "team_db.lock", "2026-01-01T00:00:00Z")
	write(t, dir, "orphan_name.lock", "not a time")
	locks, err := s.Locks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]stores.LockInfo{}
	for _, l := range locks {
		byID[l.ResourceID] = l
	}
	l, ok := byID["team/db"]
	if !ok || !l.AcquiredAt.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || l.Holder != nil {
		t.Errorf("upstream lock: %+v", l)
	}
	odd, ok := byID["orphan_name"]
	if !ok || !strings.Contains(odd.Evidence, "not a timestamp") || odd.AcquiredAt.IsZero() {
		t.Errorf("unreadable lock body: %+v", odd)
	}
	// workflow's Lock must see statescope's lock as taken, and vice versa.
	if err := s.Lock(ctx, "team/db"); !errors.Is(err, stores.ErrLocked) {
		t.Errorf("lock over an upstream lock file: %v", err)
	}
	if err := s.ForceUnlock(ctx, "team/db", l.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "team_db.lock")); !os.IsNotExist(err) {
		t.Error("lock file still there")
	}
}

// TestForceUnlockRace: a new holder's lock that appears after the token
// check is never deleted.
func TestForceUnlockRace(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	ctx := context.Background()
	if err := s.Lock(ctx, "db"); err != nil {
		t.Fatal(err)
	}
	locks, _ := s.Locks(ctx)
	token := locks[0].Token
	// The lock changes hands: released and retaken by someone else.
	if err := s.Unlock(ctx, "db"); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "db.lock", "2030-01-01T00:00:00Z")
	if err := s.ForceUnlock(ctx, "db", token); !errors.Is(err, stores.ErrLockChanged) {
		t.Fatalf("got %v, want ErrLockChanged", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "db.lock"))
	if err != nil || string(data) != "2030-01-01T00:00:00Z" {
		t.Errorf("the new holder's lock was touched: %q %v", data, err)
	}
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		if strings.HasPrefix(f.Name(), tempPrefix) {
			t.Errorf("left %s behind", f.Name())
		}
	}
}
