package plugin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

// Remote is an SSH connection a plugin can be started and reached through.
type Remote interface {
	NewSession() (*ssh.Session, error)
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	String() string
}

// SSH returns a runner factory that starts the plugin command on the far
// side of r and reaches its socket through r.
func SSH(r Remote) func(cmd *exec.Cmd) (Runner, error) {
	return func(cmd *exec.Cmd) (Runner, error) { return &remote{r: r, cmd: cmd}, nil }
}

// remote runs a plugin in an SSH session. Closing a session does not stop
// a command started without a PTY, and signals are ignored for root, so
// the shell prints its pid before exec'ing the plugin: Kill uses it.
type remote struct {
	r      Remote
	cmd    *exec.Cmd
	sess   *ssh.Session
	stdin  io.WriteCloser
	stdout io.ReadCloser
	stderr io.ReadCloser
	pid    int

	mu            sync.Mutex
	network, addr string
	exited        bool
}

// forwardEnv are the variables the plugin needs; the host's environment
// and local paths (PLUGIN_UNIX_SOCKET_DIR) do not belong on another host.
var forwardEnv = []string{Handshake.MagicCookieKey, "PLUGIN_PROTOCOL_VERSIONS"}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// command is the remote shell script. It prints the shell's pid (the
// session's process-group leader), runs the plugin with stdin from
// /dev/null, and keeps a watcher on the session's stdin: when that ends,
// because statescope closed it or the connection dropped, the watcher
// kills the group, so no plugin outlives its connection.
func (r *remote) command() string {
	var b strings.Builder
	// The pid first, so a failing cd or exec is reported on stderr, which
	// go-plugin reads once Start returns.
	b.WriteString("echo $$; ")
	if r.cmd.Dir != "" {
		fmt.Fprintf(&b, "cd %s || exit 1; ", shellQuote(r.cmd.Dir))
	}
	b.WriteString("exec 3<&0;")
	// Variables as the shell's prefix assignments, never through env(1),
	// which takes any word with "=" for one: a quoted word is never an
	// assignment, so the program is always the program. Later entries
	// win, as in exec.Cmd.
	vals := map[string]string{}
	for _, kv := range r.cmd.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vals[k] = v
		}
	}
	for _, k := range forwardEnv {
		if v, ok := vals[k]; ok {
			b.WriteString(" " + k + "=" + shellQuote(v))
		}
	}
	for _, a := range r.cmd.Args {
		b.WriteString(" " + shellQuote(a))
	}
	b.WriteString(" 3<&- </dev/null & p=$!; ")
	b.WriteString("(read _ <&3; kill -9 -- -$$ 2>/dev/null || kill -9 $p) >/dev/null 2>&1 & ")
	b.WriteString("exec 3<&-; wait $p")
	return b.String()
}

func (r *remote) Start(ctx context.Context) error {
	sess, err := r.r.NewSession()
	if err != nil {
		return fmt.Errorf("ssh %s: new session: %w", r.r, err)
	}
	// Held open until Kill: its end is the watcher's signal.
	stdin, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return err
	}
	stderr, err := sess.StderrPipe()
	if err != nil {
		sess.Close()
		return err
	}
	if err := sess.Start(r.command()); err != nil {
		sess.Close()
		return fmt.Errorf("ssh %s: start %s: %w", r.r, r.cmd.Path, err)
	}
	r.stderr = io.NopCloser(stderr)
	out := bufio.NewReader(stdout)
	got := make(chan error, 1)
	var pid int
	go func() {
		line, err := out.ReadString('\n')
		if err == nil {
			pid, err = strconv.Atoi(strings.TrimSpace(line))
		}
		got <- err
	}()
	select {
	case err = <-got:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		sess.Close()
		return fmt.Errorf("ssh %s: reading the remote shell's pid: %w", r.r, err)
	}
	r.stdout = io.NopCloser(out)
	// A Kill from a launch that ran out of time may run meanwhile.
	r.mu.Lock()
	r.sess, r.stdin, r.pid = sess, stdin, pid
	r.mu.Unlock()
	return nil
}

func (r *remote) Diagnose(context.Context) string { return "" }
func (r *remote) Stdout() io.ReadCloser           { return r.stdout }
func (r *remote) Stderr() io.ReadCloser           { return r.stderr }
func (r *remote) Name() string                    { return r.r.String() + ":" + r.cmd.Path }

func (r *remote) ID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strconv.Itoa(r.pid)
}

func (r *remote) HostToPlugin(n, a string) (string, string, error) { return n, a, nil }

// Wait returns when the remote command has ended (or the connection has).
func (r *remote) Wait(context.Context) error {
	r.mu.Lock()
	sess := r.sess
	r.mu.Unlock()
	err := sess.Wait()
	r.mu.Lock()
	r.exited = true
	r.mu.Unlock()
	return err
}

// Kill kills the plugin's process group from a second session, since the
// first one cannot stop it, then drops the session.
func (r *remote) Kill(context.Context) error {
	r.mu.Lock()
	exited, sess, stdin, pid := r.exited, r.sess, r.stdin, r.pid
	r.mu.Unlock()
	if exited || sess == nil {
		return nil
	}
	defer sess.Close()
	stdin.Close()
	if pid <= 0 {
		return nil
	}
	k, err := r.r.NewSession()
	if err != nil {
		return fmt.Errorf("ssh %s: cannot kill plugin pid %d: %w", r.r, pid, err)
	}
	defer k.Close()
	// sshd makes the session's shell a process-group leader, and exec keeps
	// its pid: killing the group also ends children a wrapper started.
	if out, err := k.CombinedOutput(fmt.Sprintf("kill -9 -- -%d 2>/dev/null || kill -9 %d 2>/dev/null || true", pid, pid)); err != nil {
		return fmt.Errorf("ssh %s: kill plugin pid %d: %v: %s", r.r, pid, err, out)
	}
	return nil
}

// PluginToHost records the announced address for DialPlugin.
func (r *remote) PluginToHost(n, a string) (string, string, error) {
	if n != "unix" && n != "tcp" {
		return "", "", errors.New("plugin announced unsupported network " + n)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.network, r.addr = n, a
	return n, a, nil
}

// DialPlugin opens a channel to the plugin's socket on the remote host.
func (r *remote) DialPlugin(ctx context.Context) (net.Conn, error) {
	r.mu.Lock()
	n, a := r.network, r.addr
	r.mu.Unlock()
	return r.r.DialContext(ctx, n, a)
}
