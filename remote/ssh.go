package remote

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path"

	"statescope/remote/auth"
	"statescope/remote/client"
	"statescope/remote/plugin"
	"statescope/remote/sshx"
	"statescope/stores"
)

// Host key errors from SSH targets.
var (
	ErrHostKeyMismatch = sshx.ErrHostKeyMismatch
	ErrHostKeyUnknown  = sshx.ErrHostKeyUnknown
)

// sshDial is how SSH targets reach their first hop; tests replace it to
// cut connections.
var sshDial func(ctx context.Context, network, addr string) (net.Conn, error)

// openSSH reaches a socket (?socket=, ?tcp=) or a plugin it starts
// (?plugin=) on another host through one SSH connection.
func openSSH(ctx context.Context, t stores.Target) (stores.Store, error) {
	o, q, err := params(t, append(append([]string{"socket", "tcp", "plugin"}, pluginParams...), authParams...)...)
	if err != nil {
		return nil, err
	}
	ac, err := clientAuth(t, q)
	if err != nil {
		return nil, err
	}
	if _, hasPassword := t.URL.User.Password(); hasPassword {
		return nil, fmt.Errorf("%s: passwords in SSH targets are not supported; use a key or ssh-agent", redact(t))
	}
	socket, tcp, bin := q.Get("socket"), q.Get("tcp"), q.Get("plugin")
	n := 0
	for _, v := range []string{socket, tcp, bin} {
		if v != "" {
			n++
		}
	}
	if n != 1 || t.URL.Hostname() == "" {
		return nil, fmt.Errorf("%s: give a host and exactly one of socket=/remote.sock, tcp=HOST:PORT or plugin=/remote/binary", redact(t))
	}
	if bin != "" && !path.IsAbs(bin) {
		return nil, fmt.Errorf("%s: plugin= must be an absolute path on the remote host", redact(t))
	}
	allowRemote, err := allowRemoteAddr(t, q)
	if err != nil {
		return nil, err
	}
	if bin != "" && (ac != auth.ClientConfig{}) {
		return nil, fmt.Errorf("%s: token_file=, tls=, ca=, cert= and key= are for socket= and tcp=; a plugin= statescope starts is reached through its own socket", redact(t))
	}
	opt := options()
	c, err := sshx.Dial(ctx, sshx.Dest{User: t.URL.User.Username(), Host: t.URL.Hostname(), Port: t.URL.Port()}, sshx.Config{
		AcceptNewHostKey: opt.AcceptNewHostKey, HostKeyPrompt: opt.HostKeyPrompt, Dial: sshDial, Log: opt.Log,
	})
	if err != nil {
		return nil, err
	}
	switch {
	case socket != "":
		o.Transport = fmt.Sprintf("ssh %s → unix://%s", c, socket)
		return connect(ctx, o, ac, "localhost", func(ctx context.Context) (net.Conn, error) { return c.DialContext(ctx, "unix", socket) }, c.Close)
	case tcp != "":
		o.Transport = fmt.Sprintf("ssh %s → tcp://%s", c, tcp)
		return connect(ctx, o, ac, tcp, func(ctx context.Context) (net.Conn, error) { return c.DialContext(ctx, "tcp", tcp) }, c.Close)
	}
	cmd := &exec.Cmd{Path: bin, Args: append([]string{bin}, q["arg"]...), Dir: path.Dir(bin)}
	proc, err := plugin.Launch(ctx, plugin.Config{Cmd: cmd, Runner: plugin.SSH(c), Log: opt.Log, DialOptions: client.DialOptions(),
		StartTimeout: o.Timeout, AllowRemoteAddr: allowRemote})
	if err != nil {
		c.Close()
		return nil, err
	}
	o.Transport = fmt.Sprintf("ssh %s → plugin %s", c, bin)
	o.Close = func() error {
		err := proc.Close()
		c.Close()
		return err
	}
	s, err := client.New(ctx, proc.Conn, o)
	if err != nil {
		_ = o.Close()
		return nil, err
	}
	return s, nil
}
