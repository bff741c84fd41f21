package s3

import (
	"errors"
	"strings"
	"testing"
	"time"

	"statescope/stores"
)

// TestLockABA: workflow's S3 plugin writes a timestamp to the second, so a
// lock released and re-taken within that second has the same ETag. A token
// taken that fresh is refused; no stale token deletes the re-taken lock.
func TestLockABA(t *testing.T) {
	s, c := newStore(t, DefaultPrefix), testCtx(t)
	key := s.layout.LockKey("db")
	wrong := 0
	for range 200 {
		body := []byte(time.Now().UTC().Format(time.RFC3339))
		putRaw(t, s, key, body)
		locks, err := s.Locks(c)
		if err != nil || len(locks) != 1 {
			t.Fatalf("locks: %+v %v", locks, err)
		}
		if err := s.Unlock(c, "db"); err != nil {
			t.Fatal(err)
		}
		putRaw(t, s, key, body)
		err = s.ForceUnlock(c, "db", locks[0].Token)
		switch {
		case err == nil:
			wrong++
		case !errors.Is(err, stores.ErrTooFresh) && !errors.Is(err, stores.ErrLockChanged):
			t.Fatalf("force unlock: %v", err)
		}
		_ = s.Unlock(c, "db")
	}
	if wrong != 0 {
		t.Errorf("%d of 200 stale tokens deleted the re-taken lock", wrong)
	}
}

// TestLockTokenProof: an upstream lock inspected more than a tick after it
// was written is released by its token; a body that is the same for every
// lock never proves one and needs the unproven release.
func TestLockTokenProof(t *testing.T) {
	s, c := newStore(t, DefaultPrefix), testCtx(t)
	putRaw(t, s, s.layout.LockKey("old"), []byte("2026-01-01T00:00:00Z"))
	putRaw(t, s, s.layout.LockKey("constant"), []byte("locked"))
	s.now = func() time.Time { return time.Now().Add(stores.FreshWindow + time.Second) }
	locks, err := s.Locks(c)
	if err != nil || len(locks) != 2 {
		t.Fatalf("locks: %+v %v", locks, err)
	}
	byID := map[string]stores.LockInfo{}
	for _, l := range locks {
		byID[l.ResourceID] = l
	}
	if l := byID["old"]; l.Unproven != "" || stores.IsFreshToken(l.Token) {
		t.Errorf("aged upstream lock: %+v", l)
	}
	if err := s.ForceUnlock(c, "old", byID["old"].Token); err != nil {
		t.Errorf("aged token: %v", err)
	}
	l := byID["constant"]
	if !strings.Contains(l.Unproven, "same for every lock") {
		t.Errorf("constant body: %+v", l)
	}
	if err := s.ForceUnlock(c, "constant", l.Token); !errors.Is(err, stores.ErrUnproven) {
		t.Errorf("constant body by token: %v, want ErrUnproven", err)
	}
	if err := s.ForceUnlockUnproven(c, "constant"); err != nil {
		t.Fatal(err)
	}
	if locks, _ := s.Locks(c); len(locks) != 0 {
		t.Errorf("locks left: %+v", locks)
	}
}
