package main

import (
	"embed"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"statescope/stores/demo"
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
			"stamped relative to now, and opens it. Repairs in the demo never touch anything else.",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.storeTarget != "" || a.contextName != "" {
				return usageError{fmt.Errorf("demo opens its own store; drop --store/--context")}
			}
			if dir == "" {
				tmp, err := os.MkdirTemp("", "statescope-demo-")
				if err != nil {
					return err
				}
				if !keep {
					defer os.RemoveAll(tmp)
				}
				dir = tmp
			} else if err := os.MkdirAll(dir, 0o750); err != nil {
				return err
			}
			src, err := fs.Sub(demoFiles, "testdata/demo")
			if err != nil {
				return err
			}
			if err := demo.Materialize(src, dir, a.now()); err != nil {
				return fmt.Errorf("preparing the demo in %s: %w", dir, err)
			}
			fmt.Fprintf(a.errOut, "statescope: demo state in %s\n", dir)
			a.storeTarget = dir
			return a.runTUI(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "put the demo state in this directory (kept) instead of a temporary one")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary directory on exit")
	return cmd
}
