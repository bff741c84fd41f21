// Package sshx opens SSH connections the way OpenSSH users expect:
// ~/.ssh/config (Host, HostName, User, Port, IdentityFile,
// UserKnownHostsFile, ProxyJump, ServerAliveInterval), ssh-agent, strict
// known_hosts checking with an explicit accept for new hosts, and
// keepalives that close a dead connection.
package sshx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Dest is where to connect, as a target names it; empty fields come from
// the SSH config.
type Dest struct {
	User, Host, Port string
}

// Config controls authentication, host keys and liveness.
type Config struct {
	// ConfigFile is the ssh_config to read; empty means ~/.ssh/config.
	ConfigFile string
	// AcceptNewHostKey records an unknown host's key without asking.
	AcceptNewHostKey bool
	// HostKeyPrompt asks whether to trust an unknown host's key.
	HostKeyPrompt func(host, fingerprint string) bool
	// Keepalive is the keepalive@openssh.com interval when the config has
	// no ServerAliveInterval; zero means 15 s.
	Keepalive time.Duration
	// Dial opens the TCP connection to the first hop; nil uses net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Log receives connection events; nil discards.
	Log io.Writer
}

// Client is an open SSH connection (through any jump hosts).
type Client struct {
	*ssh.Client
	name  string
	jumps []*ssh.Client

	done    chan struct{}
	errOnce sync.Once
	err     error
}

// Dial connects and authenticates; ctx bounds the whole set-up.
func Dial(ctx context.Context, d Dest, cfg Config) (*Client, error) {
	s, err := resolve(cfg.ConfigFile, d)
	if err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	dial := cfg.Dial
	if dial == nil {
		var nd net.Dialer
		dial = nd.DialContext
	}
	c := &Client{name: s.user + "@" + d.Host, done: make(chan struct{})}
	if s.alias != s.hostname {
		c.name += " (" + s.addr() + ")"
	}
	if s.proxyJump != "" && !strings.EqualFold(s.proxyJump, "none") {
		// Each hop is dialled through the previous one.
		for _, hop := range strings.Split(s.proxyJump, ",") {
			jc, err := Dial(ctx, parseJump(strings.TrimSpace(hop)), Config{
				ConfigFile: cfg.ConfigFile, AcceptNewHostKey: cfg.AcceptNewHostKey, HostKeyPrompt: cfg.HostKeyPrompt,
				Keepalive: cfg.Keepalive, Dial: dial, Log: cfg.Log,
			})
			if err != nil {
				c.closeJumps()
				return nil, fmt.Errorf("ssh %s: jump host %s: %w", c.name, hop, err)
			}
			c.jumps = append(c.jumps, jc.Client)
			dial = jc.DialContext
		}
	}
	conn, err := dial(ctx, "tcp", s.addr())
	if err != nil {
		c.closeJumps()
		return nil, fmt.Errorf("ssh %s: %w", c.name, err)
	}
	signers, closeAgent := loadSigners(s, log)
	defer closeAgent()
	if len(signers) == 0 {
		conn.Close()
		c.closeJumps()
		return nil, fmt.Errorf("ssh %s: no key to log in with: no ssh-agent keys (SSH_AUTH_SOCK) and no readable identity file among %s",
			c.name, strings.Join(s.identities, ", "))
	}
	keys := hostKeys{files: s.knownHosts, accept: cfg.HostKeyPrompt}
	if cfg.AcceptNewHostKey {
		keys.accept = func(string, string) bool { return true }
	}
	clientCfg := &ssh.ClientConfig{
		User:              s.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signers...)},
		HostKeyCallback:   keys.callback,
		HostKeyAlgorithms: keys.algorithms(s.addr()),
	}
	// The handshake has no context: closing the connection aborts it.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(conn, s.addr(), clientCfg)
	if !stop() {
		if err == nil {
			sc.Close()
		}
		c.closeJumps()
		return nil, fmt.Errorf("ssh %s: %w", c.name, ctx.Err())
	}
	if err != nil {
		conn.Close()
		c.closeJumps()
		return nil, fmt.Errorf("ssh %s: %w", c.name, err)
	}
	c.Client = ssh.NewClient(sc, chans, reqs)
	go c.watch(log)
	interval := s.keepalive
	if interval == 0 {
		interval = cfg.Keepalive
	}
	if interval == 0 {
		interval = 15 * time.Second
	}
	go c.keepalive(interval)
	return c, nil
}

// loadSigners returns the agent's keys, then the identity files'. Encrypted files
// are skipped: there is no terminal to ask for a passphrase.
func loadSigners(s settings, log io.Writer) ([]ssh.Signer, func()) {
	var signers []ssh.Signer
	closeAgent := func() {}
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
		if conn, err := net.Dial("unix", sock); err == nil {
			closeAgent = func() { conn.Close() }
			if ss, err := agent.NewClient(conn).Signers(); err == nil {
				signers = append(signers, ss...)
			} else {
				fmt.Fprintf(log, "ssh: agent: %v\n", err)
			}
		} else {
			fmt.Fprintf(log, "ssh: agent at SSH_AUTH_SOCK unreachable: %v\n", err)
		}
	}
	for _, f := range s.identities {
		pem, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		signer, err := ssh.ParsePrivateKey(pem)
		var missing *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &missing):
			fmt.Fprintf(log, "ssh: skipping %s: it is passphrase-protected; load it into ssh-agent\n", f)
		case err != nil:
			fmt.Fprintf(log, "ssh: skipping %s: %v\n", f, err)
		default:
			signers = append(signers, signer)
		}
	}
	return signers, closeAgent
}

// watch records why the connection ended.
func (c *Client) watch(log io.Writer) {
	err := c.Client.Wait()
	if err == nil {
		err = errors.New("closed by the server")
	}
	c.fail(err)
	if lost := c.Err(); !errors.Is(lost, errClosed) {
		fmt.Fprintf(log, "ssh: connection to %s lost: %v\n", c.name, lost)
	}
}

// errClosed is why a connection closed by Close ended.
var errClosed = errors.New("closed")

func (c *Client) fail(err error) {
	c.errOnce.Do(func() {
		c.err = err
		close(c.done)
	})
	c.Client.Close()
	c.closeJumps()
}

// keepalive sends keepalive@openssh.com; a failure or no answer within an
// interval closes the connection, so calls fail instead of hanging.
func (c *Client) keepalive(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		answer := make(chan error, 1)
		go func() {
			_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
			answer <- err
		}()
		select {
		case <-c.done:
			return
		case err := <-answer:
			if err != nil {
				c.fail(fmt.Errorf("keepalive failed: %w", err))
				return
			}
		case <-time.After(interval):
			c.fail(fmt.Errorf("no answer to a keepalive within %s", interval))
			return
		}
	}
}

func (c *Client) closeJumps() {
	for i := len(c.jumps) - 1; i >= 0; i-- {
		c.jumps[i].Close()
	}
}

// String names the connection: user@host.
func (c *Client) String() string { return c.name }

// Err says why the connection ended, or nil while it is up.
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// DialContext opens a direct-tcpip ("tcp") or direct-streamlocal ("unix")
// channel; after the connection is gone it says why.
func (c *Client) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := c.Err(); err != nil {
		return nil, fmt.Errorf("ssh connection to %s lost: %w", c.name, err)
	}
	conn, err := c.Client.DialContext(ctx, network, addr)
	if err != nil {
		if lost := c.Err(); lost != nil {
			return nil, fmt.Errorf("ssh connection to %s lost: %w", c.name, lost)
		}
		return nil, fmt.Errorf("ssh %s: open %s channel to %s: %w", c.name, network, addr, err)
	}
	return conn, nil
}

// Close closes the connection and any jump hosts.
func (c *Client) Close() error {
	c.fail(errClosed)
	return nil
}
