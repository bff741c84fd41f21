package postgres

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"statescope/stores"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

// holder is a psql process in a session of its own, standing in for a
// workflow engine that took a lock and then hung or died.
type holder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

func startHolder(t *testing.T, pg *testserver.PG, user, db, app string) *holder {
	t.Helper()
	cmd := exec.Command(pg.Psql, "-X", "-q", "-h", pg.Host, "-p", strconv.Itoa(pg.Port), "-U", user, "-d", db)
	cmd.Env = append(os.Environ(), "PGAPPNAME="+app)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return &holder{cmd: cmd, stdin: stdin}
}

// send feeds SQL to psql; the session stays open while stdin does.
func (h *holder) send(t *testing.T, sql string) {
	t.Helper()
	if _, err := io.WriteString(h.stdin, sql+"\n"); err != nil {
		t.Fatal(err)
	}
}

// lockOf returns the inventory entry for id, or false.
func lockOf(t *testing.T, s *Store, id string) (stores.LockInfo, bool) {
	t.Helper()
	locks, err := s.Locks(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range locks {
		if l.ResourceID == id {
			return l, true
		}
	}
	return stores.LockInfo{}, false
}

// waitLock polls the inventory until id is locked in the given session state.
func waitLock(t *testing.T, s *Store, id, state string) stores.LockInfo {
	t.Helper()
	var l stores.LockInfo
	storetest.Eventually(t, fmt.Sprintf("a lock on %q in state %q", id, state), func() bool {
		found, ok := lockOf(t, s, id)
		l = found
		return ok && (state == "" || l.Holder.Details["state"] == state)
	})
	return l
}

func sessionExists(t *testing.T, s *Store, pid int) bool {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(testCtx(t), "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func logLock(t *testing.T, l stores.LockInfo) {
	t.Helper()
	t.Logf("lock %q token %s verdict %s acquired %s\n  holder %+v\n  evidence: %s\n  release: %s",
		l.ResourceID, l.Token, l.Verdict, l.AcquiredAt.UTC().Format(time.RFC3339), *l.Holder, l.Evidence, l.Release)
}

// TestOrphanIdleHolder: a separate process took the lock the way the
// engine does and went quiet. statescope sees who holds it, refuses a
// stale token, and terminating the session with the right token frees it.
func TestOrphanIdleHolder(t *testing.T) {
	s, pg, db := openDB(t)
	ctx := testCtx(t)
	for _, id := range []string{"orders-db", "orders-cache"} {
		if err := s.Save(ctx, storetest.Record(id)); err != nil {
			t.Fatal(err)
		}
	}
	h := startHolder(t, pg, "postgres", db, "workflow-engine")
	h.send(t, fmt.Sprintf("SELECT pg_advisory_lock(%d); SELECT pg_advisory_lock(%d);", Key("orders-db"), Key("orders-cache")))
	waitLock(t, s, "orders-cache", "idle")
	l := waitLock(t, s, "orders-db", "idle")
	logLock(t, l)

	pid := l.Holder.PID
	if pid == 0 || l.Holder.Details["application"] != "workflow-engine" || !strings.HasPrefix(l.Holder.Details["client"], "127.0.0.1 port ") {
		t.Errorf("holder: %+v", l.Holder)
	}
	started := mustTime(t, l.Holder.Details["backend_start"])
	if pidPart, nanos, _ := strings.Cut(l.Token, ":"); pidPart != strconv.Itoa(pid) || nanos == "-" {
		t.Errorf("token %q is not pid:backend_start", l.Token)
	} else if n, _ := strconv.ParseInt(nanos, 10, 64); !time.Unix(0, n).Truncate(time.Second).Equal(started) {
		t.Errorf("token %q does not carry backend_start %s", l.Token, started)
	}
	wantRelease := fmt.Sprintf(`terminate PostgreSQL backend pid %d (session of "workflow-engine" from 127.0.0.1 port `, pid)
	if !strings.HasPrefix(l.Release, wantRelease) || !strings.HasSuffix(l.Release, `which also releases: its locks on "orders-cache"`) {
		t.Errorf("release text: %s", l.Release)
	}
	if !strings.Contains(l.Evidence, "session idle since") || !strings.Contains(l.Evidence, "is still open on this host") || l.HolderGone {
		t.Errorf("evidence: %s (holder gone: %v)", l.Evidence, l.HolderGone)
	}

	// Fresh now; stale once idle past the threshold.
	for _, tt := range []struct {
		at   time.Time
		want stores.Verdict
	}{{time.Now(), stores.VerdictHeld}, {time.Now().Add(time.Hour), stores.VerdictStale}} {
		judged := []stores.LockInfo{l}
		stores.Judge(judged, tt.at, stores.DefaultStaleAfter)
		if judged[0].Verdict != tt.want {
			t.Errorf("verdict at %s: %s, want %s (%s)", tt.at, judged[0].Verdict, tt.want, judged[0].Evidence)
		}
	}

	if err := s.Lock(ctx, "orders-db"); !errors.Is(err, stores.ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("backend pid %d", pid)) {
		t.Errorf("lock of a held lock: %v", err)
	}
	if err := s.Unlock(ctx, "orders-db"); !errors.Is(err, stores.ErrNotLocked) {
		t.Errorf("unlock of another session's lock: %v", err)
	}
	for _, stale := range []string{fmt.Sprintf("%d:1", pid), fmt.Sprintf("%d:-", pid+1), "garbage"} {
		if err := s.ForceUnlock(ctx, "orders-db", stale); !errors.Is(err, stores.ErrLockChanged) {
			t.Errorf("force unlock with token %q: %v, want ErrLockChanged", stale, err)
		}
	}
	if !sessionExists(t, s, pid) {
		t.Fatal("a refused force unlock ended the session")
	}

	if err := s.ForceUnlock(ctx, "orders-db", l.Token); err != nil {
		t.Fatalf("force unlock: %v", err)
	}
	if sessionExists(t, s, pid) {
		t.Error("holder's session still exists")
	}
	for _, id := range []string{"orders-db", "orders-cache"} {
		if _, ok := lockOf(t, s, id); ok {
			t.Errorf("%s still locked after terminating its session", id)
		}
	}
	if err := s.ForceUnlock(ctx, "orders-db", l.Token); !errors.Is(err, stores.ErrNotLocked) {
		t.Errorf("second force unlock: %v, want ErrNotLocked", err)
	}
	if err := s.Lock(ctx, "orders-db"); err != nil {
		t.Errorf("lock after release: %v", err)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return tm
}

// TestOrphanKilledDuringQuery: the holder process is killed while its
// backend runs a long query. PostgreSQL keeps the session, and the lock,
// until the query ends; the inventory shows a live, active session and
// releasing terminates it.
func TestOrphanKilledDuringQuery(t *testing.T) {
	s, pg, db := openDB(t)
	ctx := testCtx(t)
	const id = "payments-db"
	if err := s.Save(ctx, storetest.Record(id)); err != nil {
		t.Fatal(err)
	}
	h := startHolder(t, pg, "postgres", db, "workflow-apply")
	h.send(t, fmt.Sprintf("SELECT pg_advisory_lock(%d);\nSELECT pg_sleep(600);", Key(id)))
	before := waitLock(t, s, id, "active")
	if before.HolderGone {
		t.Fatalf("a live client was judged gone: %s", before.Evidence)
	}
	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = h.cmd.Wait()
	time.Sleep(300 * time.Millisecond)

	l, ok := lockOf(t, s, id)
	if !ok || l.Token != before.Token {
		t.Fatalf("after the holder was killed mid-query the lock should still be held by the same session: %+v", l)
	}
	logLock(t, l)
	if l.Holder.Details["state"] != "active" || !strings.Contains(l.Evidence, "notices only when the query ends") {
		t.Errorf("inventory does not explain the running query: %s", l.Evidence)
	}
	// Server and client both on this host: the client's socket is gone,
	// which proves the holder has ended though its backend runs on.
	judged := []stores.LockInfo{l}
	stores.Judge(judged, time.Now(), stores.DefaultStaleAfter)
	if !l.HolderGone || judged[0].Verdict != stores.VerdictOrphaned || !strings.Contains(l.Evidence, "the client has gone") {
		t.Errorf("killed client not proven gone: verdict %s, %s", judged[0].Verdict, l.Evidence)
	}
	if !strings.HasSuffix(l.Release, "its running query is cancelled") {
		t.Errorf("release text: %s", l.Release)
	}
	if err := s.ForceUnlock(ctx, id, l.Token); err != nil {
		t.Fatalf("force unlock: %v", err)
	}
	if sessionExists(t, s, l.Holder.PID) {
		t.Error("the orphaned backend still runs")
	}
	if _, ok := lockOf(t, s, id); ok {
		t.Error("lock still held")
	}
}

// TestForceUnlockNeedsSignalBackend: a role that may not terminate other
// roles' sessions is told which grant it needs, and the grant is enough.
func TestForceUnlockNeedsSignalBackend(t *testing.T) {
	pg := testserver.Postgres(t)
	holderRole, operator := pg.NewRole(t), pg.NewRole(t)
	db := pg.NewDatabase(t, operator)
	s := openAs(t, pg.DSN(operator, db))
	ctx := testCtx(t)
	const id = "shared-db"
	if err := s.Save(ctx, storetest.Record(id)); err != nil {
		t.Fatal(err)
	}
	h := startHolder(t, pg, holderRole, db, "other-team")
	h.send(t, fmt.Sprintf("SELECT pg_advisory_lock(%d);", Key(id)))
	l := waitLock(t, s, id, "")
	logLock(t, l)
	if !strings.HasSuffix(l.Token, ":-") || !strings.Contains(l.Evidence, "pg_read_all_stats") {
		t.Errorf("a role without pg_read_all_stats sees %q / %s", l.Token, l.Evidence)
	}

	err := s.ForceUnlock(ctx, id, l.Token)
	t.Logf("without the grant: %v", err)
	if pgErrCode(err) != codeInsufficientPrivilege || !strings.Contains(err.Error(), `GRANT pg_signal_backend TO "`+operator+`"`) {
		t.Fatalf("force unlock without pg_signal_backend: %v", err)
	}
	if _, ok := lockOf(t, s, id); !ok {
		t.Fatal("lock vanished after a refused release")
	}
	pg.MustExec(t, "postgres", `GRANT pg_signal_backend TO "`+operator+`"`)
	if err := s.ForceUnlock(ctx, id, l.Token); err != nil {
		t.Fatalf("force unlock with pg_signal_backend: %v", err)
	}
	if _, ok := lockOf(t, s, id); ok {
		t.Error("lock still held")
	}
}

// TestInventoryNamesEveryKey: locks statescope holds on IDs without a
// record, and keys nothing maps to, are listed too.
func TestInventoryNamesEveryKey(t *testing.T) {
	s, pg, db := openDB(t)
	ctx := testCtx(t)
	if err := s.Lock(ctx, "no-record-yet"); err != nil {
		t.Fatal(err)
	}
	h := startHolder(t, pg, "postgres", db, "someone-else")
	h.send(t, "SELECT pg_advisory_lock(42);")
	unknown := waitLock(t, s, "advisory-key:42", "idle")
	if !strings.Contains(unknown.Evidence, "may not be a workflow lock") {
		t.Errorf("unknown key evidence: %s", unknown.Evidence)
	}
	mine, ok := lockOf(t, s, "no-record-yet")
	if !ok {
		t.Fatal("own lock not listed")
	}
	logLock(t, mine)
	if mine.Holder.Tool != "statescope" || mine.Holder.PID != os.Getpid() || mine.Holder.Operation != "lock" ||
		!strings.Contains(mine.Release, "own lock connection") {
		t.Errorf("own lock: %+v, %s", mine.Holder, mine.Release)
	}
	judged := []stores.LockInfo{mine}
	stores.Judge(judged, time.Now().Add(24*time.Hour), stores.DefaultStaleAfter)
	if judged[0].Verdict != stores.VerdictHeld {
		t.Errorf("a lock this live process holds was judged %s: %s", judged[0].Verdict, judged[0].Evidence)
	}
}

func TestProcAddr(t *testing.T) {
	tests := []struct {
		in   string
		ip   string
		port uint16
		ok   bool
	}{
		{"0100007F:1F90", "127.0.0.1", 8080, true},
		{"00000000000000000000000001000000:0016", "::1", 22, true},
		{"0000000000000000FFFF00000100007F:CEA8", "127.0.0.1", 52904, true},
		{"0A00020F:0050", "15.2.0.10", 80, true},
		{"zz:0050", "", 0, false},
		{"0100007F", "", 0, false},
	}
	for _, tt := range tests {
		ip, port, ok := procAddr(tt.in)
		if ok != tt.ok || port != tt.port || (ok && ip.String() != tt.ip) {
			t.Errorf("procAddr(%q) = %v, %d, %v; want %s, %d, %v", tt.in, ip, port, ok, tt.ip, tt.port, tt.ok)
		}
	}
}

// TestStatescopeHolder: another statescope process holds a lock. The
// inventory names it (pid, host, operation) from application_name, Judge
// sees the process alive, and when the process dies its lock goes with it.
func TestStatescopeHolder(t *testing.T) {
	s, pg, db := openDB(t)
	const id = "db/a b"
	me := stores.NewHolder("apply") // the child runs as the same user on the same host
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holderEnv+"="+pg.SuperuserDSN(db)+" "+id)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make([]byte, 64)
	if n, _ := out.Read(line); !strings.HasPrefix(string(line[:n]), "locked") {
		t.Fatalf("holder process: %q", line[:n])
	}

	// There is no record, so the ID comes from application_name, unless
	// the server had to truncate it (a long host name).
	listedAs := id
	if len(appName(&stores.Holder{PID: cmd.Process.Pid, Host: me.Host, User: me.User, Operation: "apply"}, id)) > maxAppName {
		listedAs = fmt.Sprintf("advisory-key:%d", Key(id))
	}
	l, ok := lockOf(t, s, listedAs)
	if !ok {
		t.Fatalf("the other process's lock is not listed as %q", listedAs)
	}
	logLock(t, l)
	if l.Holder.Tool != "statescope" || l.Holder.PID != cmd.Process.Pid || l.Holder.Host != me.Host || l.Holder.Operation != "apply" {
		t.Errorf("holder: %+v", l.Holder)
	}
	judged := []stores.LockInfo{l}
	stores.Judge(judged, time.Now().Add(time.Hour), stores.DefaultStaleAfter)
	if judged[0].Verdict != stores.VerdictHeld || !strings.Contains(judged[0].Evidence, "is running on this host") {
		t.Errorf("live statescope holder judged %s: %s", judged[0].Verdict, judged[0].Evidence)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if !storetest.Await(t, func() bool { _, ok := lockOf(t, s, listedAs); return !ok }) {
		t.Fatal("the lock outlived its idle holder process")
	}
}
