package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func init() { commands = append(commands, (*app).versionCommand) }

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and the module versions built in",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			bi, _ := debug.ReadBuildInfo()
			return writeVersion(a.out, bi)
		},
	}
}

// writeVersion prints the version line, then what the binary was built
// from: the VCS revision when it was recorded, and every module linked in,
// as `go version -m` would list them (a bug report then names them all).
func writeVersion(w io.Writer, bi *debug.BuildInfo) error {
	if _, err := fmt.Fprintln(w, versionLine(bi)); err != nil {
		return err
	}
	if bi == nil {
		return nil
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" || s.Key == "vcs.time" || s.Key == "vcs.modified" {
			fmt.Fprintf(w, "%s %s\n", s.Key, s.Value)
		}
	}
	for _, m := range bi.Deps {
		line := "  " + m.Path + " " + m.Version
		if r := m.Replace; r != nil {
			line += " => " + r.Path + " " + r.Version
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

// versionLine is the first line of `version`, and all of `--version`.
func versionLine(bi *debug.BuildInfo) string {
	v := version
	if v == "dev" && bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version // go install module@version sets no -X flag
	}
	return fmt.Sprintf("statescope %s (%s %s/%s)", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
