// Package auth decides who may call `statescope serve`, on every RPC: the
// peer's uid on a unix socket (SO_PEERCRED), a bearer token compared in
// constant time, or a client certificate verified by mutual TLS. The
// caller it admits is named in the context for the audit log. Clients get
// the matching credentials from ClientConfig.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Config says who is admitted.
type Config struct {
	// AllowUIDs and AllowGIDs admit unix-socket peers besides the serving
	// uid and root; a gid matches the peer's primary or supplementary groups.
	AllowUIDs, AllowGIDs []uint32
	// Tokens, when any, must be presented as a bearer token on every RPC.
	Tokens []Token
	// TLS is the server's TLS configuration; with ClientCAs set, clients
	// must present a certificate those CAs signed (mutual TLS).
	TLS *tls.Config
	// Insecure admits every caller without checking anything: tests only.
	Insecure bool
	// Log receives one line per refusal (who, which method, why).
	Log io.Writer
}

// mutualTLS reports whether client certificates are verified.
func (c Config) mutualTLS() bool {
	return c.TLS != nil && c.TLS.ClientCAs != nil && c.TLS.ClientAuth == tls.RequireAndVerifyClientCert
}

// CheckTCP refuses to serve TCP without authentication: loopback is not a
// trust boundary on a shared host, and TCP has no peer credentials.
func (c Config) CheckTCP() error {
	if c.Insecure || len(c.Tokens) > 0 || c.mutualTLS() {
		return nil
	}
	return errors.New("refusing to serve TCP without authentication: every local user could reach the store. " +
		"Give --token-file FILE (a bearer token), or --tls-cert, --tls-key and --client-ca (mutual TLS), or serve a unix socket")
}

// Guard enforces a Config on a gRPC server.
type Guard struct {
	cfg  Config
	self uint32
	log  *log.Logger
}

// New returns the guard for cfg. A Config with TLS and no client CAs is
// server-authenticated TLS; ClientCAs make it mutual.
func New(cfg Config) *Guard {
	w := cfg.Log
	if w == nil {
		w = io.Discard
	}
	if cfg.TLS != nil && cfg.TLS.ClientCAs != nil {
		cfg.TLS = cfg.TLS.Clone()
		cfg.TLS.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return &Guard{cfg: cfg, self: uint32(os.Getuid()), log: log.New(w, "statescope serve: ", log.LstdFlags)}
}

// ServerOptions are the transport credentials and interceptors of a
// server the guard protects.
func (g *Guard) ServerOptions() []grpc.ServerOption {
	return append([]grpc.ServerOption{grpc.Creds(g.Creds())}, g.Interceptors()...)
}

// Interceptors check every unary and streaming call.
func (g *Guard) Interceptors() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
			ctx, err := g.admit(ctx, info.FullMethod)
			if err != nil {
				return nil, err
			}
			return next(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) error {
			ctx, err := g.admit(ss.Context(), info.FullMethod)
			if err != nil {
				return err
			}
			return next(srv, &callerStream{ServerStream: ss, ctx: ctx})
		}),
	}
}

type callerStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *callerStream) Context() context.Context { return s.ctx }

type callerKey struct{}

// Caller names who made the call: "uid 1000 (alice)", "token ci.token from
// 127.0.0.1:5000", "cert CN=ci from …". Without a guard it is the peer's
// address, or "unknown caller".
func Caller(ctx context.Context) string {
	if c, ok := ctx.Value(callerKey{}).(string); ok {
		return c
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil && p.Addr.String() != "" && p.Addr.String() != "@" {
		return p.Addr.Network() + " " + p.Addr.String()
	}
	return "unknown caller"
}

// admit checks one call and names its caller in the returned context.
func (g *Guard) admit(ctx context.Context, method string) (context.Context, error) {
	p, _ := peer.FromContext(ctx)
	var info Peer
	if p != nil {
		info, _ = p.AuthInfo.(Peer)
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			// go-plugin's own mutual TLS (not used by workflow) authenticated it.
			info = Peer{Network: "tcp", TLS: &ti}
		}
		if info.Addr == "" && p.Addr != nil {
			info.Addr = p.Addr.String()
		}
	}
	who := info.caller
	if who == "" {
		who = info.who()
	}
	if g.cfg.Insecure {
		return context.WithValue(ctx, callerKey{}, who), nil
	}
	if info.denied != "" {
		return nil, g.refuse(codes.PermissionDenied, who, method, info.denied)
	}
	if info.Network != "unix" && !info.certified() && len(g.cfg.Tokens) == 0 {
		return nil, g.refuse(codes.PermissionDenied, who, method, "this server has no way to authenticate a caller over "+info.Network)
	}
	if len(g.cfg.Tokens) > 0 {
		name, why := g.token(ctx)
		if why != "" {
			return nil, g.refuse(codes.Unauthenticated, who, method, why)
		}
		if who == "unknown caller" {
			who = "token " + name
		} else {
			who = "token " + name + ", " + who
		}
	}
	return context.WithValue(ctx, callerKey{}, who), nil
}

// token finds which configured token the call carries, comparing with
// every one in constant time so timing says nothing about near misses.
func (g *Guard) token(ctx context.Context) (name, why string) {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) == 0 {
		return "", "no bearer token: give the target token_file=FILE (a copy of the server's --token-file)"
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", "the authorization header is not a bearer token"
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	match := -1
	for i, t := range g.cfg.Tokens {
		if subtle.ConstantTimeCompare(sum[:], t.sum[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return "", "the bearer token is not one this server accepts"
	}
	return g.cfg.Tokens[match].Name, ""
}

// refuse logs the refusal (never a token) and returns the status.
func (g *Guard) refuse(code codes.Code, who, method, why string) error {
	g.log.Printf("refused %s calling %s: %s", who, method, why)
	return status.Error(code, "statescope serve refused the call: "+why)
}

// Peer is what the transport learnt about a connection.
type Peer struct {
	credentials.CommonAuthInfo
	Network string
	Addr    string
	// Cred is set for a unix-socket peer whose credentials were read.
	Cred *Ucred
	TLS  *credentials.TLSInfo
	// denied says why the peer may not call anything ("" admits it).
	denied string
	// caller is who(), worked out once per connection.
	caller string
}

// Ucred is a unix-socket peer's process credentials.
type Ucred struct {
	PID      int32
	UID, GID uint32
}

// certified reports whether the peer presented a certificate that verified.
func (p Peer) certified() bool { return p.TLS != nil && len(p.TLS.State.VerifiedChains) > 0 }

// AuthType implements credentials.AuthInfo.
func (Peer) AuthType() string { return "statescope" }

func (p Peer) who() string {
	var parts []string
	if p.Cred != nil {
		s := "uid " + strconv.FormatUint(uint64(p.Cred.UID), 10)
		if u, err := user.LookupId(strconv.FormatUint(uint64(p.Cred.UID), 10)); err == nil {
			s += " (" + u.Username + ")"
		}
		parts = append(parts, s+" pid "+strconv.Itoa(int(p.Cred.PID)))
	}
	if p.TLS != nil && len(p.TLS.State.PeerCertificates) > 0 {
		parts = append(parts, "cert "+p.TLS.State.PeerCertificates[0].Subject.String())
	}
	if p.Network != "unix" && p.Addr != "" {
		parts = append(parts, "from "+p.Addr)
	}
	if len(parts) == 0 {
		return "unknown caller"
	}
	return strings.Join(parts, " ")
}

// Creds are the guard's transport credentials: they read a unix peer's
// credentials and run the TLS handshake when TLS is configured.
func (g *Guard) Creds() credentials.TransportCredentials {
	c := &creds{g: g}
	if g.cfg.TLS != nil {
		c.tls = credentials.NewTLS(g.cfg.TLS)
	}
	return c
}

type creds struct {
	g   *Guard
	tls credentials.TransportCredentials
}

func (c *creds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	p := Peer{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.NoSecurity}, Network: raw.LocalAddr().Network()}
	if ra := raw.RemoteAddr(); ra != nil {
		p.Addr = ra.String()
	}
	if p.Network == "unix" {
		cred, err := peerCred(raw)
		if err != nil {
			p.denied = "cannot read the peer's credentials: " + err.Error()
		} else {
			p.Cred = cred
			p.denied = c.g.checkUID(cred)
		}
	}
	conn := raw
	if c.tls != nil {
		tconn, ai, err := c.tls.ServerHandshake(raw)
		if err != nil {
			c.g.log.Printf("refused %s: TLS handshake: %v", p.who(), err)
			return nil, nil, err
		}
		ti := ai.(credentials.TLSInfo)
		conn, p.TLS, p.SecurityLevel = tconn, &ti, ti.SecurityLevel
	}
	p.caller = p.who()
	return conn, p, nil
}

// checkUID admits the serving uid, root and the allowed uids and groups.
func (g *Guard) checkUID(c *Ucred) string {
	if c.UID == g.self || c.UID == 0 || slices.Contains(g.cfg.AllowUIDs, c.UID) || slices.Contains(g.cfg.AllowGIDs, c.GID) {
		return ""
	}
	if len(g.cfg.AllowGIDs) > 0 {
		if u, err := user.LookupId(strconv.FormatUint(uint64(c.UID), 10)); err == nil {
			if gids, err := u.GroupIds(); err == nil {
				for _, s := range gids {
					if gid, err := strconv.ParseUint(s, 10, 32); err == nil && slices.Contains(g.cfg.AllowGIDs, uint32(gid)) {
						return ""
					}
				}
			}
		}
	}
	return fmt.Sprintf("uid %d may not use this server (it admits uid %d, root and those --allow-uid/--allow-gid name)", c.UID, g.self)
}

func (c *creds) ClientHandshake(context.Context, string, net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("auth: server-side credentials used by a client")
}

func (c *creds) Info() credentials.ProtocolInfo {
	if c.tls != nil {
		return c.tls.Info()
	}
	return credentials.ProtocolInfo{SecurityProtocol: "statescope-peer"}
}

func (c *creds) Clone() credentials.TransportCredentials {
	n := *c
	if c.tls != nil {
		n.tls = c.tls.Clone()
	}
	return &n
}

func (c *creds) OverrideServerName(string) error { return nil }
