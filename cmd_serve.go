package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"statescope/remote/plugin"
	"statescope/remote/server"
	"statescope/stores"
)

func init() { commands = append(commands, (*app).serveCommand) }

func (a *app) serveCommand() *cobra.Command {
	var (
		listen, backendName string
		asPlugin, mustConf  bool
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
			"The backend name defaults to the store's kind (statescope-filesystem, statescope-memory,\n" +
			"statescope-postgres for the names workflow reserves).",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asPlugin == (listen != "") {
				return usageError{errors.New("give exactly one of --listen and --plugin")}
			}
			if asPlugin {
				return a.servePlugin(cmd.Context(), backendName, mustConf)
			}
			s, name, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer stores.Close(s)
			srv := server.New(s, server.Options{BackendName: backendName, RequireConfigure: mustConf, Log: a.errOut})
			l, err := server.Listen(listen)
			if err != nil {
				return usageError{err}
			}
			fmt.Fprintf(a.errOut, "serving %s as backend %q on %s\n", name, srv.BackendName(), listen)
			return server.Serve(cmd.Context(), l, srv, 5*time.Second)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "", "unix:///path.sock or tcp://127.0.0.1:PORT")
	f.BoolVar(&asPlugin, "plugin", false, "serve as a workflow plugin (go-plugin handshake)")
	f.StringVar(&backendName, "backend-name", "", "backend name reported by ListBackendNames (default: the store's kind)")
	f.BoolVar(&mustConf, "require-configure", false, "answer FailedPrecondition until a client calls Configure, like a fresh workflow plugin")
	return cmd
}

// servePluginFromEnv serves as a workflow plugin when a host started
// statescope without a command: workflow runs plugin binaries without
// arguments, with its handshake cookie set. handled is false otherwise.
func (a *app) servePluginFromEnv(ctx context.Context) (handled bool, err error) {
	if os.Getenv(plugin.Handshake.MagicCookieKey) != plugin.Handshake.MagicCookieValue {
		return false, nil
	}
	return true, a.servePlugin(ctx, "", true)
}

// servePlugin runs the go-plugin server until the host shuts it down, over
// the store the flags name or, without one, the store the host's Configure
// names.
func (a *app) servePlugin(ctx context.Context, backendName string, mustConf bool) error {
	opts := server.Options{BackendName: backendName, RequireConfigure: mustConf, Log: a.errOut}
	var srv *server.Server
	if a.storeTarget != "" || a.contextName != "" || a.backend.infraPath != "" {
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
	plugin.Serve(srv.RegisterPlugin, a.errOut)
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
