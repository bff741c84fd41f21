package postgres

import (
	"fmt"
	"strings"
	"testing"

	"statescope/stores"
	"statescope/stores/storetest"
)

// The server cuts application_name to 63 bytes: a field the cut went
// through is dropped, not read with half its value.
func TestAppNameCutInsideAValue(t *testing.T) {
	h := &stores.Holder{PID: 4242, Host: strings.Repeat("h", 30), User: "ci-runner", Operation: "repair"}
	app := appName(h, "db")[:maxAppName]
	if !strings.HasSuffix(app, " user=ci") {
		t.Fatalf("the cut is not inside the user's value: %q", app)
	}
	got, id, ok := parseAppName(app)
	if !ok || id != "" || got.Host != h.Host || got.User != "" {
		t.Errorf("parseAppName(%q) = %+v, %q, %v; want the host and no user", app, got, id, ok)
	}
}

// Only a real client port can prove its client gone: no port (0, or -1 for
// a unix socket) proves nothing.
func TestClientGoneNeedsAPort(t *testing.T) {
	l := &localServer{port: 5432, sockets: map[[2]uint16]string{}}
	loopback := "127.0.0.1"
	for _, port := range []int32{0, -1} {
		if gone, why := l.clientGone(lockRow{client: &loopback, clientPort: &port}); gone || why != "" {
			t.Errorf("client port %d: gone=%v %q", port, gone, why)
		}
	}
	port := int32(40000)
	if gone, _ := l.clientGone(lockRow{client: &loopback, clientPort: &port}); !gone {
		t.Error("a loopback client whose socket is gone was not judged gone")
	}
}

// A lock's evidence counts the sessions waiting for it, and its release
// names the holder's other locks that terminating it releases — or says
// there are none.
func TestReleaseNamesWaitersAndOtherLocks(t *testing.T) {
	s, pg, db := openDB(t)
	ctx := testCtx(t)
	for _, id := range []string{"a", "b", "c"} {
		if err := s.Save(ctx, storetest.Record(id)); err != nil {
			t.Fatal(err)
		}
	}
	startHolder(t, pg, "postgres", db, "two-locks").send(t, fmt.Sprintf("SELECT pg_advisory_lock(%d);\nSELECT pg_advisory_lock(%d);", Key("a"), Key("b")))
	startHolder(t, pg, "postgres", db, "one-lock").send(t, fmt.Sprintf("SELECT pg_advisory_lock(%d);", Key("c")))
	waitLock(t, s, "b", "idle")
	waitLock(t, s, "c", "idle")
	startHolder(t, pg, "postgres", db, "waiter").send(t, fmt.Sprintf("SELECT pg_advisory_lock(%d);", Key("a")))
	var a stores.LockInfo
	storetest.Eventually(t, "a waiter on a", func() bool {
		a, _ = lockOf(t, s, "a")
		return strings.Contains(a.Evidence, "1 session(s) waiting for it")
	})
	if !strings.Contains(a.Release, `which also releases: its locks on "b"`) {
		t.Errorf("the release of a names not b: %s", a.Release)
	}
	c, _ := lockOf(t, s, "c")
	if strings.Contains(c.Evidence, "waiting") || !strings.Contains(c.Release, "which also releases: no other locks") {
		t.Errorf("c: evidence %q, release %q", c.Evidence, c.Release)
	}
}

// Force-unlocking a lock this store holds releases it through its own
// connection: the store can take it again and release it normally.
func TestForceUnlockOwnLock(t *testing.T) {
	s, _, _ := openDB(t)
	ctx := testCtx(t)
	if err := s.Lock(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	l, ok := lockOf(t, s, "x")
	if !ok {
		t.Fatal("own lock not listed")
	}
	if err := s.ForceUnlock(ctx, "x", l.Token); err != nil {
		t.Fatal(err)
	}
	if err := s.Lock(ctx, "x"); err != nil {
		t.Fatalf("lock again after force-unlocking one's own: %v", err)
	}
	if err := s.Unlock(ctx, "x"); err != nil {
		t.Errorf("unlock: %v", err)
	}
}
