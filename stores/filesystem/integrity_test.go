package filesystem

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"statescope/stores"
	"statescope/stores/storetest"
)

// requireRoot: root-only cases run everywhere CI runs (as root) and are
// skipped only on a developer's unprivileged machine.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("this case needs root, and CI runs as root")
	}
	t.Skip("needs root (mknod)")
}

// plantSpecial makes name in dir a non-regular file of the given kind and
// returns what its problem must say.
func plantSpecial(t *testing.T, dir, name, kind, outside string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	switch kind {
	case "symlink":
		if err := os.Symlink(outside, path); err != nil {
			t.Fatal(err)
		}
		return "symlink to " + outside + ", not followed"
	case "fifo":
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
		return "FIFO (named pipe), not read"
	case "socket":
		l, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		l.(*net.UnixListener).SetUnlinkOnClose(false)
		t.Cleanup(func() { l.Close() })
		return "socket, not read"
	case "device":
		requireRoot(t)
		if err := unix.Mknod(path, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))); err != nil {
			t.Fatal(err)
		}
		return "device file, not read"
	case "dir":
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
		return "directory, not read"
	}
	t.Fatalf("unknown kind %s", kind)
	return ""
}

// within fails the test if fn never returns: a FIFO read blocks forever,
// and the point is that nothing does.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	storetest.Receive(t, what+" returning", done)
}

// TestNotRegularEntries: a link, FIFO, socket, device or directory named
// like a record or lock is shown as unreadable with what it is, and is
// never read, followed, written through or released.
func TestNotRegularEntries(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "shadow")
	write(t, filepath.Dir(secret), "shadow", `{"resource_id":"x","secret":"TOPSECRET"}`)
	for _, kind := range []string{"symlink", "fifo", "socket", "device", "dir"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			s, _ := Open(dir)
			if err := s.Save(ctx, &stores.State{ResourceID: "ok", Status: "active"}); err != nil {
				t.Fatal(err)
			}
			want := plantSpecial(t, dir, "x.json", kind, secret)
			plantSpecial(t, dir, "x.lock", kind, secret)

			var entries []stores.Entry
			within(t, "list", func() { entries, _ = s.List(ctx, stores.Filter{}) })
			var found bool
			for _, e := range entries {
				if e.Source == filepath.Join(dir, "x.json") {
					found = true
					if e.State != nil || !strings.Contains(e.Problem, want) {
						t.Errorf("entry: %+v, want problem %q", e, want)
					}
				}
			}
			if !found || len(entries) != 2 {
				t.Errorf("entries %+v, want ok and the unreadable x.json", entries)
			}
			within(t, "stream", func() {
				if err := s.Stream(ctx, stores.Filter{}, func([]stores.Entry) error { return nil }); err != nil {
					t.Error(err)
				}
			})
			within(t, "rows", func() {
				var problems []string
				err := s.ListRows(ctx, stores.Filter{}, nil, func(rows []stores.Row) error {
					for _, r := range rows {
						problems = append(problems, r.Problem)
					}
					return nil
				})
				if err != nil || len(problems) != 2 || !strings.Contains(strings.Join(problems, "|"), want) {
					t.Errorf("rows: %q %v", problems, err)
				}
			})
			within(t, "get", func() {
				v, err := s.GetVersioned(ctx, "x")
				if !errors.Is(err, stores.ErrCorrupt) || len(v.Raw) != 0 || !strings.Contains(err.Error(), want) {
					t.Errorf("get versioned: %v, %d raw bytes", err, len(v.Raw))
				}
				if _, err := ReadFile(filepath.Join(dir, "x.json")); !strings.Contains(fmtErr(err), want) {
					t.Errorf("ReadFile: %v", err)
				}
			})
			within(t, "save", func() {
				if err := s.Save(ctx, &stores.State{ResourceID: "x", Status: "error"}); err == nil {
					t.Error("save wrote through a non-regular entry")
				}
				if err := s.Delete(ctx, "x"); err == nil {
					t.Error("delete removed a non-regular entry")
				}
			})
			var locks []stores.LockInfo
			within(t, "locks", func() { locks, _ = s.Locks(ctx) })
			if len(locks) != 1 || locks[0].Token != "" || !strings.Contains(locks[0].Evidence, want) {
				t.Fatalf("locks: %+v", locks)
			}
			within(t, "force unlock", func() {
				if err := s.ForceUnlock(ctx, "x", ""); err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("force unlock: %v", err)
				}
				if err := s.ForceUnlockUnproven(ctx, "x"); err == nil {
					t.Error("unproven release removed a non-regular lock")
				}
			})
			for _, name := range []string{"x.json", "x.lock"} {
				if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
					t.Errorf("%s is gone: %v", name, err)
				}
			}
			if data, _ := os.ReadFile(secret); !strings.Contains(string(data), "TOPSECRET") {
				t.Error("the link's target was written")
			}
		})
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestLockABA: a lock released and re-taken with the same body and the
// same mtime second is never released by the first lock's token. With
// inode generations the tokens differ; without, a token taken that fresh
// is refused. No wrong release in 200 races either way.
func TestLockABA(t *testing.T) {
	for _, gen := range []bool{true, false} {
		t.Run(map[bool]string{true: "generation", false: "no-generation"}[gen], func(t *testing.T) {
			useGeneration = gen
			t.Cleanup(func() { useGeneration = true })
			dir := t.TempDir()
			s, _ := Open(dir)
			ctx := context.Background()
			body := "2026-01-01T00:00:00Z"
			second := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			take := func() {
				write(t, dir, "db.lock", body)
				if err := os.Chtimes(filepath.Join(dir, "db.lock"), second, second); err != nil {
					t.Fatal(err)
				}
			}
			wrong := 0
			for range 200 {
				take()
				locks, err := s.Locks(ctx)
				if err != nil || len(locks) != 1 {
					t.Fatalf("locks: %v %v", locks, err)
				}
				os.Remove(filepath.Join(dir, "db.lock"))
				take()
				err = s.ForceUnlock(ctx, "db", locks[0].Token)
				if err == nil {
					wrong++
				} else if !errors.Is(err, stores.ErrLockChanged) && !errors.Is(err, stores.ErrTooFresh) {
					t.Fatalf("force unlock: %v", err)
				}
				os.Remove(filepath.Join(dir, "db.lock"))
			}
			if wrong != 0 {
				t.Errorf("%d of 200 stale tokens released the re-taken lock", wrong)
			}
		})
	}
}

// TestFreshLockRefused: without inode generations, a token taken within
// one tick of the lock is refused (ErrTooFresh, nothing changes); one
// taken later proves the lock and releases it.
func TestFreshLockRefused(t *testing.T) {
	useGeneration = false
	t.Cleanup(func() { useGeneration = true })
	dir := t.TempDir()
	s, _ := Open(dir)
	ctx := context.Background()
	write(t, dir, "db.lock", "2026-01-01T00:00:00Z")
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "db.lock"), &st); err != nil {
		t.Fatal(err)
	}
	changed := time.Unix(st.Ctim.Unix())
	// Inspected in the very tick the lock was taken.
	s.now = func() time.Time { return changed }
	locks, _ := s.Locks(ctx)
	if len(locks) != 1 || !stores.IsFreshToken(locks[0].Token) || !strings.Contains(locks[0].Unproven, stores.ErrTooFresh.Error()) {
		t.Fatalf("fresh lock: %+v", locks)
	}
	if err := s.ForceUnlock(ctx, "db", locks[0].Token); !errors.Is(err, stores.ErrTooFresh) {
		t.Fatalf("fresh token: %v, want ErrTooFresh", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "db.lock")); err != nil {
		t.Fatal("a refused release removed the lock")
	}
	s.now = func() time.Time { return changed.Add(stores.FreshWindow) }
	locks, _ = s.Locks(ctx)
	if len(locks) != 1 || stores.IsFreshToken(locks[0].Token) || locks[0].Unproven != "" {
		t.Fatalf("aged lock: %+v", locks)
	}
	if err := s.ForceUnlock(ctx, "db", locks[0].Token); err != nil {
		t.Fatalf("aged token: %v", err)
	}
	// statescope's own locks carry a nonce: proven at once.
	s.now = time.Now
	if err := s.Lock(ctx, "own"); err != nil {
		t.Fatal(err)
	}
	locks, _ = s.Locks(ctx)
	if len(locks) != 1 || locks[0].Unproven != "" {
		t.Fatalf("statescope lock: %+v", locks)
	}
}

// TestLockPublishedComplete: statescope's lock appears with its holder
// already in it. inotify shows the lock file is never modified after it
// appears (today's create-then-write shows it empty first).
func TestLockPublishedComplete(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MODIFY|unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO); err != nil {
		t.Fatal(err)
	}
	if err := s.Lock(context.Background(), "db"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	n, err := unix.Read(fd, buf)
	if err != nil {
		t.Fatal(err)
	}
	appeared := false
	for off := 0; off < n; {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
		name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)]), "\x00")
		off += unix.SizeofInotifyEvent + int(ev.Len)
		if name != "db.lock" {
			continue
		}
		if ev.Mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0 {
			appeared = true
		}
		if ev.Mask&(unix.IN_MODIFY|unix.IN_CLOSE_WRITE) != 0 {
			t.Errorf("db.lock was written after it appeared (event %#x): someone could read it empty", ev.Mask)
		}
	}
	if !appeared {
		t.Error("no event for db.lock")
	}
	data, _ := os.ReadFile(filepath.Join(dir, "db.lock"))
	if !stores.HasNonce(data) {
		t.Errorf("lock body %q", data)
	}
}

// deadPID is the pid of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// TestLeftoverTemps: temp files a killed run left are shown in the lock
// inventory; the next lock statescope takes removes the write and lock
// temps of dead pids on this host, and keeps a captured lock and anything
// a live run owns.
func TestLeftoverTemps(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	dead := deadPID(t)
	name := func(kind string, pid int) string {
		return tempPrefix + kind + "-" + hostTag + "-" + strconv.Itoa(pid) + "-0a0b0c" + tempExt
	}
	killedLock, killedWrite, captured, live := name(tempLock, dead), name(tempWrite, dead), name(tempRelease, dead), name(tempLock, os.Getpid())
	for _, n := range []string{killedLock, killedWrite, captured, live} {
		write(t, dir, n, "")
	}
	locks, err := s.Locks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]string{}
	for _, l := range locks {
		shown[filepath.Base(l.Source)] = l.Evidence
	}
	for _, n := range []string{killedLock, killedWrite, captured} {
		if !strings.Contains(shown[n], "killed") {
			t.Errorf("%s not shown as left by a killed run: %q", n, shown[n])
		}
	}
	if _, ok := shown[live]; ok {
		t.Errorf("a live run's temp file is shown as leftover")
	}
	if err := s.Lock(context.Background(), "db"); err != nil {
		t.Fatal(err)
	}
	for n, keep := range map[string]bool{killedLock: false, killedWrite: false, captured: true, live: true} {
		if _, err := os.Stat(filepath.Join(dir, n)); (err == nil) != keep {
			t.Errorf("%s: kept %v, want %v", n, err == nil, keep)
		}
	}
}
