package testserver

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SSHD is a private OpenSSH server on a loopback port that accepts the
// current user (root on CI machines) with a generated ed25519 key.
type SSHD struct {
	// Addr is 127.0.0.1:PORT.
	Addr string
	Port int
	// User is the login name the server accepts.
	User string
	// ClientKey is the private key authorized to log in (no passphrase).
	ClientKey string
	// HostKey is the server's public host key ("ssh-ed25519 AAAA…").
	HostKey string
	// KnownHostsLine is the known_hosts line for Addr: "[127.0.0.1]:PORT key".
	KnownHostsLine string
	// Dir holds the config, keys and pid file.
	Dir string
}

var sharedSSHD Shared[*SSHD]

// SharedSSHD starts one sshd per test binary; TestMain must call StopAll.
func SharedSSHD(t testing.TB) *SSHD {
	return sharedSSHD.Get(t, "OpenSSH sshd", StartSSHD)
}

// StartSSHD runs `sshd -D -e -f CONFIG` with the settings that work for
// key login on loopback (see test-servers.md) and waits until it listens.
func StartSSHD() (*SSHD, func(), error) {
	sshd, err := Find("sshd", "/usr/sbin/sshd")
	if err != nil {
		return nil, nil, err
	}
	keygen, err := Find("ssh-keygen", "/usr/bin/ssh-keygen")
	if err != nil {
		return nil, nil, err
	}
	u, err := user.Current()
	if err != nil {
		return nil, nil, err
	}
	// sshd needs its privilege-separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return nil, nil, fmt.Errorf("creating /run/sshd: %w", err)
	}
	dir, err := os.MkdirTemp("", "statescope-sshd")
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*SSHD, func(), error) {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	s := &SSHD{User: u.Username, Dir: dir, ClientKey: filepath.Join(dir, "client_ed25519")}
	hostKey := filepath.Join(dir, "host_ed25519")
	for _, k := range []string{hostKey, s.ClientKey} {
		if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "statescope-test", "-f", k).CombinedOutput(); err != nil {
			return fail(fmt.Errorf("ssh-keygen: %v: %s", err, out))
		}
	}
	pub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		return fail(err)
	}
	s.HostKey = strings.Join(strings.Fields(string(pub))[:2], " ")
	clientPub, err := os.ReadFile(s.ClientKey + ".pub")
	if err != nil {
		return fail(err)
	}
	authorized := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authorized, clientPub, 0o600); err != nil {
		return fail(err)
	}
	if s.Port, err = FreePort(); err != nil {
		return fail(err)
	}
	s.Addr = fmt.Sprintf("127.0.0.1:%d", s.Port)
	s.KnownHostsLine = fmt.Sprintf("[127.0.0.1]:%d %s", s.Port, s.HostKey)
	config := filepath.Join(dir, "sshd_config")
	conf := strings.Join([]string{
		"ListenAddress 127.0.0.1",
		"Port " + Itoa(s.Port),
		"HostKey " + hostKey,
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"AuthorizedKeysFile " + authorized,
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"UsePAM no",
		"StrictModes no",
		"AllowTcpForwarding yes",
		"AllowStreamLocalForwarding yes",
		"UseDNS no",
		// Tests open many connections at once; do not throttle them.
		"MaxStartups 100",
		"MaxSessions 100",
		"LogLevel ERROR",
	}, "\n") + "\n"
	if err := os.WriteFile(config, []byte(conf), 0o600); err != nil {
		return fail(err)
	}
	if out, err := exec.Command(sshd, "-t", "-f", config).CombinedOutput(); err != nil {
		return fail(fmt.Errorf("sshd -t: %v: %s", err, out))
	}
	p, err := Start(sshd, []string{"-D", "-e", "-f", config}, nil)
	if err != nil {
		return fail(err)
	}
	if err := WaitTCP(s.Addr, 10*time.Second, p); err != nil {
		p.Stop(time.Second)
		return fail(err)
	}
	stop := func() {
		// Connection processes start their own sessions, so stopping
		// sshd's group misses them, and one left running would hold the
		// output pipe open and block Stop's wait for ever.
		killDescendants(p.Cmd.Process.Pid)
		p.Stop(3 * time.Second)
		os.RemoveAll(dir)
	}
	return s, stop, nil
}

// killDescendants SIGKILLs every process below pid, deepest first.
func killDescendants(pid int) {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		// The command may contain spaces and parentheses: fields start
		// after the last ')'. They are: state, ppid, …
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		child, err1 := strconv.Atoi(filepath.Base(filepath.Dir(st)))
		parent, err2 := strconv.Atoi(f[1])
		if err1 == nil && err2 == nil {
			children[parent] = append(children[parent], child)
		}
	}
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			walk(c)
			_ = syscall.Kill(c, syscall.SIGKILL)
		}
	}
	walk(pid)
}
