package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// ClientConfig is what a target says about authenticating to a server:
// token_file=, tls=, ca=, cert=, key=.
type ClientConfig struct {
	TokenFile string
	// TLS is implied by CA, Cert and Key.
	TLS       bool
	CA        string
	Cert, Key string
}

// UsesTLS reports whether the connection runs TLS.
func (c ClientConfig) UsesTLS() bool { return c.TLS || c.CA != "" || c.Cert != "" || c.Key != "" }

// DialOptions are the transport and per-call credentials; serverName is
// what the server's certificate must name.
func (c ClientConfig) DialOptions(serverName string) ([]grpc.DialOption, error) {
	var opts []grpc.DialOption
	if !c.UsesTLS() {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	} else {
		cfg := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
		if host, _, err := net.SplitHostPort(serverName); err == nil {
			cfg.ServerName = host
		}
		if c.CA != "" {
			pem, err := os.ReadFile(c.CA)
			if err != nil {
				return nil, fmt.Errorf("ca=: %w", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ca=%s holds no PEM certificate", c.CA)
			}
		}
		if (c.Cert == "") != (c.Key == "") {
			return nil, fmt.Errorf("give both cert= and key= for a client certificate")
		}
		if c.Cert != "" {
			pair, err := tls.LoadX509KeyPair(c.Cert, c.Key)
			if err != nil {
				return nil, fmt.Errorf("cert=/key=: %w", err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	}
	if c.TokenFile != "" {
		tok, err := ReadToken(c.TokenFile)
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(tok)))
	}
	return opts, nil
}

// bearer sends the token on every call. Without TLS it travels over the
// local socket, SSH tunnel or loopback the target names.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

// String never shows the token.
func (bearer) String() string { return "bearer token" }

// ServerTLS loads the server's certificate and, with clientCA, the CAs
// whose client certificates it accepts (mutual TLS).
func ServerTLS(certFile, keyFile, clientCA string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" {
		if clientCA != "" || certFile != "" || keyFile != "" {
			return nil, fmt.Errorf("TLS needs both --tls-cert and --tls-key")
		}
		return nil, nil
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if clientCA != "" {
		pem, err := os.ReadFile(clientCA)
		if err != nil {
			return nil, fmt.Errorf("--client-ca: %w", err)
		}
		cfg.ClientCAs = x509.NewCertPool()
		if !cfg.ClientCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--client-ca %s holds no PEM certificate", clientCA)
		}
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
