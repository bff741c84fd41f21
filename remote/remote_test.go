package remote

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/crypto/ssh"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"statescope/remote/client"
	"statescope/remote/proto/iacpb"
	"statescope/remote/server"
	"statescope/stores"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

// The crash story: a plugin takes a lock and is SIGKILLed; a new plugin
// instance, started over SSH, shows the lock as orphaned and releases it
// with its token, and a stale token is refused.
func TestOrphanedLockAfterPluginCrash(t *testing.T) {
	sshHost(t)
	ctx := ctxT(t)
	dir := t.TempDir()
	crashHoldingLock(t, dir, "db/main")
	q := pluginArgs(dir)
	q.Set("plugin", statescopeBin)
	second := open(t, "ssh://sshd?"+q.Encode())
	defer stores.Close(second)
	if d := stores.Describe(second); !strings.Contains(d, "ssh ") || !strings.Contains(d, "plugin "+statescopeBin) {
		t.Errorf("describe = %q", d)
	}
	locks, err := second.(stores.LockLister).Locks(ctx)
	if err != nil || len(locks) != 1 {
		t.Fatalf("locks after the crash: %+v, %v", locks, err)
	}
	orphan := locks[0]
	if !orphan.HolderGone || orphan.Verdict != stores.VerdictOrphaned || !strings.Contains(orphan.Evidence, "no longer exists") {
		t.Errorf("the crashed holder's lock is not reported orphaned: %+v", orphan)
	}
	stores.Judge(locks, time.Now(), stores.DefaultStaleAfter)
	if locks[0].Verdict != stores.VerdictOrphaned {
		t.Errorf("client-side judgement: %s (%s)", locks[0].Verdict, locks[0].Evidence)
	}
	fu := second.(stores.ForceUnlocker)
	if err := fu.ForceUnlock(ctx, "db/main", orphan.Token); err != nil {
		t.Fatalf("releasing the orphan with its token: %v", err)
	}
	if err := second.Lock(ctx, "db/main"); err != nil {
		t.Fatal(err)
	}
	if err := fu.ForceUnlock(ctx, "db/main", orphan.Token); !errors.Is(err, stores.ErrLockChanged) {
		t.Errorf("a stale token: %v, want ErrLockChanged", err)
	}
	if err := second.Unlock(ctx, "db/main"); err != nil {
		t.Error(err)
	}
	if err := fu.ForceUnlock(ctx, "db/main", orphan.Token); !errors.Is(err, stores.ErrNotLocked) {
		t.Errorf("no lock: %v, want ErrNotLocked", err)
	}
}

// crashHoldingLock has a plugin over dir lock id, then SIGKILLs it.
func crashHoldingLock(t *testing.T, dir, id string) {
	t.Helper()
	ctx := ctxT(t)
	first := open(t, "plugin://"+statescopeBin+"?"+pluginArgs(dir).Encode())
	if err := first.Save(ctx, storetest.Record(id)); err != nil {
		t.Fatal(err)
	}
	if err := first.Lock(ctx, id); err != nil {
		t.Fatal(err)
	}
	locks, err := first.(stores.LockLister).Locks(ctx)
	if err != nil || len(locks) != 1 || locks[0].Holder == nil {
		t.Fatalf("locks before the crash: %+v, %v", locks, err)
	}
	pid := locks[0].Holder.PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing plugin pid %d: %v", pid, err)
	}
	stores.Close(first) // reaps the process, which a zombie would keep "alive"
}

// The crash story through the CLI: `statescope locks` over SSH shows the
// orphan, `unlock --token` releases it, the stale token is refused (exit 3).
func TestOrphanedLockCLI(t *testing.T) {
	sshHost(t)
	dir := t.TempDir()
	crashHoldingLock(t, dir, "db/main")
	q := pluginArgs(dir)
	q.Set("plugin", statescopeBin)
	target := "ssh://sshd?" + q.Encode()
	run := func(args ...string) (string, int) {
		cmd := exec.Command(statescopeBin, append(args, "--store", target)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		out = append(out, stderr.String()...)
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	out, code := run("locks", "-o", "json")
	var locks []struct {
		ResourceID string `json:"resource_id"`
		Token      string `json:"token"`
		Verdict    string `json:"verdict"`
		Evidence   string `json:"evidence"`
	}
	if code != 0 || json.NewDecoder(strings.NewReader(out)).Decode(&locks) != nil || len(locks) != 1 {
		t.Fatalf("statescope locks: exit %d: %s", code, out)
	}
	if locks[0].Verdict != "orphaned" {
		t.Errorf("verdict %s (%s)", locks[0].Verdict, locks[0].Evidence)
	}
	if out, code := run("unlock", "db/main", "--token", locks[0].Token); code != 0 || !strings.Contains(out, "released lock on db/main") {
		t.Errorf("unlock with the token: exit %d: %s", code, out)
	}
	if out, code := run("unlock", "db/main", "--token", locks[0].Token); code != 3 {
		t.Errorf("unlock with a stale token: exit %d, want 3: %s", code, out)
	}
}

// blockingStore holds List until released, so a connection can be cut
// while a listing is in flight.
type blockingStore struct {
	stores.Store
	entered chan struct{}
	release chan struct{}
}

func (b *blockingStore) List(ctx context.Context, f stores.Filter) ([]stores.Entry, error) {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b.Store.List(ctx, f)
}

// cutter records the TCP connections SSH targets dial, so a test can cut them.
type cutter struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (c *cutter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err == nil {
		c.mu.Lock()
		c.conns = append(c.conns, conn)
		c.mu.Unlock()
	}
	return conn, err
}

func (c *cutter) cutAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
}

func TestSSHConnectionCutMidList(t *testing.T) {
	sshHost(t)
	ignore := goleak.IgnoreCurrent()
	cut := &cutter{}
	sshDial = cut.dial
	defer func() { sshDial = nil }()

	dir := t.TempDir()
	bs := &blockingStore{Store: openFS(t, dir), entered: make(chan struct{}, 1), release: make(chan struct{})}
	if err := bs.Save(context.Background(), storetest.Record("r1")); err != nil {
		t.Fatal(err)
	}
	sock := sockPath(t)
	stop := serveStore(t, bs, server.Options{}, "unix://"+sock)
	target := "ssh://sshd?socket=" + url.QueryEscape(sock)
	s := open(t, target)

	listed := make(chan error, 1)
	go func() {
		_, err := s.List(context.Background(), stores.Filter{})
		listed <- err
	}()
	<-bs.entered
	cut.cutAll()
	err := storetest.Receive(t, "the list's end after the SSH connection was cut", listed)
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("list over a cut connection: %v, want ErrUnreachable", err)
	}
	t.Logf("error shown: %v", err)
	if _, err := s.Get(context.Background(), "r1"); !errors.Is(err, ErrUnreachable) {
		t.Errorf("get after the cut: %v, want ErrUnreachable", err)
	}
	stores.Close(s)

	// Reconnecting is opening the target again.
	close(bs.release)
	again := open(t, target)
	entries, err := again.List(context.Background(), stores.Filter{})
	if err != nil || len(entries) != 1 {
		t.Errorf("list after reconnecting: %d entries, %v", len(entries), err)
	}
	stores.Close(again)
	stop()
	verifyNoLeaks(t, ignore)
}

func TestHostKeyMismatch(t *testing.T) {
	s := sshHost(t)
	err := openErr(t, "ssh://sshd-wrong?socket=/nonexistent.sock")
	if !errors.Is(err, ErrHostKeyMismatch) {
		t.Fatalf("got %v, want ErrHostKeyMismatch", err)
	}
	pub, _, _, _, _ := ssh.ParseAuthorizedKey([]byte(s.HostKey))
	client, _ := os.ReadFile(s.ClientKey + ".pub")
	wrong, _, _, _, _ := ssh.ParseAuthorizedKey(client)
	for _, want := range []string{"[127.0.0.1]:" + testserver.Itoa(s.Port), ssh.FingerprintSHA256(pub), ssh.FingerprintSHA256(wrong)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("mismatch error lacks %q: %v", want, err)
		}
	}
}

func TestUnknownHostKey(t *testing.T) {
	s := sshHost(t)
	t.Cleanup(func() { Configure(Options{Log: io.Discard}) })
	sock := sockPath(t)
	serveStore(t, openFS(t, t.TempDir()), server.Options{}, "unix://"+sock)
	target := "ssh://sshd-new?socket=" + url.QueryEscape(sock)
	pub, _, _, _, _ := ssh.ParseAuthorizedKey([]byte(s.HostKey))
	fp := ssh.FingerprintSHA256(pub)

	known := filepath.Join(os.Getenv("HOME"), ".ssh", "known_hosts_new")
	os.Remove(known) // a previous run (-count) recorded it
	refused := func(what string) {
		t.Helper()
		err := openErr(t, target)
		if !errors.Is(err, ErrHostKeyUnknown) || !strings.Contains(err.Error(), fp) {
			t.Fatalf("%s: %v", what, err)
		}
	}
	refused("unknown host without consent")
	var asked []string
	Configure(Options{Log: io.Discard, HostKeyPrompt: func(host, fingerprint string) bool {
		asked = append(asked, host+" "+fingerprint)
		return false
	}})
	refused("unknown host, answer no")
	if want := "[127.0.0.1]:" + testserver.Itoa(s.Port) + " " + fp; len(asked) != 1 || asked[0] != want {
		t.Errorf("prompt got %q, want %q", asked, want)
	}
	if _, err := os.Stat(known); err == nil {
		t.Error("a refused key was recorded")
	}
	Configure(Options{Log: io.Discard, AcceptNewHostKey: true})
	stores.Close(open(t, target))
	data, err := os.ReadFile(known)
	if err != nil || strings.TrimSpace(string(data)) != s.KnownHostsLine {
		t.Errorf("known_hosts after accepting: %q, %v; want %q", data, err, s.KnownHostsLine)
	}
	Configure(Options{Log: io.Discard})
	stores.Close(open(t, target)) // now known: no prompt needed
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestSSHTCPTunnel(t *testing.T) {
	sshHost(t)
	addr := freeAddr(t)
	serveStore(t, openFS(t, t.TempDir()), server.Options{BackendName: "tunnelled"}, "tcp://"+addr)
	s := open(t, "ssh://sshd?backend=tunnelled&tcp="+addr+"&token_file="+url.QueryEscape(tokenPath))
	defer stores.Close(s)
	ctx := ctxT(t)
	if err := s.Save(ctx, storetest.Record("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if d := stores.Describe(s); !strings.Contains(d, "ssh ") || !strings.Contains(d, "tcp://"+addr) {
		t.Errorf("describe = %q", d)
	}
}

func TestPluginExitsBeforeHandshake(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "broken")
	script := "#!/bin/sh\necho 'fatal: cannot read /etc/broken.conf: permission denied' >&2\nexit 3\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// With an hour's handshake timeout, only noticing the exit ends the
	// open before ctxT does.
	err := openErr(t, "plugin://"+bin+"?timeout=1h")
	if err == nil || !strings.Contains(err.Error(), "fatal: cannot read /etc/broken.conf") {
		t.Fatalf("got %v, want an error quoting the plugin's stderr", err)
	}
	if strings.Contains(err.Error(), "no handshake within") {
		t.Errorf("the exit was not noticed; the open ran out of time: %v", err)
	}
}

func TestPluginWithoutCookie(t *testing.T) {
	cmd := exec.Command(statescopeBin, "serve", "--plugin", "--store", t.TempDir())
	cmd.Env = append(os.Environ(), "WORKFLOW_PLUGIN=")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "This binary is a plugin") {
		t.Errorf("run by hand: %v, output %q; want exit 1 and the plugin notice", err, out)
	}
}

// A workflow plugin dir: found by name and by the backend its manifest lists.
func TestPluginDirDiscovery(t *testing.T) {
	t.Cleanup(func() { Configure(Options{Log: io.Discard}) })
	plugins, state := t.TempDir(), t.TempDir()
	pdir := filepath.Join(plugins, "statefs")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	// workflow starts plugins without arguments: a wrapper supplies them.
	wrapper := "#!/bin/sh\nexec " + statescopeBin + " serve --plugin --store " + state + "\n"
	manifest := `{"name":"statefs","version":"1.0.0","author":"t","description":"d","capabilities":{"iacStateBackends":["statescope-filesystem"]}}`
	if err := os.WriteFile(filepath.Join(pdir, "statefs"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pdir, "plugin.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	Configure(Options{PluginDir: plugins, Log: io.Discard})
	for _, target := range []string{"plugin://statefs", "plugin://?backend=statescope-filesystem"} {
		s := open(t, target)
		if err := s.Save(ctxT(t), storetest.Record("found")); err != nil {
			t.Errorf("%s: %v", target, err)
		}
		stores.Close(s)
	}
	err := openErr(t, "plugin://?backend=s3")
	if err == nil || !strings.Contains(err.Error(), "statefs (statescope-filesystem)") {
		t.Errorf("unknown backend: %v", err)
	}
}

// A stock workflow plugin has no LockAdmin: the inventory says it is
// unavailable and the client explains what a plain Unlock does.
func TestStockPluginHasNoInventory(t *testing.T) {
	sock := sockPath(t)
	l, err := server.Listen("unix://" + sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(openFS(t, t.TempDir()), server.Options{BackendName: "spaces", RequireConfigure: true})
	g := grpc.NewServer()
	iacpb.RegisterIaCStateBackendServer(g, srv)
	serveOn(t, l, g)
	s := open(t, "unix://"+sock+"?cfg.bucket=b&cfg.region=fra1")
	defer stores.Close(s)
	ctx := ctxT(t)
	_, err = s.(stores.LockLister).Locks(ctx)
	if !errors.Is(err, stores.ErrUnsupported) || !strings.Contains(err.Error(), "lock inventory is unavailable over this backend") {
		t.Errorf("inventory from a stock plugin: %v", err)
	}
	w := s.(UnlockWarning).UnlockWarning()
	if !strings.Contains(w, "deletes the lock") {
		t.Errorf("warning for spaces: %q", w)
	}
	if w := client.UnlockWarning("postgres"); !strings.Contains(w, "only the holding process may unlock") {
		t.Errorf("warning for postgres: %q", w)
	}
	if err := s.Lock(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Lock(ctx, "a"); !errors.Is(err, stores.ErrLocked) {
		t.Errorf("second lock: %v", err)
	}
	if err := s.Unlock(ctx, "a"); err != nil {
		t.Errorf("plain unlock: %v", err)
	}
	if err := s.Save(ctx, storetest.Record("listed")); err != nil {
		t.Fatal(err)
	}
	if entries, err := s.List(ctx, stores.Filter{}); err != nil || len(entries) != 1 {
		t.Errorf("ListStates: %v, %v", entries, err)
	}
}

func TestBackendChoice(t *testing.T) {
	sock := sockPath(t)
	serveStore(t, openFS(t, t.TempDir()), server.Options{BackendName: "gcs"}, "unix://"+sock)
	if err := openErr(t, "unix://"+sock+"?backend=s3"); err == nil || !strings.Contains(err.Error(), `does not serve backend "s3"; it serves: gcs`) {
		t.Errorf("wrong backend: %v", err)
	}
	if err := openErr(t, "unix://"+sock+"?bogus=1"); err == nil || !strings.Contains(err.Error(), `unknown parameter "bogus"`) {
		t.Errorf("unknown parameter: %v", err)
	}
	s := open(t, "unix://"+sock)
	defer stores.Close(s)
	if got := s.(*client.Store).Backend(); got != "gcs" {
		t.Errorf("backend = %q", got)
	}
	if err := openErr(t, "unix:///nonexistent/dir/x.sock"); !errors.Is(err, ErrUnreachable) {
		t.Errorf("no server: %v, want ErrUnreachable", err)
	}
}

// The server's own 4 MiB limit also comes back as ErrTooLarge, for clients
// that send more than the default.
func TestServerSizeLimit(t *testing.T) {
	sock := sockPath(t)
	serveStore(t, openFS(t, t.TempDir()), server.Options{}, "unix://"+sock)
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	s, err := client.New(ctxT(t), conn, client.Options{MaxSendBytes: 64 << 20, Close: conn.Close})
	if err != nil {
		t.Fatal(err)
	}
	defer stores.Close(s)
	big := storetest.Record("big")
	big.Outputs["blob"] = strings.Repeat("x", 5<<20)
	if err := s.Save(ctxT(t), big); !errors.Is(err, stores.ErrTooLarge) {
		t.Errorf("5 MiB save: %v, want ErrTooLarge", err)
	}
}

// `statescope serve --listen` end to end, stopped by SIGTERM.
func TestServeCommand(t *testing.T) {
	sock := sockPath(t)
	cmd := exec.Command(statescopeBin, "serve", "--store", t.TempDir(), "--listen", "unix://"+sock, "--backend-name", "ops")
	var out strings.Builder
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	storetest.Eventually(t, "serve's socket", func() bool { _, err := os.Stat(sock); return err == nil })
	s := open(t, "unix://"+sock+"?backend=ops")
	if err := s.Save(ctxT(t), storetest.Record("served")); err != nil {
		t.Error(err)
	}
	stores.Close(s)
	cc, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	health, err := healthpb.NewHealthClient(cc).Check(ctxT(t), &healthpb.HealthCheckRequest{Service: "plugin"})
	if err != nil || health.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health of service plugin: %v %v", health, err)
	}
	cc.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v; output %s", err, out.String())
	}
	if _, err := os.Stat(sock); err == nil {
		t.Error("socket left behind")
	}
	bad := exec.Command(statescopeBin, "serve", "--store", t.TempDir(), "--listen", "tcp://0.0.0.0:7")
	if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), "loopback only") {
		t.Errorf("non-loopback listen: %v %s", err, out)
	}
}

// stall makes reads on the recorded connections block (until closed), as
// a peer that vanished without a FIN.
type stall struct {
	cutter
	frozen chan struct{}
}

type stallConn struct {
	net.Conn
	s      *stall
	closed chan struct{}
	once   sync.Once
}

// Read drops whatever arrives once frozen, including a read in progress.
func (c *stallConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	select {
	case <-c.s.frozen:
		<-c.closed
		return 0, net.ErrClosed
	default:
		return n, err
	}
}

func (c *stallConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

func (s *stall) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := s.cutter.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &stallConn{Conn: conn, s: s, closed: make(chan struct{})}, nil
}

// A peer that stops answering is noticed by the keepalive, which closes
// the connection: the call fails instead of waiting for its deadline.
func TestKeepaliveClosesDeadConnection(t *testing.T) {
	sshHost(t)
	st := &stall{frozen: make(chan struct{})}
	sshDial = st.dial
	defer func() { sshDial = nil }()
	sock := sockPath(t)
	serveStore(t, openFS(t, t.TempDir()), server.Options{}, "unix://"+sock)
	s := open(t, "ssh://sshd-fast?socket="+url.QueryEscape(sock))
	defer stores.Close(s)
	close(st.frozen)
	// Without the keepalive the call would end at its deadline, with
	// context.DeadlineExceeded instead.
	_, err := s.Get(ctxT(t), "x")
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("get over a silent connection: %v, want ErrUnreachable", err)
	}
}

// Cancelling a call ends it promptly and leaves the connection usable.
func TestCancelMidCallOverSSH(t *testing.T) {
	sshHost(t)
	dir := t.TempDir()
	bs := &blockingStore{Store: openFS(t, dir), entered: make(chan struct{}, 1), release: make(chan struct{})}
	sock := sockPath(t)
	serveStore(t, bs, server.Options{}, "unix://"+sock)
	s := open(t, "ssh://sshd?socket="+url.QueryEscape(sock))
	defer stores.Close(s)
	ctx, cancel := context.WithCancel(context.Background())
	listed := make(chan error, 1)
	go func() {
		_, err := s.List(ctx, stores.Filter{})
		listed <- err
	}()
	<-bs.entered
	cancel()
	if err := storetest.Receive(t, "the cancelled list's return", listed); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled list: %v", err)
	}
	if _, err := s.Get(ctxT(t), "missing"); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("the connection is unusable after a cancel: %v", err)
	}
}

func TestProxyJump(t *testing.T) {
	sshHost(t)
	sock := sockPath(t)
	serveStore(t, openFS(t, t.TempDir()), server.Options{}, "unix://"+sock)
	s := open(t, "ssh://sshd-jump?socket="+url.QueryEscape(sock))
	defer stores.Close(s)
	if _, err := s.Get(ctxT(t), "missing"); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("through a jump host: %v", err)
	}
}

func TestSSHAgent(t *testing.T) {
	srv := sshHost(t)
	sock := sockPath(t)
	serveStore(t, openFS(t, t.TempDir()), server.Options{}, "unix://"+sock)
	target := "ssh://sshd-agent?socket=" + url.QueryEscape(sock)
	if err := openErr(t, target); err == nil || !strings.Contains(err.Error(), "no key to log in with") {
		t.Fatalf("without an agent or key file: %v", err)
	}
	agentBin, err := testserver.Find("ssh-agent", "/usr/bin/ssh-agent")
	if err != nil {
		testserver.Unavailable(t, "ssh-agent", err)
	}
	addBin, err := testserver.Find("ssh-add", "/usr/bin/ssh-add")
	if err != nil {
		testserver.Unavailable(t, "ssh-add", err)
	}
	agentSock := filepath.Join(filepath.Dir(sockPath(t)), "agent.sock")
	agent, err := testserver.Start(agentBin, []string{"-D", "-a", agentSock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Stop(time.Second)
	storetest.Eventually(t, "ssh-agent's socket", func() bool { _, err := os.Stat(agentSock); return err == nil })
	add := exec.Command(addBin, srv.ClientKey)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+agentSock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	t.Setenv("SSH_AUTH_SOCK", agentSock)
	s := open(t, target)
	stores.Close(s)
}

// running reports whether a process whose command line contains marker exists.
func running(marker string) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(strings.ReplaceAll(string(b), "\x00", " "), marker) {
			return true
		}
	}
	return false
}

// Closing a store stops its remote plugin: Shutdown first, then the
// process group is killed from a second session when something lingers
// (here a wrapper that keeps running after the plugin exits).
func TestRemotePluginStoppedOnClose(t *testing.T) {
	sshHost(t)
	dir := t.TempDir()
	wrapper := filepath.Join(t.TempDir(), "lingering-plugin")
	// The child sleeps for years: a Close waiting for it would never end.
	script := "#!/bin/sh\n" + statescopeBin + " serve --plugin --store " + dir + "\nsleep 313131313\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	s := open(t, "ssh://sshd?plugin="+url.QueryEscape(wrapper))
	if err := s.Lock(ctxT(t), "x"); err != nil {
		t.Fatal(err)
	}
	locks, err := s.(stores.LockLister).Locks(ctxT(t))
	if err != nil || len(locks) != 1 {
		t.Fatalf("locks: %v %v", locks, err)
	}
	pid := locks[0].Holder.PID
	stores.Close(s)
	storetest.Await(t, func() bool { return !stores.ProcessAlive(pid) && !running("sleep 313131313") })
	if stores.ProcessAlive(pid) {
		t.Errorf("plugin pid %d still runs after close", pid)
	}
	if running("sleep 313131313") {
		t.Error("the wrapper's child still runs after close")
	}
}

// Closing a plugin store leaves no goroutine behind, locally or over SSH.
func TestPluginCloseLeaksNothing(t *testing.T) {
	sshHost(t)
	ignore := goleak.IgnoreCurrent()
	dir := t.TempDir()
	q := pluginArgs(dir)
	local := open(t, "plugin://"+statescopeBin+"?"+q.Encode())
	q.Set("plugin", statescopeBin)
	remote := open(t, "ssh://sshd?"+q.Encode())
	for _, s := range []stores.Store{local, remote} {
		if err := s.Save(ctxT(t), storetest.Record("r")); err != nil {
			t.Error(err)
		}
		stores.Close(s)
	}
	verifyNoLeaks(t, ignore)
}

// A remote plugin does not outlive its SSH connection: the session's end
// triggers its watcher.
func TestRemotePluginEndsWithConnection(t *testing.T) {
	sshHost(t)
	cut := &cutter{}
	sshDial = cut.dial
	defer func() { sshDial = nil }()
	q := pluginArgs(t.TempDir())
	q.Set("plugin", statescopeBin)
	s := open(t, "ssh://sshd?"+q.Encode())
	defer stores.Close(s)
	if err := s.Lock(ctxT(t), "x"); err != nil {
		t.Fatal(err)
	}
	locks, err := s.(stores.LockLister).Locks(ctxT(t))
	if err != nil || len(locks) != 1 {
		t.Fatalf("locks: %v %v", locks, err)
	}
	pid := locks[0].Holder.PID
	cut.cutAll()
	if !storetest.Await(t, func() bool { return !stores.ProcessAlive(pid) }) {
		t.Errorf("plugin pid %d still runs after its connection dropped", pid)
	}
}

// A plugin that no longer answers (stopped) is killed by Close instead of
// blocking it on the Shutdown RPC.
func TestHungPluginKilledOnClose(t *testing.T) {
	s := open(t, "plugin://"+statescopeBin+"?"+pluginArgs(t.TempDir()).Encode())
	if err := s.Lock(ctxT(t), "x"); err != nil {
		t.Fatal(err)
	}
	locks, err := s.(stores.LockLister).Locks(ctxT(t))
	if err != nil || len(locks) != 1 {
		t.Fatalf("locks: %v %v", locks, err)
	}
	pid := locks[0].Holder.PID
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stores.Close(s) // never answers Shutdown: a Close waiting for it would never end
	if stores.ProcessAlive(pid) {
		t.Errorf("hung plugin pid %d survived close", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// verifyNoLeaks gives goroutines already on their way out (gRPC
// transports, SSH readers) until the run's deadline to end.
func verifyNoLeaks(t *testing.T, ignore goleak.Option) {
	t.Helper()
	storetest.Await(t, func() bool { return goleak.Find(ignore) == nil })
	goleak.VerifyNone(t, ignore)
}
