package plugin

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
)

// local runs the plugin as a child process. Unlike go-plugin's own runner
// it leaves stdin unset (/dev/null), so a plugin never reads the TUI's keys.
type local struct {
	cmd            *exec.Cmd
	stdout, stderr io.ReadCloser

	mu            sync.Mutex
	proc          *os.Process // set by Start
	network, addr string
}

// Local is the Runner for a plugin on this host.
func Local(cmd *exec.Cmd) (Runner, error) {
	cmd.Stdin = nil
	contain(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	return &local{cmd: cmd, stdout: stdout, stderr: stderr}, nil
}

func (l *local) Diagnose(context.Context) string                  { return "" }
func (l *local) Stdout() io.ReadCloser                            { return l.stdout }
func (l *local) Stderr() io.ReadCloser                            { return l.stderr }
func (l *local) Name() string                                     { return l.cmd.Path }
func (l *local) Wait(context.Context) error                       { return l.cmd.Wait() }
func (l *local) HostToPlugin(n, a string) (string, string, error) { return n, a, nil }

// Start starts the process; a Kill meanwhile (a launch running out of
// time) waits for it, so it never misses the process.
func (l *local) Start(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.cmd.Start(); err != nil {
		return err
	}
	l.proc = l.cmd.Process
	return nil
}

func (l *local) process() *os.Process {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.proc
}

func (l *local) ID() string {
	if p := l.process(); p != nil {
		return strconv.Itoa(p.Pid)
	}
	return ""
}

// Kill ends the plugin's whole process group; it may be called more than
// once, and before Start (when it does nothing).
func (l *local) Kill(context.Context) error {
	p := l.process()
	if p == nil {
		return nil
	}
	killGroup(p.Pid)
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// PluginToHost records the announced address for DialPlugin.
func (l *local) PluginToHost(n, a string) (string, string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.network, l.addr = n, a
	return n, a, nil
}

func (l *local) DialPlugin(ctx context.Context) (net.Conn, error) {
	l.mu.Lock()
	n, a := l.network, l.addr
	l.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, n, a)
}
