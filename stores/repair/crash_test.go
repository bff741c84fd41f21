package repair_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/repair"
	"statescope/stores/repair/backup"
	"statescope/stores/repair/repairtest"
	"statescope/stores/storetest"
)

// crashChildEnv makes the test binary act as the child that gets killed:
// its value is the state directory to mutate.
const crashChildEnv = "STATESCOPE_REPAIR_CRASH_CHILD"

const crashID = "prod/db"

// TestCrashBetweenBackupAndWrite kills a process mid-repair, after the
// backup and the lock and before the write, and checks what it leaves:
// the record whole, the backup present, and a lock that reads as orphaned
// and can be released through the safety path.
func TestCrashBetweenBackupAndWrite(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	ctx := context.Background()
	dir, stateDir := t.TempDir(), t.TempDir()
	s, err := filesystem.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, repairtest.Record(crashID)); err != nil {
		t.Fatal(err)
	}
	recordFile := filepath.Join(dir, stores.ObjectName(crashID)+".json")
	before, err := os.ReadFile(recordFile)
	if err != nil {
		t.Fatal(err)
	}

	paused := filepath.Join(t.TempDir(), "paused")
	var out bytes.Buffer
	child := exec.Command(os.Args[0], "-test.run=^TestCrashBetweenBackupAndWrite$")
	child.Env = append(os.Environ(), crashChildEnv+"="+dir, "XDG_STATE_HOME="+stateDir, repair.PauseEnv+"="+paused)
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	if !storetest.Await(t, func() bool { _, err := os.Stat(paused); return err == nil }) {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("child never reached the pause point:\n%s", out.String())
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()

	// The record is either untouched or fully written, never torn.
	after, err := os.ReadFile(recordFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, before) {
		st, derr := stores.DecodeState(after)
		if derr != nil || st.Status != stores.StatusError {
			t.Fatalf("record torn by the crash: %q (%v)", after, derr)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".statescope-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left in the state directory: %v", leftovers)
	}

	eng := repair.New(s, repair.TargetName(dir), filepath.Join(stateDir, "statescope"))
	backups, err := eng.RecordBackups(crashID)
	if err != nil || len(backups) != 1 {
		t.Fatalf("backups after the crash: %v, %v; want the one taken before it", backups, err)
	}
	if _, data, err := backup.Read(backups[0].Path); err != nil || !bytes.Equal(data, before) {
		t.Errorf("backup does not hold the record as it was: %v", err)
	}

	locks, err := s.Locks(ctx)
	if err != nil || len(locks) != 1 {
		t.Fatalf("locks after the crash: %+v, %v; want the child's", locks, err)
	}
	stores.Judge(locks, time.Now(), stores.DefaultStaleAfter)
	l := locks[0]
	if l.Verdict != stores.VerdictOrphaned || l.Holder == nil || l.Holder.PID != child.Process.Pid || l.Holder.Operation != string(repair.ActionSetStatus) {
		t.Fatalf("the dead child's lock: verdict %s holder %+v, want orphaned, pid %d, set-status", l.Verdict, l.Holder, child.Process.Pid)
	}

	// Nothing can write while it is held; releasing it goes through the
	// safety path, and then the repair can be redone.
	p, err := eng.PlanSetStatus(ctx, crashID, stores.StatusError, "retry")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Apply(ctx, p); !errors.Is(err, stores.ErrLocked) || !strings.Contains(err.Error(), "orphaned") {
		t.Fatalf("apply under the orphaned lock: %v, want a refusal calling it orphaned", err)
	}
	rp, err := eng.PlanRelease(ctx, crashID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.ApplyRelease(ctx, rp); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Apply(ctx, p); err != nil {
		t.Fatalf("repair after releasing the orphaned lock: %v", err)
	}
}

func crashChild(dir string) {
	ctx := context.Background()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(2)
	}
	s, err := filesystem.Open(dir)
	if err != nil {
		fail(err)
	}
	stateDir, err := repair.DefaultStateDir()
	if err != nil {
		fail(err)
	}
	eng := repair.New(s, repair.TargetName(dir), stateDir)
	p, err := eng.PlanSetStatus(ctx, crashID, stores.StatusError, "crash test")
	if err != nil {
		fail(err)
	}
	_, err = eng.Apply(ctx, p)
	fail(fmt.Errorf("apply returned instead of pausing: %v", err))
}
