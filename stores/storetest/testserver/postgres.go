package testserver

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PG is a throwaway PostgreSQL server with trust authentication on
// 127.0.0.1. Administration goes through psql so this package does not pull
// a database driver into every test binary that uses it.
type PG struct {
	Host string
	Port int
	// BinDir holds the server's binaries (initdb, postgres, psql).
	BinDir string
	// Psql is the psql client, for tests that need a separate holder process.
	Psql string
}

var sharedPG Shared[*PG]

// Postgres returns the PostgreSQL server shared by this test binary,
// starting it on first use. TestMain must call Main so it is stopped.
func Postgres(t testing.TB) *PG {
	t.Helper()
	return sharedPG.Get(t, "PostgreSQL", startPostgres)
}

// DSN is the URL for user on database db (sslmode=disable, no password).
func (p *PG) DSN(user, db string) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", user, p.Host, p.Port, db)
}

// SuperuserDSN is the DSN of the postgres superuser on database db.
func (p *PG) SuperuserDSN(db string) string { return p.DSN("postgres", db) }

// Exec runs SQL as the superuser on database db and returns psql's
// unaligned, tuples-only output.
func (p *PG) Exec(ctx context.Context, db, sql string) (string, error) {
	cmd := exec.CommandContext(ctx, p.Psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-h", p.Host, "-p", strconv.Itoa(p.Port), "-U", "postgres", "-d", db, "-c", sql)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("psql %q: %v: %s", sql, err, strings.TrimSpace(errOut.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// MustExec is Exec that fails the test on error.
func (p *PG) MustExec(t testing.TB, db, sql string) string {
	t.Helper()
	ctx, cancel := Ctx(60 * time.Second)
	defer cancel()
	out, err := p.Exec(ctx, db, sql)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// NewDatabase creates an empty database for one test, owned by owner
// (the superuser when owner is empty), and drops it when the test ends.
func (p *PG) NewDatabase(t testing.TB, owner string) string {
	t.Helper()
	name := "t_" + uniqueSuffix()
	sql := "CREATE DATABASE " + name
	if owner != "" {
		sql += " OWNER " + owner
	}
	p.MustExec(t, "postgres", sql)
	t.Cleanup(func() {
		ctx, cancel := Ctx(30 * time.Second)
		defer cancel()
		// FORCE: a test that failed midway may leave sessions behind.
		_, _ = p.Exec(ctx, "postgres", "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return name
}

// NewRole creates a LOGIN role that is not a superuser and holds none of
// the predefined roles, dropped when the test ends.
func (p *PG) NewRole(t testing.TB) string {
	t.Helper()
	name := "r_" + uniqueSuffix()
	p.MustExec(t, "postgres", "CREATE ROLE "+name+" LOGIN NOSUPERUSER")
	t.Cleanup(func() {
		ctx, cancel := Ctx(30 * time.Second)
		defer cancel()
		// Databases it owns were created later, so their cleanups ran first.
		_, _ = p.Exec(ctx, "postgres", "DROP ROLE IF EXISTS "+name)
	})
	return name
}

func uniqueSuffix() string {
	return fmt.Sprintf("%d_%d", os.Getpid(), time.Now().UnixNano())
}

func findPostgresBin() (string, error) {
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Highest major version first.
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("postgres binary not found in PATH or /usr/lib/postgresql/*/bin (apt-get install -y postgresql)")
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// asServerUser runs name as the postgres OS user when we are root, which
// the server refuses to run as.
func asServerUser(name string, args ...string) (string, []string) {
	if os.Geteuid() != 0 {
		return name, args
	}
	return "runuser", append([]string{"-u", "postgres", "--", name}, args...)
}

func startPostgres() (*PG, func(), error) {
	bin, err := findPostgresBin()
	if err != nil {
		return nil, nil, err
	}
	psql := filepath.Join(bin, "psql")
	if _, err := os.Stat(psql); err != nil {
		if psql, err = exec.LookPath("psql"); err != nil {
			return nil, nil, fmt.Errorf("psql not found next to %s or in PATH", bin)
		}
	}
	dir, err := os.MkdirTemp("", "statescope-pg-")
	if err != nil {
		return nil, nil, err
	}
	cleanupDir := func() { os.RemoveAll(dir) }
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			cleanupDir()
			return nil, nil, fmt.Errorf("running as root needs the postgres OS user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			cleanupDir()
			return nil, nil, err
		}
	}
	data := filepath.Join(dir, "data")
	name, args := asServerUser(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		cleanupDir()
		return nil, nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := FreePort()
	if err != nil {
		cleanupDir()
		return nil, nil, err
	}
	name, args = asServerUser(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200")
	proc, err := Start(name, args, nil)
	if err != nil {
		cleanupDir()
		return nil, nil, err
	}
	pg := &PG{Host: "127.0.0.1", Port: port, BinDir: bin, Psql: psql}
	stop := func() {
		stopPostmaster(data, proc)
		cleanupDir()
	}
	if err := pg.waitReady(proc, StartupTimeout); err != nil {
		stop()
		return nil, nil, err
	}
	return pg, stop, nil
}

// waitReady waits for a real login, not just an open port: the server
// accepts connections before recovery ends and refuses logins until then.
func (p *PG) waitReady(proc *Process, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		if proc.Exited() {
			return fmt.Errorf("postgres exited during start-up: %s", proc.Output())
		}
		ctx, cancel := Ctx(5 * time.Second)
		_, lastErr = p.Exec(ctx, "postgres", "SELECT 1")
		cancel()
		if lastErr == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("postgres not ready after %s: %v; server output: %s", timeout, lastErr, proc.Output())
}

// stopPostmaster asks for a fast shutdown (SIGINT to the postmaster, which
// disconnects sessions) rather than the process group's SIGTERM, a smart
// shutdown that waits for every client to leave.
func stopPostmaster(data string, proc *Process) {
	if b, err := os.ReadFile(filepath.Join(data, "postmaster.pid")); err == nil {
		first, _, _ := strings.Cut(string(b), "\n")
		if pid, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGINT)
			deadline := time.Now().Add(10 * time.Second)
			for !proc.Exited() && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	proc.Stop(5 * time.Second)
}
