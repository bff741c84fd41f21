package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"statescope/stores/repair"
)

func init() { commands = append(commands, (*app).restoreCommand) }

func (a *app) restoreCommand() *cobra.Command {
	var m mutation
	var from string
	var list bool
	cmd := &cobra.Command{
		Use:   "restore ID",
		Short: "Bring back an earlier backup of a record (default: the newest)",
		Long: "Every change statescope makes backs up the record first. restore puts one of those\n" +
			"backups back, after showing the diff; the record it replaces is backed up in turn.\n" +
			"--list shows the backups of ID in this store, newest first.",
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id := args[0]
			if list {
				eng, done, err := a.engine(ctx)
				if err != nil {
					return err
				}
				defer done()
				return a.listBackups(eng, id)
			}
			eng, done, err := a.mutationEngine(ctx, &m, "restore")
			if err != nil {
				return err
			}
			defer done()
			p, b, err := eng.PlanRestore(ctx, id, from)
			if errors.Is(err, repair.ErrNoChange) {
				fmt.Fprintln(a.out, err)
				return nil
			}
			if err != nil {
				return a.repairFailure(err)
			}
			if err := p.Seen.Pin(m.expect); err != nil {
				return a.repairFailure(err)
			}
			fmt.Fprintf(a.out, "restoring %s from %s (taken before %s at %s)\n", id, b.Path, b.Meta.Action, b.Meta.Time.UTC().Format("2006-01-02 15:04:05Z"))
			return a.applyPlan(ctx, eng, &m, p)
		},
	}
	cmd.Flags().StringVar(&from, "backup", "", "the backup to restore: a path, or a file name from --list")
	cmd.Flags().BoolVar(&list, "list", false, "list the backups of ID instead of restoring")
	m.register(cmd, true)
	return cmd
}

func (a *app) listBackups(eng *repair.Engine, id string) error {
	list, err := eng.RecordBackups(id)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintf(a.out, "no backups of %s from %s\n", id, eng.Target)
		return nil
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tBEFORE\tSHA256\tNAME")
	for _, b := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", b.Meta.Time.UTC().Format("2006-01-02 15:04:05Z"), b.Meta.Action, b.Meta.SHA256[:12], filepath.Base(b.Path))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.out, "in %s\n", filepath.Dir(list[0].Path))
	return err
}
