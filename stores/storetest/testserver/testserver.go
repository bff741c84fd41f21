// Package testserver starts the real servers the tests run against
// (PostgreSQL, versitygw, fake-gcs-server, Azurite, sshd) on free loopback
// ports, waits for them and stops them. Binaries come from PATH or from the
// tools directory that .ci/install-servers fills ($STATESCOPE_TOOLS,
// default ~/.cache/statescope).
//
// Without CI set, a server that cannot start skips the test with a message
// saying how to get it; with CI set it fails the test.
package testserver

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StartupTimeout bounds how long a server may take to accept connections.
// Each starts in about a second on a quiet machine; under -race on a
// loaded 2-core machine Azurite's Node start took over 30 s. A server that
// does not start in this time still fails the run.
const StartupTimeout = 2 * time.Minute

// Unavailable stops the test: a skip on a developer's machine, a failure in CI.
func Unavailable(t testing.TB, server string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s is not available: %v (run `make test`, which installs and starts it, or .ci/install-servers)", server, err)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// ToolsDir is where .ci/install-servers puts binaries it builds or installs.
func ToolsDir() string {
	if d := os.Getenv("STATESCOPE_TOOLS"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "statescope")
}

// Find locates a binary: PATH first, then the candidate paths given
// (relative ones are taken under ToolsDir).
func Find(name string, candidates ...string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, c := range candidates {
		if !filepath.IsAbs(c) {
			c = filepath.Join(ToolsDir(), c)
		}
		if info, err := os.Stat(c); err == nil && !info.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("%s not found in PATH or %v", name, candidates)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WaitTCP waits until addr accepts connections or the timeout passes.
func WaitTCP(addr string, timeout time.Duration, proc *Process) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if proc != nil && proc.Exited() {
			return fmt.Errorf("server exited before listening on %s: %s", addr, proc.Output())
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing listening on %s after %s", addr, timeout)
}

// Process is a started server whose output is kept for error messages.
type Process struct {
	Cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{}
	err  error
}

// Start runs a server command in its own process group.
func Start(name string, args []string, env []string) (*Process, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	buf := &tailBuffer{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = buf, buf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{Cmd: cmd, out: buf, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Output is the tail of what the process printed.
func (p *Process) Output() string { return p.out.String() }

// Stop sends SIGTERM to the process group, then SIGKILL after grace, and
// reaps it (PID 1 here does not reap orphans).
func (p *Process) Stop(grace time.Duration) {
	if p == nil || p.Exited() {
		return
	}
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = b.buf[len(b.buf)-b.max:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// Shared starts a server once per test binary and hands the same instance
// to every test; TestMain stops it via StopAll.
type Shared[T any] struct {
	once sync.Once
	val  T
	err  error
	stop func()
}

var (
	stopMu  sync.Mutex
	stopAll []func()
)

// Get starts the server on first use and returns it, or stops the test
// when it cannot start.
func (s *Shared[T]) Get(t testing.TB, name string, start func() (T, func(), error)) T {
	t.Helper()
	s.once.Do(func() {
		s.val, s.stop, s.err = start()
		if s.err == nil && s.stop != nil {
			stopMu.Lock()
			stopAll = append(stopAll, s.stop)
			stopMu.Unlock()
		}
	})
	if s.err != nil {
		Unavailable(t, name, s.err)
	}
	return s.val
}

// StopAll stops every shared server; call it from TestMain after m.Run.
func StopAll() {
	stopMu.Lock()
	defer stopMu.Unlock()
	for i := len(stopAll) - 1; i >= 0; i-- {
		stopAll[i]()
	}
	stopAll = nil
}

// Main is a TestMain body: run the tests, stop the servers, exit.
func Main(m interface{ Run() int }) {
	code := m.Run()
	StopAll()
	os.Exit(code)
}

// Ctx is a context for server set-up calls.
func Ctx(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// Itoa is strconv.Itoa, for building argument lists.
func Itoa(n int) string { return strconv.Itoa(n) }

// Daemon is a server binary started on a free loopback port over a fresh
// data directory (the shape of versitygw, fake-gcs-server and Azurite).
type Daemon struct {
	// Name is the binary's name in PATH; Candidates are further places to
	// look (relative ones under ToolsDir).
	Name       string
	Candidates []string
	// Args builds the command line for the address and data directory.
	Args func(addr string, port int, dir string) []string
	Env  []string
	// Ready bounds the wait for the port to accept connections
	// (StartupTimeout for every server here).
	Ready time.Duration
}

// Launch starts the daemon and waits until it listens. stop ends it and
// removes its data directory.
func Launch(d Daemon) (addr string, stop func(), err error) {
	bin, err := Find(d.Name, d.Candidates...)
	if err != nil {
		return "", nil, err
	}
	port, err := FreePort()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "statescope-"+d.Name+"-")
	if err != nil {
		return "", nil, err
	}
	addr = net.JoinHostPort("127.0.0.1", Itoa(port))
	proc, err := Start(bin, d.Args(addr, port, dir), d.Env)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	stop = func() {
		proc.Stop(5 * time.Second)
		os.RemoveAll(dir)
	}
	if err := WaitTCP(addr, d.Ready, proc); err != nil {
		stop()
		return "", nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	return addr, stop, nil
}
