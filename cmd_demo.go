package main

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"statescope/stores/demo"
	"statescope/stores/shellcmd"
)

//go:embed testdata/demo
var demoFiles embed.FS

func init() { commands = append(commands, (*app).demoCommand) }

func (a *app) demoCommand() *cobra.Command {
	var dir string
	var keep bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Open the built-in demo state (a fresh temporary copy)",
		Long: "Copies the built-in demo state into a temporary directory, with lock and record times\n" +
			"stamped relative to now, and opens it. The demo keeps its own backups and audit log\n" +
			"inside its directory (" + demo.Marker + "), so repairs in it never touch anything else.\n" +
			"--dir DIR keeps the demo in DIR, which must be new, empty, or a demo directory made\n" +
			"before (then opened again as it was left).",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.storeTarget != "" || a.contextName != "" || a.backend.infraPath != "" {
				return usageError{fmt.Errorf("demo opens its own store; drop --store/--context/--infra")}
			}
			fresh := true
			if dir != "" {
				var err error
				if fresh, err = demo.Check(dir); err != nil {
					return refusedError{err}
				}
			}
			if !a.isTerminal() {
				return usageError{errors.New("the demo is the terminal UI and needs a terminal")}
			}
			if dir == "" {
				tmp, err := os.MkdirTemp("", "statescope-demo-")
				if err != nil {
					return err
				}
				dir = tmp
				if !keep {
					defer os.RemoveAll(tmp)
				}
			}
			if fresh {
				src, err := fs.Sub(demoFiles, "testdata/demo")
				if err != nil {
					return err
				}
				if err := demo.Materialize(src, dir, a.now()); err != nil {
					return fmt.Errorf("preparing the demo in %s: %w", dir, err)
				}
				if err := demo.MarkDone(dir); err != nil {
					return err
				}
			}
			// The demo's repairs back up and audit into the demo, as does
			// everything else statescope keeps under XDG_STATE_HOME.
			if err := os.Setenv("XDG_STATE_HOME", filepath.Join(dir, demo.Marker)); err != nil {
				return err
			}
			a.storeTarget = dir
			err := a.runTUI(cmd.Context())
			// A temporary demo is gone by now: name only a kept one.
			if keep || cmd.Flags().Changed("dir") {
				fmt.Fprintf(a.errOut, "statescope: the demo is kept in %s; open it again with `%s`\n", dir, shellcmd.Line("demo", "--dir", dir))
			}
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "keep the demo in this directory: new, empty, or a demo directory made before")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary directory on exit")
	return cmd
}
