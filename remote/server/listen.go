package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Listen opens unix:///path.sock or tcp://127.0.0.1:PORT. TCP must be
// loopback: the contract is plaintext and unauthenticated, so remote
// clients come through SSH instead.
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

// listenUnix replaces a socket file nobody listens on any more (left by a
// crashed server), but never a live one or a regular file.
func listenUnix(path string) (net.Listener, error) {
	l, err := net.Listen("unix", path)
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
		return l, err
	}
	if info, serr := os.Lstat(path); serr != nil || info.Mode()&os.ModeSocket == 0 {
		return nil, err
	}
	if c, derr := net.DialTimeout("unix", path, time.Second); derr == nil {
		c.Close()
		return nil, fmt.Errorf("%s: another server is listening there", path)
	}
	if rerr := os.Remove(path); rerr != nil {
		return nil, err
	}
	return net.Listen("unix", path)
}

// Serve serves srv with gRPC health on l until ctx ends, then stops
// gracefully (forcibly after grace).
func Serve(ctx context.Context, l net.Listener, srv *Server, grace time.Duration) error {
	g := grpc.NewServer()
	srv.Register(g)
	h := health.NewServer()
	h.SetServingStatus("plugin", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(g, h)
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
