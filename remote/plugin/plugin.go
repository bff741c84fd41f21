// Package plugin speaks workflow's go-plugin handshake in both directions:
// Serve makes this process a workflow plugin, Launch starts a plugin (here
// or, through a Runner, on another host) and connects to it.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"google.golang.org/grpc"

	"statescope/remote/auth"
)

// Handshake is workflow's: a plugin started without this cookie in its
// environment prints a notice and exits 1.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "WORKFLOW_PLUGIN",
	MagicCookieValue: "workflow-external-plugin-v1",
}

// setName is the plugin-set key; the state service is reached by name on
// the shared gRPC server, never dispensed, so any fixed key works.
const setName = "iac"

// services registers gRPC services on the plugin's server.
type services struct {
	goplugin.NetRPCUnsupportedPlugin
	register func(*grpc.Server)
}

func (p services) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	p.register(s)
	return nil
}

func (p services) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("statescope connects to the plugin's services directly")
}

// Serve runs this process as a workflow plugin: handshake line on stdout,
// unix socket, health service "plugin", controller Shutdown. Every call,
// go-plugin's own included, passes guard: the host's socket peer is
// checked like any other. It returns when the host shuts the plugin down;
// without the cookie it exits 1.
func Serve(register func(*grpc.Server), log io.Writer, guard *auth.Guard) {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         goplugin.PluginSet{setName: services{register: register}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			// opts holds go-plugin's TLS when a host asks for AutoMTLS
			// (workflow does not); its certificate check then stands in
			// for the peer check, which needs the raw socket.
			if len(opts) == 0 {
				opts = append(opts, grpc.Creds(guard.Creds()))
			}
			return grpc.NewServer(append(opts, guard.Interceptors()...)...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{Name: "statescope", Output: log, Level: hclog.Info, JSONFormat: true}),
	})
}

// Config says how to start and reach a plugin.
type Config struct {
	// Cmd is the plugin command; Runner may run it elsewhere.
	Cmd *exec.Cmd
	// Runner starts Cmd; nil runs it here with stdin from /dev/null.
	Runner func(cmd *exec.Cmd) (Runner, error)
	// Log receives the plugin's stderr and lifecycle messages.
	Log io.Writer
	// DialOptions are added to the gRPC connection's options.
	DialOptions []grpc.DialOption
	// StartTimeout bounds the whole launch, handshake included; zero means
	// go-plugin's and workflow's minute.
	StartTimeout time.Duration
	// AllowRemoteAddr accepts a handshake announcing a TCP address that is
	// not loopback (the plugin's traffic would leave the host unprotected).
	AllowRemoteAddr bool
}

// Runner is a go-plugin runner that can also reach the address its plugin
// announced, so gRPC can run over a tunnel.
type Runner interface {
	runner.Runner
	DialPlugin(ctx context.Context) (net.Conn, error)
}

// Process is a started plugin with its gRPC connection.
type Process struct {
	Conn   *grpc.ClientConn
	client *goplugin.Client
	runner Runner
	once   sync.Once
}

// startTimeout is go-plugin's and workflow's default handshake wait.
const startTimeout = time.Minute

// killGrace is how long a launch that ran out of time waits for the killed
// plugin's pipes to close before returning anyway.
const killGrace = 5 * time.Second

// Launch starts the plugin and waits for its handshake, at most until ctx
// ends or StartTimeout passes; then the plugin's process group is killed.
// A plugin that exits first gives an error quoting its stderr.
func Launch(ctx context.Context, cfg Config) (*Process, error) {
	stderr := &tail{max: 4 << 10}
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	run := cfg.Runner
	if run == nil {
		run = Local
	}
	timeout := cfg.StartTimeout
	if timeout <= 0 {
		timeout = startTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var (
		mu      sync.Mutex
		started Runner
	)
	cc := &goplugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          goplugin.PluginSet{setName: services{}},
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		// go-plugin builds the environment (host env, cookie, protocol
		// versions, socket dir) on a blank command; move it onto ours.
		RunnerFunc: func(_ hclog.Logger, blank *exec.Cmd, _ string) (runner.Runner, error) {
			cfg.Cmd.Env = append(blank.Env, cfg.Cmd.Env...)
			r, err := run(cfg.Cmd)
			if err != nil {
				return nil, err
			}
			r = checked{Runner: r, allowRemote: cfg.AllowRemoteAddr}
			mu.Lock()
			started = r
			mu.Unlock()
			return r, nil
		},
		// Replaces go-plugin's local dialer (later dial options win).
		GRPCDialOptions: append(cfg.DialOptions, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			mu.Lock()
			r := started
			mu.Unlock()
			return r.DialPlugin(ctx)
		})),
		// A backstop only: the launch ends on ctx first, with the message
		// naming timeout= and the kill of the whole process group; an equal
		// timer raced it and sometimes won.
		StartTimeout: timeout + killGrace,
		Stderr:       io.MultiWriter(stderr, log),
		SyncStdout:   log,
		SyncStderr:   log,
		Logger:       hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: log, Level: hclog.Warn}),
	}
	c := goplugin.NewClient(cc)
	type result struct {
		proto goplugin.ClientProtocol
		err   error
	}
	done := make(chan result, 1)
	go func() {
		p, err := c.Client()
		done <- result{p, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		killStarted := func() {
			mu.Lock()
			r := started
			mu.Unlock()
			if r != nil {
				_ = r.Kill(context.Background())
			}
		}
		err := ctx.Err()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: no handshake within %s (set timeout= on the target to wait longer); the plugin and its process group were killed", err, timeout)
		}
		abandon(c, done, killStarted)
		return nil, startError(cfg.Cmd, err, stderr.String())
	}
	if r.err != nil {
		abandon[result](c, nil, nil)
		return nil, startError(cfg.Cmd, r.err, stderr.String())
	}
	gc, ok := r.proto.(*goplugin.GRPCClient)
	if !ok {
		abandon[result](c, nil, nil)
		return nil, fmt.Errorf("plugin %s did not negotiate gRPC", name(cfg.Cmd))
	}
	mu.Lock()
	defer mu.Unlock()
	return &Process{Conn: gc.Conn, client: c, runner: started}, nil
}

// abandon kills a plugin whose launch failed: kill (the runner's, which
// takes the whole process group) is repeated until go-plugin's start
// returns on done, since it is a no-op before the process exists; then
// go-plugin cleans up. It waits at most killGrace, so a launch always ends.
func abandon[T any](c *goplugin.Client, done <-chan T, kill func()) {
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		if done != nil {
			for {
				kill()
				select {
				case <-done:
				case <-time.After(100 * time.Millisecond):
					continue
				}
				break
			}
		}
		c.Kill()
	}()
	select {
	case <-finished:
	case <-time.After(killGrace):
	}
}

// checked refuses a handshake announcing a TCP address off this host (or,
// over SSH, off the remote host) unless the target allows it.
type checked struct {
	Runner
	allowRemote bool
}

func (c checked) PluginToHost(network, addr string) (string, string, error) {
	if network == "tcp" && !c.allowRemote {
		host, _, err := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return "", "", fmt.Errorf("the plugin announced TCP address %s, which is not loopback: its plaintext gRPC would leave the host. Refused; set allow_remote_addr=true on the target to connect anyway", addr)
		}
	}
	return c.Runner.PluginToHost(network, addr)
}

func name(cmd *exec.Cmd) string { return cmd.Path }

func startError(cmd *exec.Cmd, err error, stderr string) error {
	stderr = strings.TrimSpace(stderr)
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if stderr == "" {
		return fmt.Errorf("plugin %s did not complete the handshake (%s); it wrote nothing to stderr", name(cmd), msg)
	}
	return fmt.Errorf("plugin %s did not complete the handshake (%s); its stderr:\n%s", name(cmd), msg, indent(stderr))
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

// hungAfter is how long Close lets go-plugin's graceful Shutdown take:
// that RPC has no deadline, so a hung plugin would block it for ever.
const hungAfter = 5 * time.Second

// Close asks the plugin to shut down (controller Shutdown), waits two
// seconds, then kills it; a plugin that does not even answer Shutdown is
// killed after hungAfter.
func (p *Process) Close() error {
	p.once.Do(func() {
		done := make(chan struct{})
		go func() {
			p.client.Kill()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(hungAfter):
			_ = p.runner.Kill(context.Background())
			<-done
		}
	})
	return nil
}

// tail keeps the last max bytes written.
type tail struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
