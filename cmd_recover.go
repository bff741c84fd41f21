package main

import (
	"cmp"
	"fmt"

	"github.com/spf13/cobra"

	"statescope/stores/repair"
)

func init() { commands = append(commands, (*app).recoverCommand) }

func (a *app) recoverCommand() *cobra.Command {
	var m mutation
	var status, reason, token string
	cmd := &cobra.Command{
		Use:   "recover ID",
		Short: "Release a stuck record's orphaned lock, then set its status",
		Long: "For a record a crash left in provisioning or destroying under a lock whose holder is gone.\n" +
			"Step 1 shows the lock and releases it, only if the record is still stuck and the lock still\n" +
			"orphaned and still the one shown (--token pins it); step 2 sets the status (--status, error\n" +
			"by default, with --reason \"left in STATUS by an interrupted run\") after its diff. Each step\n" +
			"asks on a terminal (--yes answers both); the lock and the record are backed up, both audited.",
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, id := cmd.Context(), args[0]
			if status != "" {
				if err := repair.CheckStatus(status, cmp.Or(reason, "-")); err != nil {
					return a.repairFailure(err)
				}
			}
			eng, done, err := a.mutationEngine(ctx, &m, "recover")
			if err != nil {
				return err
			}
			defer done()
			p, err := eng.PlanRecover(ctx, id)
			if err != nil {
				return a.repairFailure(err)
			}
			if token != "" && token != p.Release.Lock.Token {
				return refused("the lock on %s has token %s, not %s; nothing released", id, p.Release.Lock.Token, token)
			}
			status, reason = cmp.Or(status, p.Status), cmp.Or(reason, p.Reason)
			fmt.Fprint(a.out, "step 1 of 2: release the orphaned lock\n"+p.Release.Describe())
			if m.dryRun {
				fmt.Fprintf(a.out, "dry run: would release the lock on %s (token %s), then set status %s:\n", id, p.Release.Lock.Token, status)
				sp, err := eng.PlanSetStatus(ctx, id, status, reason)
				if err != nil {
					return a.repairFailure(err)
				}
				a.present(sp)
				fmt.Fprintln(a.out, "dry run: nothing was written")
				return nil
			}
			if !m.yes {
				if err := a.canAsk(&m, "recover"); err != nil {
					return err
				}
				if err := a.confirmRelease(id); err != nil {
					return err
				}
			}
			res, err := eng.ApplyRecoverRelease(ctx, p)
			if err != nil {
				return a.repairFailure(err)
			}
			fmt.Fprintf(a.out, "released lock on %s (token %s)\nbackup of the lock: %s\nstep 2 of 2: set the status\n", id, p.Release.Lock.Token, res.Backup)
			err = a.setStatusAfterRelease(cmd, eng, &m, id, status, reason)
			if err != nil {
				fmt.Fprintf(a.errOut, "recover stopped after step 1: the lock on %s is released, its status untouched (%s)\n", id, p.Record.Status)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "the status to set in step 2 (default error)")
	cmd.Flags().StringVar(&reason, "reason", "", "why; recorded in the audit log, and in the error field for status error (default: left in STATUS by an interrupted run)")
	cmd.Flags().StringVar(&token, "token", "", "release only the lock with this token, from `statescope locks`")
	m.register(cmd, false)
	return cmd
}

// setStatusAfterRelease is step 2: set-status's own plan and path.
func (a *app) setStatusAfterRelease(cmd *cobra.Command, eng *repair.Engine, m *mutation, id, status, reason string) error {
	sp, err := eng.PlanSetStatus(cmd.Context(), id, status, reason)
	if err != nil {
		return a.repairFailure(err)
	}
	return a.applyPlan(cmd.Context(), eng, m, sp)
}
