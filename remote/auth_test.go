package remote

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
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

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"statescope/remote/auth"
	"statescope/remote/plugin"
	"statescope/remote/proto/iacpb"
	"statescope/remote/proto/lockadminpb"
	"statescope/remote/server"
	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/repair/audit"
	"statescope/stores/repair/backup"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

// syncBuffer collects a process's stderr while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServe runs `statescope serve ARGS` until the test ends and waits
// until it says it is serving.
func startServe(t *testing.T, args ...string) *syncBuffer {
	t.Helper()
	cmd := exec.Command(statescopeBin, append([]string{"serve"}, args...)...)
	out := &syncBuffer{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	if !storetest.Await(t, func() bool { return strings.Contains(out.String(), "serving ") }) {
		t.Fatalf("statescope serve %v did not start: %s", args, out)
	}
	return out
}

// asNobody runs statescope as uid/gid 65534, another local user, and
// returns its combined output and exit code.
func asNobody(t *testing.T, args ...string) (string, int) {
	t.Helper()
	if os.Getuid() != 0 {
		testserver.Unavailable(t, "running a client as another user (needs root)", errors.New("not root"))
	}
	cmd := exec.Command(statescopeBin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	home := filepath.Join(os.TempDir(), "statescope-nobody-home-does-not-exist")
	cmd.Env = []string{"HOME=" + home, "XDG_STATE_HOME=" + home, "XDG_CONFIG_HOME=" + home, "PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return string(out), 0
}

// openForNobody makes path and its directories reachable by other users,
// as a socket in a shared directory would be.
func openForNobody(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
}

// A root-only store served on a unix socket: the socket is 0600, and even
// when something widens it another user is refused by the peer check,
// which the server logs; --allow-uid admits that user.
func TestServeUnixRefusesOtherUsers(t *testing.T) {
	dir := t.TempDir()
	seed := openFS(t, dir)
	if err := seed.Save(ctxT(t), storetest.Record("db/main")); err != nil {
		t.Fatal(err)
	}
	sock := sockPath(t)
	log := startServe(t, "--store", dir, "--listen", "unix://"+sock)
	info, err := os.Stat(sock)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v; want 0600", info.Mode(), err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(sock), ".statescope-sock-*")); len(leftovers) != 0 {
		t.Errorf("the socket's private directory was left behind: %v", leftovers)
	}
	openForNobody(t, filepath.Dir(statescopeBin), statescopeBin, filepath.Dir(sock))
	target := "unix://" + sock
	if out, code := asNobody(t, "list", "--store", target); code == 0 || !strings.Contains(out, "permission denied") {
		t.Errorf("another user through a 0600 socket: exit %d: %s", code, out)
	}
	openForNobody(t, sock)
	out, code := asNobody(t, "list", "-o", "json", "--store", target)
	if code == 0 || !strings.Contains(out, "PermissionDenied") || !strings.Contains(out, "uid 65534 may not use this server") {
		t.Errorf("another user through a widened socket: exit %d: %s", code, out)
	}
	if strings.Contains(out, "db/main") {
		t.Errorf("a refused user saw the records: %s", out)
	}
	if !strings.Contains(log.String(), "refused uid 65534") || !strings.Contains(log.String(), "/ListBackendNames") {
		t.Errorf("the server did not log the refusal with the uid and method: %s", log)
	}

	sock2 := sockPath(t)
	startServe(t, "--store", dir, "--listen", "unix://"+sock2, "--allow-uid", "65534")
	openForNobody(t, filepath.Dir(sock2), sock2)
	if out, code := asNobody(t, "list", "-o", "json", "--store", "unix://"+sock2); code != 0 || !strings.Contains(out, "db/main") {
		t.Errorf("an --allow-uid user: exit %d: %s", code, out)
	}
}

// TCP refuses to start without authentication; with --token-file it
// creates the token file 0600, never prints the token, and refuses a
// caller (here another user) without it or with a wrong one.
func TestServeTCPNeedsToken(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	noAuth := exec.Command(statescopeBin, "serve", "--store", dir, "--listen", "tcp://"+addr)
	if out, err := noAuth.CombinedOutput(); err == nil || !strings.Contains(string(out), "refusing to serve TCP without authentication") {
		t.Fatalf("TCP without authentication: %v %s", err, out)
	}

	if log := startServe(t, "--store", dir, "--listen", "tcp://"+freeAddr(t), "--insecure-no-auth"); !strings.Contains(log.String(), "WARNING: --insecure-no-auth") {
		t.Errorf("--insecure-no-auth starts without a warning: %s", log)
	}

	tokenFile := filepath.Join(t.TempDir(), "ci.token")
	log := startServe(t, "--store", dir, "--listen", "tcp://"+addr, "--token-file", tokenFile)
	info, err := os.Stat(tokenFile)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v, %v; want 0600", info.Mode(), err)
	}
	secret, err := auth.ReadToken(tokenFile)
	if err != nil || len(secret) != 64 {
		t.Fatalf("generated token: %d characters, %v; want 256 bits in hex", len(secret), err)
	}
	if !strings.Contains(log.String(), tokenFile) {
		t.Errorf("the new token file's path was not printed: %s", log)
	}

	if out, code := asNobody(t, "list", "--store", "grpc://"+addr); code == 0 || !strings.Contains(out, "Unauthenticated") || !strings.Contains(out, "no bearer token") {
		t.Errorf("another user without a token: exit %d: %s", code, out)
	}
	wrong := filepath.Join(t.TempDir(), "wrong.token")
	if err := os.WriteFile(wrong, []byte(strings.Repeat("ab", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := openErr(t, "grpc://"+addr+"?token_file="+url.QueryEscape(wrong)); err == nil || !strings.Contains(err.Error(), "not one this server accepts") {
		t.Errorf("a wrong token: %v", err)
	}
	s := open(t, "grpc://"+addr+"?token_file="+url.QueryEscape(tokenFile))
	if err := s.Save(ctxT(t), storetest.Record("by-token")); err != nil {
		t.Errorf("with the token: %v", err)
	}
	stores.Close(s)
	if strings.Contains(log.String(), secret) {
		t.Errorf("the server printed the token: %s", log)
	}
	if !strings.Contains(log.String(), "refused from 127.0.0.1:") {
		t.Errorf("the server did not log the refused address: %s", log)
	}

	loose := filepath.Join(t.TempDir(), "loose.token")
	if err := os.WriteFile(loose, []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := openErr(t, "grpc://"+addr+"?token_file="+url.QueryEscape(loose)); err == nil || !strings.Contains(err.Error(), "chmod 600") || strings.Contains(err.Error(), secret) {
		t.Errorf("a token file others can read: %v", err)
	}
}

// Every RPC is checked, streams included, and the refusal codes say why.
func TestGuardChecksEveryCall(t *testing.T) {
	addr := freeAddr(t)
	serveStore(t, openFS(t, t.TempDir()), server.Options{}, "tcp://"+addr)
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx := ctxT(t)
	_, err = iacpb.NewIaCStateBackendClient(cc).GetState(ctx, &iacpb.GetStateRequest{ResourceId: "x"})
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("unary without a token: %v", err)
	}
	stream, err := lockadminpb.NewLockAdminClient(cc).StreamEntries(ctx, &lockadminpb.StreamEntriesRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("stream without a token: %v", err)
	}
}

// mutual TLS: a client certificate the CA signed is admitted and named in
// the audit log; a client without one never gets through the handshake.
func TestServeMutualTLS(t *testing.T) {
	pki := newPKI(t)
	dir, state := t.TempDir(), t.TempDir()
	addr := freeAddr(t)
	cmd := exec.Command(statescopeBin, "serve", "--store", dir, "--listen", "tcp://"+addr,
		"--tls-cert", pki.serverCert, "--tls-key", pki.serverKey, "--client-ca", pki.ca)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+state)
	out := &syncBuffer{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	if !storetest.Await(t, func() bool { return strings.Contains(out.String(), "serving ") }) {
		t.Fatalf("serve did not start: %s", out)
	}
	q := url.Values{"ca": {pki.ca}, "cert": {pki.clientCert}, "key": {pki.clientKey}}
	s := open(t, "grpc://"+addr+"?"+q.Encode())
	if err := s.Save(ctxT(t), storetest.Record("by-cert")); err != nil {
		t.Fatal(err)
	}
	stores.Close(s)
	entries, err := audit.Log{Path: filepath.Join(state, "statescope", "audit.log")}.Read()
	if err != nil || len(entries) != 1 || !strings.Contains(entries[0].Actor, "cert CN=alice") {
		t.Errorf("audit after a save with a client certificate: %+v, %v", entries, err)
	}
	if err := openErr(t, "grpc://"+addr+"?ca="+url.QueryEscape(pki.ca)); err == nil {
		t.Error("a client without a certificate was admitted")
	}
	if err := openErr(t, "grpc://"+addr); err == nil {
		t.Error("a plaintext client was admitted")
	}
}

type pki struct{ ca, serverCert, serverKey, clientCert, clientKey string }

// newPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate for CN=alice.
func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	now := time.Now()
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "statescope test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP) (string, string) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage},
			KeyUsage: x509.KeyUsageDigitalSignature, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kd, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return write(cn+".crt", "CERTIFICATE", der), write(cn+".key", "EC PRIVATE KEY", kd)
	}
	p := pki{ca: write("ca.crt", "CERTIFICATE", caDER)}
	p.serverCert, p.serverKey = leaf(2, "server", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	p.clientCert, p.clientKey = leaf(3, "alice", x509.ExtKeyUsageClientAuth, nil)
	return p
}

// Every mutation over serve is audited with the caller and the hashes;
// DeleteState and ForceUnlock are backed up first, byte for byte.
func TestRemoteMutationsAudited(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	sock := sockPath(t)
	serveStore(t, openFS(t, dir), server.Options{StateDir: state, Target: dir}, "unix://"+sock)
	s := open(t, "unix://"+sock)
	defer stores.Close(s)
	ctx := ctxT(t)
	if err := s.Save(ctx, storetest.Record("db/main")); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, filesystem.EngineName("db/main")+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Lock(ctx, "db/main"); err != nil {
		t.Fatal(err)
	}
	locks, err := s.(stores.LockLister).Locks(ctx)
	if err != nil || len(locks) != 1 {
		t.Fatalf("locks: %v %v", locks, err)
	}
	if err := s.(stores.ForceUnlocker).ForceUnlock(ctx, "db/main", locks[0].Token); err != nil {
		t.Fatal(err)
	}
	if err := s.Lock(ctx, "db/main"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock(ctx, "db/main"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "db/main"); err != nil {
		t.Fatal(err)
	}

	entries, err := audit.Log{Path: filepath.Join(state, "audit.log")}.Read()
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if !strings.Contains(e.Actor, "uid 0 ") || !strings.Contains(e.Actor, "via statescope serve") || e.Resource != "db/main" ||
			e.Result != audit.ResultApplied || e.Target != "file://"+dir {
			t.Errorf("audit entry %+v", e)
		}
	}
	if got := strings.Join(actions, " "); got != "SaveState Lock ForceUnlock Lock Unlock DeleteState" {
		t.Fatalf("audited %q", got)
	}
	save, release, del := entries[0], entries[2], entries[5]
	if save.Before != "" || save.After != backup.SHA256(before) || save.Backup != "" {
		t.Errorf("SaveState of a new record: %+v; want no before, after %s, no backup", save, backup.SHA256(before))
	}
	if del.Before != backup.SHA256(before) || del.After != "" || del.Backup == "" {
		t.Errorf("DeleteState: %+v", del)
	}
	if _, data, err := backup.Read(del.Backup); err != nil || !bytes.Equal(data, before) {
		t.Errorf("DeleteState's backup: %q %v; want the record's bytes", data, err)
	}
	if release.Backup == "" || release.Before == "" {
		t.Errorf("ForceUnlock: %+v; want a backup of the lock and its hash", release)
	}
	if b, _, err := backup.Read(release.Backup); err != nil || b.Meta.Kind != backup.KindLock || b.Meta.Version != locks[0].Token {
		t.Errorf("ForceUnlock's backup: %+v %v", b.Meta, err)
	}
}

// --backup-writes backs up a record before SaveState replaces it; a
// read-only server refuses before anything, even a backup or an audit line.
func TestServeBackupWritesAndReadOnly(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	sock := sockPath(t)
	serveStore(t, openFS(t, dir), server.Options{StateDir: state, BackupWrites: true}, "unix://"+sock)
	s := open(t, "unix://"+sock)
	defer stores.Close(s)
	ctx := ctxT(t)
	for range 2 {
		if err := s.Save(ctx, storetest.Record("r")); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := audit.Log{Path: filepath.Join(state, "audit.log")}.Read()
	if err != nil || len(entries) != 2 || entries[0].Backup != "" || entries[1].Backup == "" {
		t.Errorf("saves with --backup-writes: %+v %v; want the second one backed up", entries, err)
	}

	roState := t.TempDir()
	roSock := sockPath(t)
	serveStore(t, stores.ReadOnly(openFS(t, dir)), server.Options{StateDir: roState}, "unix://"+roSock)
	ro := open(t, "unix://"+roSock)
	defer stores.Close(ro)
	if err := ro.Delete(ctx, "r"); !errors.Is(err, stores.ErrReadOnly) {
		t.Errorf("delete on a read-only server: %v", err)
	}
	if got, _ := os.ReadDir(roState); len(got) != 0 {
		t.Errorf("a refused mutation left %v in the state directory", got)
	}
}

// statescope as a workflow plugin checks the peer of the host's socket
// too: another user reaching it (here through a widened socket) is refused.
func TestPluginSocketPeerChecked(t *testing.T) {
	sockDir, err := os.MkdirTemp("", "ssp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	cmd := exec.Command(statescopeBin, "serve", "--plugin", "--store", t.TempDir())
	cmd.Env = append(os.Environ(), "PLUGIN_UNIX_SOCKET_DIR="+sockDir)
	proc, err := plugin.Launch(ctxT(t), plugin.Config{Cmd: cmd, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Close()
	socks, _ := filepath.Glob(filepath.Join(sockDir, "plugin*"))
	if len(socks) != 1 {
		t.Fatalf("plugin sockets in %s: %v", sockDir, socks)
	}
	if _, err := lockadminpb.NewLockAdminClient(proc.Conn).Describe(ctxT(t), &lockadminpb.DescribeRequest{}); err != nil {
		t.Errorf("the host (same uid) is refused: %v", err)
	}
	openForNobody(t, filepath.Dir(statescopeBin), statescopeBin, sockDir, socks[0])
	if out, code := asNobody(t, "list", "--store", "unix://"+socks[0]); code == 0 || !strings.Contains(out, "uid 65534 may not use this server") {
		t.Errorf("another user on the plugin's socket: exit %d: %s", code, out)
	}
}
