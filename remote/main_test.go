package remote

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"statescope/remote/auth"
	"statescope/remote/server"
	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/repair/repairtest"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

// statescopeBin is the real statescope binary, built once, that the plugin
// tests launch as `serve --plugin`.
var statescopeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "statescope-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Another user runs this binary in the authentication tests.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	statescopeBin = filepath.Join(dir, "statescope")
	build := exec.Command("go", "build", "-o", statescopeBin, "statescope")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building statescope:", err)
		os.Exit(1)
	}
	// Mutations over serve write backups and audit lines: keep them here.
	os.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	Configure(Options{Log: io.Discard})
	code := m.Run()
	testserver.StopAll()
	os.RemoveAll(dir)
	os.Exit(code)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// serveStore serves st in this process on listen as `statescope serve`
// does, callers checked by a guard with auth.Config{} (the serving uid and
// root on a unix socket) or, for TCP, the token in tokenFile(t); the
// returned stop (also run at cleanup) waits for the server to end.
func serveStore(t testing.TB, st stores.Store, opts server.Options, listen string) (stop func()) {
	t.Helper()
	cfg := auth.Config{}
	if strings.HasPrefix(listen, "tcp:") {
		cfg.Tokens = []auth.Token{testToken(t)}
	}
	return serveGuarded(t, st, opts, listen, auth.New(cfg))
}

// serveGuarded serves st on listen behind guard.
func serveGuarded(t testing.TB, st stores.Store, opts server.Options, listen string, guard *auth.Guard) (stop func()) {
	t.Helper()
	l, err := server.Listen(listen)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := server.NewGRPC(server.New(st, opts), guard)
	return serveOn(t, l, g)
}

var (
	tokenOnce sync.Once
	tokenPath string
	token     auth.Token
)

// testToken is a token file shared by the TCP tests (tokenPath).
func testToken(t testing.TB) auth.Token {
	tokenOnce.Do(func() {
		dir, err := os.MkdirTemp("", "statescope-token")
		if err != nil {
			t.Fatal(err)
		}
		tokenPath = filepath.Join(dir, "tests.token")
		if token, _, err = auth.LoadOrCreateToken(tokenPath); err != nil {
			t.Fatal(err)
		}
	})
	return token
}

// serveOn serves g on l.
func serveOn(t testing.TB, l net.Listener, g *grpc.Server) (stop func()) {
	done := make(chan error, 1)
	go func() { done <- g.Serve(l) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			g.Stop()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func openFS(t testing.TB, dir string) stores.Store {
	t.Helper()
	st, err := filesystem.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// sockPath is a unix socket path short enough for sun_path.
func sockPath(t testing.TB) string {
	d, err := os.MkdirTemp("", "ss")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return filepath.Join(d, "s.sock")
}

func freeAddr(t testing.TB) string {
	port, err := testserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

func open(t testing.TB, target string) stores.Store {
	t.Helper()
	s, err := stores.Open(ctxT(t), target)
	if err != nil {
		t.Fatalf("open %s: %v", target, err)
	}
	return s
}

// openErr opens a target expected to fail; a store opened anyway is
// closed, so a failing test leaves no connection behind.
func openErr(t testing.TB, target string) error {
	t.Helper()
	s, err := stores.Open(ctxT(t), target)
	if err == nil {
		stores.Close(s)
	}
	return err
}

// pluginArgs is the query that launches statescope as a plugin over dir.
func pluginArgs(dir string, extra ...string) url.Values {
	q := url.Values{}
	for _, a := range append([]string{"serve", "--plugin", "--store", dir}, extra...) {
		q.Add("arg", a)
	}
	return q
}

// conformance runs the store suite over a transport; open returns a store
// reaching a fresh filesystem directory.
// dirStores opens remote stores over fresh filesystem directories and
// plants unreadable records in those directories behind their backs.
type dirStores struct {
	open func(t *testing.T, dir string) stores.Store
	mu   sync.Mutex
	dirs map[stores.Store]string
}

func (d *dirStores) New(t *testing.T) stores.Store {
	dir := t.TempDir()
	s := d.open(t, dir)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dirs == nil {
		d.dirs = map[stores.Store]string{}
	}
	d.dirs[s] = dir
	return s
}

func (d *dirStores) Corrupt(t *testing.T, s stores.Store, id string) {
	d.mu.Lock()
	dir := d.dirs[s]
	d.mu.Unlock()
	if err := os.WriteFile(filepath.Join(dir, id+".json"), []byte("\x00garbage{"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// remoteCapabilities: statescope's lock-admin service gives a remote store
// the lock inventory; the IaCStateBackend contract has no conditional
// writes and no lock holder.
var remoteCapabilities = storetest.Capabilities{storetest.LockInventory, storetest.CorruptRecords}

func conformance(t *testing.T, open func(t *testing.T, dir string) stores.Store) {
	d := &dirStores{open: open}
	storetest.Run(t, storetest.Harness{New: d.New, Corrupt: d.Corrupt, MaxRecordBytes: 4 << 20, Capabilities: remoteCapabilities})
}

// Every repair through the safety path over gRPC: the remote store has no
// compare-and-swap, so the engine re-checks right before writing.
func TestRepairsDirectUnix(t *testing.T) {
	d := &dirStores{open: func(t *testing.T, dir string) stores.Store {
		sock := sockPath(t)
		serveStore(t, openFS(t, dir), server.Options{}, "unix://"+sock)
		return open(t, "unix://"+sock)
	}}
	repairtest.Run(t, repairtest.Harness{New: d.New, Corrupt: d.Corrupt, Capabilities: remoteCapabilities})
}

func TestConformanceDirectUnix(t *testing.T) {
	conformance(t, func(t *testing.T, dir string) stores.Store {
		sock := sockPath(t)
		serveStore(t, openFS(t, dir), server.Options{}, "unix://"+sock)
		return open(t, "unix://"+sock)
	})
}

func TestConformanceDirectTCP(t *testing.T) {
	conformance(t, func(t *testing.T, dir string) stores.Store {
		addr := freeAddr(t)
		serveStore(t, openFS(t, dir), server.Options{RequireConfigure: true}, "tcp://"+addr)
		return open(t, "grpc://"+addr+"?token_file="+url.QueryEscape(tokenPath))
	})
}

func TestConformanceLocalPlugin(t *testing.T) {
	conformance(t, func(t *testing.T, dir string) stores.Store {
		return open(t, "plugin://"+statescopeBin+"?"+pluginArgs(dir, "--require-configure").Encode())
	})
}

var (
	sshOnce sync.Once
	sshSrv  *testserver.SSHD
)

// sshHost starts the shared sshd and points $HOME/.ssh/config at it, with
// aliases: "sshd" (host key known), "sshd-wrong" (known_hosts holds another
// key), "sshd-new" (an empty known_hosts of its own), "sshd-fast" (1 s
// keepalives), "sshd-agent" (no key file: ssh-agent only) and "sshd-jump"
// (through "sshd" with ProxyJump).
func sshHost(t testing.TB) *testserver.SSHD {
	t.Helper()
	s := testserver.SharedSSHD(t)
	sshOnce.Do(func() {
		home, err := os.MkdirTemp("", "statescope-home")
		if err != nil {
			t.Fatal(err)
		}
		dotSSH := filepath.Join(home, ".ssh")
		if err := os.MkdirAll(dotSSH, 0o700); err != nil {
			t.Fatal(err)
		}
		other, err := os.ReadFile(s.ClientKey + ".pub") // any key that is not the host's
		if err != nil {
			t.Fatal(err)
		}
		wrong := fmt.Sprintf("[127.0.0.1]:%d %s\n", s.Port, other)
		files := map[string]string{"known_hosts": s.KnownHostsLine + "\n", "known_hosts_wrong": wrong}
		host := func(alias, knownHosts, identity, extra string) string {
			return fmt.Sprintf("Host %s\n  HostName 127.0.0.1\n  Port %d\n  User %s\n  IdentityFile %s\n  UserKnownHostsFile %s\n%s\n",
				alias, s.Port, s.User, identity, filepath.Join(dotSSH, knownHosts), extra)
		}
		conf := host("sshd", "known_hosts", s.ClientKey, "") +
			host("sshd-wrong", "known_hosts_wrong", s.ClientKey, "") +
			host("sshd-new", "known_hosts_new", s.ClientKey, "") +
			host("sshd-fast", "known_hosts", s.ClientKey, "  ServerAliveInterval 1\n") +
			host("sshd-agent", "known_hosts", filepath.Join(dotSSH, "no_such_key"), "") +
			// Jumping through the same server still checks both host keys.
			host("sshd-jump", "known_hosts", s.ClientKey, "  ProxyJump sshd\n")
		files["config"] = conf
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dotSSH, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		os.Setenv("HOME", home)
		os.Unsetenv("SSH_AUTH_SOCK")
		sshSrv = s
	})
	return sshSrv
}

func TestConformanceSSHSocket(t *testing.T) {
	sshHost(t)
	conformance(t, func(t *testing.T, dir string) stores.Store {
		sock := sockPath(t)
		serveStore(t, openFS(t, dir), server.Options{}, "unix://"+sock)
		return open(t, "ssh://sshd?socket="+url.QueryEscape(sock))
	})
}

func TestConformanceSSHPlugin(t *testing.T) {
	sshHost(t)
	conformance(t, func(t *testing.T, dir string) stores.Store {
		q := pluginArgs(dir, "--require-configure")
		q.Set("plugin", statescopeBin)
		return open(t, "ssh://sshd?"+q.Encode())
	})
}
