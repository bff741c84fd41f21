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
// unix socket, health service "plugin", controller Shutdown. It returns
// when the host shuts the plugin down; without the cookie it exits 1.
func Serve(register func(*grpc.Server), log io.Writer) {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         goplugin.PluginSet{setName: services{register: register}},
		GRPCServer:      goplugin.DefaultGRPCServer,
		Logger:          hclog.New(&hclog.LoggerOptions{Name: "statescope", Output: log, Level: hclog.Info, JSONFormat: true}),
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

// Launch starts the plugin and waits for its handshake, at most until ctx
// ends. A plugin that exits first gives an error quoting its stderr.
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
	timeout := startTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
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
			mu.Lock()
			started = r
			mu.Unlock()
			return r, err
		},
		// Replaces go-plugin's local dialer (later dial options win).
		GRPCDialOptions: append(cfg.DialOptions, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			mu.Lock()
			r := started
			mu.Unlock()
			return r.DialPlugin(ctx)
		})),
		StartTimeout: timeout,
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
		// Kill is a no-op until go-plugin has started the runner: repeat it.
		for {
			c.Kill()
			select {
			case <-done:
				return nil, fmt.Errorf("starting plugin %s: %w", name(cfg.Cmd), ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	if r.err != nil {
		c.Kill()
		return nil, startError(cfg.Cmd, r.err, stderr.String())
	}
	gc, ok := r.proto.(*goplugin.GRPCClient)
	if !ok {
		c.Kill()
		return nil, fmt.Errorf("plugin %s did not negotiate gRPC", name(cfg.Cmd))
	}
	mu.Lock()
	defer mu.Unlock()
	return &Process{Conn: gc.Conn, client: c, runner: started}, nil
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
