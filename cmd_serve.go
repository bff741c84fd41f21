package main

import (
	"errors"
	"fmt"
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
		Use:   "serve --store TARGET (--listen ADDR | --plugin)",
		Short: "Serve a store as workflow's IaCStateBackend gRPC service",
		Long: "Serves the store --store names as workflow's IaCStateBackend (with gRPC health and\n" +
			"statescope's LockAdmin service), so statescope can reach it remotely, e.g. over SSH.\n" +
			"  --listen unix:///path.sock or tcp://127.0.0.1:PORT (loopback only)\n" +
			"  --plugin   run as a workflow plugin under the go-plugin handshake (a host starts it\n" +
			"             with WORKFLOW_PLUGIN set; run by hand it says so and exits 1).\n" +
			"The backend name defaults to the store's kind (statescope-filesystem, statescope-memory,\n" +
			"statescope-postgres for the names workflow reserves).",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asPlugin == (listen != "") {
				return usageError{errors.New("give exactly one of --listen and --plugin")}
			}
			s, name, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer stores.Close(s)
			srv := server.New(s, server.Options{BackendName: backendName, RequireConfigure: mustConf, Log: a.errOut})
			if asPlugin {
				// Handshake on stdout; go-plugin then redirects stdio.
				plugin.Serve(srv.Register, a.errOut)
				return nil
			}
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
