package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"statescope/remote/auth"
)

// Listen opens unix:///path.sock (mode 0600) or tcp://127.0.0.1:PORT. TCP
// must be loopback: the contract is plaintext, so remote clients come
// through SSH instead.
func Listen(addr string) (net.Listener, error) {
	u, err := url.Parse(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %v", addr, err)
	}
	switch u.Scheme {
	case "unix":
		if u.Host != "" || !strings.HasPrefix(u.Path, "/") {
			return nil, fmt.Errorf("listen address %q must be unix:///absolute/path.sock", addr)
		}
		return listenUnix(u.Path)
	case "tcp":
		host, _, err := net.SplitHostPort(u.Host)
		if err != nil {
			return nil, fmt.Errorf("listen address %q: %v", addr, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("refusing to listen on %s: plaintext gRPC without authentication is served on loopback only; reach it over SSH (ssh://host?tcp=%s)", u.Host, u.Host)
		}
		return net.Listen("tcp", u.Host)
	}
	return nil, fmt.Errorf("listen address %q: use unix:///path.sock or tcp://127.0.0.1:PORT", addr)
}

// listenUnix creates the socket 0600 inside a fresh 0700 directory beside
// path and links it into place, so it is never reachable with a wider
// mode. It replaces a socket file nobody listens on any more (left by a
// crashed server), but never a live one or a regular file.
func listenUnix(path string) (net.Listener, error) {
	dir, err := os.MkdirTemp(filepath.Dir(path), ".statescope-sock-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "s")
	l, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, err
	}
	ul := l.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	if err := linkSocket(tmp, path); err != nil {
		l.Close()
		return nil, err
	}
	return &unixListener{UnixListener: ul, path: path}, nil
}

// linkSocket links tmp at path; link(2) never replaces an existing file,
// so only a stale socket, checked first, is removed to make room.
func linkSocket(tmp, path string) error {
	err := os.Link(tmp, path)
	if err == nil || !errors.Is(err, fs.ErrExist) {
		return err
	}
	if info, serr := os.Lstat(path); serr != nil || info.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	if c, derr := net.DialTimeout("unix", path, time.Second); derr == nil {
		c.Close()
		return fmt.Errorf("%s: another server is listening there", path)
	}
	if rerr := os.Remove(path); rerr != nil {
		return err
	}
	return os.Link(tmp, path)
}

// unixListener removes its socket file when closed.
type unixListener struct {
	*net.UnixListener
	path string
	once sync.Once
}

func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	l.once.Do(func() { os.Remove(l.path) })
	return err
}

// NewGRPC is a gRPC server for srv with gRPC health, every call checked by
// guard. Stopping health is the caller's (see Serve).
func NewGRPC(srv *Server, guard *auth.Guard) (*grpc.Server, *health.Server) {
	g := grpc.NewServer(guard.ServerOptions()...)
	srv.Register(g)
	h := health.NewServer()
	h.SetServingStatus("plugin", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(g, h)
	return g, h
}

// Serve serves srv with gRPC health on l, every call checked by guard,
// until ctx ends, then stops gracefully (forcibly after grace).
func Serve(ctx context.Context, l net.Listener, srv *Server, guard *auth.Guard, grace time.Duration) error {
	g, h := NewGRPC(srv, guard)
	done := make(chan error, 1)
	go func() { done <- g.Serve(l) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	h.Shutdown()
	stopped := make(chan struct{})
	go func() { g.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(grace):
		g.Stop()
	}
	<-done
	return nil
}
