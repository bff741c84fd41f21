package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"statescope/remote/auth"
	"statescope/remote/plugin"
	"statescope/remote/server"
	"statescope/stores"
)

func init() { commands = append(commands, (*app).serveCommand) }

// serveFlags are serve's authentication and safety flags.
type serveFlags struct {
	allowUIDs, allowGIDs []uint
	tokenFiles           []string
	tlsCert, tlsKey, ca  string
	insecure             bool
	backupWrites         bool
}

func (a *app) serveCommand() *cobra.Command {
	var (
		listen, backendName string
		asPlugin, mustConf  bool
		sf                  serveFlags
	)
	cmd := &cobra.Command{
		Use:   "serve [--store TARGET] (--listen ADDR | --plugin)",
		Short: "Serve a store as workflow's IaCStateBackend gRPC service",
		Long: "Serves the store --store names as workflow's IaCStateBackend (with gRPC health and\n" +
			"statescope's LockAdmin service), so statescope can reach it remotely, e.g. over SSH.\n" +
			"  --listen unix:///path.sock or tcp://127.0.0.1:PORT (loopback only)\n" +
			"  --plugin   run as a workflow plugin under the go-plugin handshake (a host starts it\n" +
			"             with WORKFLOW_PLUGIN set; run by hand it says so and exits 1). Without\n" +
			"             --store, --context or --infra the host's Configure names the store: the\n" +
			"             iac.state config's \"store\" (a statescope target) or \"directory\", and the\n" +
			"             backend is called \"" + server.HostBackendName + "\". A host starting statescope without\n" +
			"             arguments gets this mode too.\n" +
			"Every call is authenticated: a unix socket (mode 0600) admits the serving uid and root\n" +
			"(more with --allow-uid/--allow-gid), checked with SO_PEERCRED; TCP needs --token-file\n" +
			"(a bearer token, created 0600 with a random 256-bit token when missing) or mutual TLS\n" +
			"(--tls-cert, --tls-key, --client-ca). Every mutating call is audited with the caller;\n" +
			"DeleteState and ForceUnlock are backed up first (SaveState too with --backup-writes).\n" +
			"The backend name defaults to the store's kind (statescope-filesystem, statescope-memory,\n" +
			"statescope-postgres for the names workflow reserves).",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asPlugin == (listen != "") {
				return usageError{errors.New("give exactly one of --listen and --plugin")}
			}
			if asPlugin {
				if len(sf.tokenFiles) > 0 || sf.tlsCert != "" || sf.insecure {
					return usageError{errors.New("--plugin serves the host's own socket: --token-file, --tls-* and --insecure-no-auth do not apply")}
				}
				return a.servePlugin(cmd.Context(), backendName, mustConf, sf)
			}
			target, _, _, err := a.target()
			if err != nil {
				return err
			}
			s, name, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer stores.Close(s)
			srv := server.New(s, server.Options{BackendName: backendName, RequireConfigure: mustConf, Log: a.errOut,
				Target: target, BackupWrites: sf.backupWrites})
			l, err := server.Listen(listen)
			if err != nil {
				return usageError{err}
			}
			guard, err := a.serveGuard(sf, listen)
			if err != nil {
				l.Close()
				return err
			}
			fmt.Fprintf(a.errOut, "serving %s as backend %q on %s\n", name, srv.BackendName(), listen)
			return server.Serve(cmd.Context(), l, srv, guard, 5*time.Second)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "", "unix:///path.sock or tcp://127.0.0.1:PORT")
	f.BoolVar(&asPlugin, "plugin", false, "serve as a workflow plugin (go-plugin handshake)")
	f.StringVar(&backendName, "backend-name", "", "backend name reported by ListBackendNames (default: the store's kind)")
	f.BoolVar(&mustConf, "require-configure", false, "answer FailedPrecondition until a client calls Configure, like a fresh workflow plugin")
	f.UintSliceVar(&sf.allowUIDs, "allow-uid", nil, "also admit these uids on a unix socket (the serving uid and root always are)")
	f.UintSliceVar(&sf.allowGIDs, "allow-gid", nil, "also admit members of these groups on a unix socket")
	f.StringArrayVar(&sf.tokenFiles, "token-file", nil, "require the bearer token in FILE (created 0600 when missing; repeatable, one client per file, named by the file in the audit log)")
	f.StringVar(&sf.tlsCert, "tls-cert", "", "serve TLS with this certificate (PEM)")
	f.StringVar(&sf.tlsKey, "tls-key", "", "the TLS certificate's private key (PEM)")
	f.StringVar(&sf.ca, "client-ca", "", "require client certificates signed by these CAs (PEM): mutual TLS")
	f.BoolVar(&sf.insecure, "insecure-no-auth", false, "admit every caller without authentication (tests only)")
	f.BoolVar(&sf.backupWrites, "backup-writes", false, "back up the record before every SaveState too")
	return cmd
}

// serveGuard builds the authentication the flags ask for, creating token
// files that are missing, and refuses TCP without any.
func (a *app) serveGuard(sf serveFlags, listen string) (*auth.Guard, error) {
	cfg := auth.Config{Insecure: sf.insecure, Log: a.errOut}
	for _, u := range sf.allowUIDs {
		cfg.AllowUIDs = append(cfg.AllowUIDs, uint32(u))
	}
	for _, g := range sf.allowGIDs {
		cfg.AllowGIDs = append(cfg.AllowGIDs, uint32(g))
	}
	for _, path := range sf.tokenFiles {
		tok, created, err := auth.LoadOrCreateToken(path)
		if err != nil {
			return nil, err
		}
		if created {
			fmt.Fprintf(a.errOut, "wrote a new random token to %s (mode 0600): give clients a copy as token_file=\n", path)
		}
		cfg.Tokens = append(cfg.Tokens, tok)
	}
	var err error
	if cfg.TLS, err = auth.ServerTLS(sf.tlsCert, sf.tlsKey, sf.ca); err != nil {
		return nil, usageError{err}
	}
	if strings.HasPrefix(listen, "tcp:") {
		if err := cfg.CheckTCP(); err != nil {
			return nil, usageError{err}
		}
	}
	if sf.insecure {
		fmt.Fprintln(a.errOut, "WARNING: --insecure-no-auth: every caller that can reach "+listen+" may read and change the store; use it for tests only")
	}
	return auth.New(cfg), nil
}

// servePluginFromEnv serves as a workflow plugin when a host started
// statescope without a command: workflow runs plugin binaries without
// arguments, with its handshake cookie set. handled is false otherwise.
func (a *app) servePluginFromEnv(ctx context.Context) (handled bool, err error) {
	if os.Getenv(plugin.Handshake.MagicCookieKey) != plugin.Handshake.MagicCookieValue {
		return false, nil
	}
	return true, a.servePlugin(ctx, "", true, serveFlags{})
}

// servePlugin runs the go-plugin server until the host shuts it down, over
// the store the flags name or, without one, the store the host's Configure
// names.
func (a *app) servePlugin(ctx context.Context, backendName string, mustConf bool, sf serveFlags) error {
	guard, err := a.serveGuard(sf, "")
	if err != nil {
		return err
	}
	opts := server.Options{BackendName: backendName, RequireConfigure: mustConf, Log: a.errOut, BackupWrites: sf.backupWrites}
	var srv *server.Server
	if a.storeTarget != "" || a.contextName != "" || a.backend.infraPath != "" {
		target, _, _, err := a.target()
		if err != nil {
			return err
		}
		opts.Target = target
		s, _, err := a.openStore(ctx)
		if err != nil {
			return err
		}
		defer stores.Close(s)
		srv = server.New(s, opts)
	} else {
		srv = server.NewConfigured(a.openHostStore, opts)
	}
	// go-plugin eats SIGINT, which a host's terminal sends its plugins too;
	// main turns SIGTERM into a context nothing here watches. Give SIGTERM
	// its default action back, so the plugin dies on it as upstream ones do.
	signal.Reset(syscall.SIGTERM)
	// Handshake on stdout; go-plugin then redirects stdio.
	plugin.Serve(srv.RegisterPlugin, a.errOut, guard)
	return srv.Close()
}

// openHostStore opens the store a host's Configure names, read-only under
// --readonly or a read-only config.
func (a *app) openHostStore(ctx context.Context, target string) (stores.Store, error) {
	s, err := stores.Open(ctx, target)
	if err != nil || !(a.readOnly || a.cfg.ReadOnly) {
		return s, err
	}
	return stores.ReadOnly(s), nil
}
