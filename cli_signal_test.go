package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"statescope/stores"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

// startCLI starts the real CLI (this binary as `statescope`); done is
// closed when it has exited.
func startCLI(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer, <-chan struct{}) {
	t.Helper()
	var errOut bytes.Buffer
	cmd := exec.Command(statescopeOnPath(t), args...)
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	return cmd, &errOut, done
}

// terminate sends sig and requires the process to end by itself — what it
// runs waits for ever, so ending at all is the signal's doing — with the
// shell's exit code for it and the reason on stderr. README's "within 2 s"
// is shutdownGrace's (1.5 s, then os.Exit); a wall-clock bound here would
// measure only how loaded the machine is.
func terminate(t *testing.T, sig syscall.Signal, cmd *exec.Cmd, errOut *bytes.Buffer, done <-chan struct{}) {
	t.Helper()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	storetest.Receive(t, fmt.Sprintf("the command's end after %v", sig), done)
	name := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig]
	if code := cmd.ProcessState.ExitCode(); code != 128+int(sig) || !strings.Contains(errOut.String(), "interrupted by "+name) {
		t.Errorf("exit %d, stderr %q; want %d and the reason", code, errOut, 128+int(sig))
	}
}

// TestSignalsEndCommandsWaitingOnPostgres: the iac_resources table is
// locked by another session, so every statement waits on it for ever.
// SIGTERM or SIGINT ends a listing and a repair within the bound; the
// repair has written nothing and left no lock.
func TestSignalsEndCommandsWaitingOnPostgres(t *testing.T) {
	pg := testserver.Postgres(t)
	dsn := pg.SuperuserDSN(pg.NewDatabase(t, "postgres"))
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := stores.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	rec := storetest.Record("team/a")
	rec.Status = stores.StatusProvisioning
	if err := s.Save(ctx, rec); err != nil {
		t.Fatal(err)
	}
	before, err := s.Get(ctx, "team/a")
	stores.Close(s)
	if err != nil {
		t.Fatal(err)
	}

	blocker, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close(context.Background())
	tx, err := blocker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE iac_resources IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	watcher, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close(context.Background())

	for _, tc := range []struct {
		sig  syscall.Signal
		args []string
	}{
		{syscall.SIGTERM, []string{"list"}},
		{syscall.SIGINT, []string{"list"}},
		{syscall.SIGTERM, []string{"set-status", "team/a", "active", "--reason", "interrupted", "--yes"}},
	} {
		args := tc.args
		t.Run(args[0]+" "+tc.sig.String(), func(t *testing.T) {
			cmd, errOut, done := startCLI(t, append([]string{"--store", dsn}, args...)...)
			// Wait until statescope's statement waits on the table lock.
			for {
				var waiting int
				err := watcher.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
					WHERE application_name = 'statescope' AND wait_event_type = 'Lock'`).Scan(&waiting)
				if err != nil {
					t.Fatal(err)
				}
				if waiting > 0 {
					break
				}
				select {
				case <-done:
					t.Fatalf("%v ended before waiting on the lock: %s", args, errOut)
				case <-time.After(20 * time.Millisecond):
				}
			}
			terminate(t, tc.sig, cmd, errOut, done)
		})
	}

	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	s, err = stores.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer stores.Close(s)
	after, err := s.Get(ctx, "team/a")
	if err != nil || after.Status != before.Status || after.UpdatedAt != before.UpdatedAt {
		t.Errorf("the interrupted repair changed the record: %+v, %v", after, err)
	}
	locks, err := s.(stores.LockLister).Locks(ctx)
	if err != nil || len(locks) != 0 {
		t.Errorf("locks left behind: %+v, %v", locks, err)
	}
}
