package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"statescope/stores/repair/editor"
)

func init() { commands = append(commands, (*app).editCommand) }

func (a *app) editCommand() *cobra.Command {
	var m mutation
	cmd := &cobra.Command{
		Use:   "edit ID",
		Short: "Edit a record in $VISUAL or $EDITOR, with a diff before anything is written",
		Long: "Opens the record as JSON in $VISUAL, else $EDITOR, else vi. On save it is checked\n" +
			"(same resource_id, a workflow status, objects or null for outputs and config, RFC 3339\n" +
			"times); an invalid save reopens the editor with the error on top. An empty or unchanged\n" +
			"file cancels. The change is shown as a diff and applied only if the record is still\n" +
			"what was opened.\n\n" +
			"An unreadable record (a truncated file) opens as its stored bytes, with where they stop\n" +
			"parsing on top; a valid save replaces them exactly as saved, after they are backed up.\n" +
			"Stores that hand out no bytes of it (PostgreSQL, remote plugins) refuse and say why.",
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			eng, done, err := a.mutationEngine(ctx, &m, "edit")
			if err != nil {
				return err
			}
			defer done()
			seen, err := eng.ObserveEdit(ctx, args[0])
			if err != nil {
				return err
			}
			if err := seen.Pin(m.expect); err != nil {
				return a.repairFailure(err)
			}
			if err := eng.Blocked(ctx, seen.ID); err != nil && !m.dryRun {
				return a.repairFailure(err)
			}
			// The editor is the user's work: refuse before it starts.
			if err := a.canAsk(&m, "edit"); err != nil {
				return err
			}
			edited, err := eng.EditRecord(ctx, editor.FromEnv(), a.in, a.out, a.errOut, seen)
			if errors.Is(err, editor.ErrCancelled) {
				fmt.Fprintln(a.out, "edit cancelled; nothing was changed")
				return nil
			}
			if err != nil {
				return err
			}
			p, err := eng.PlanEdit(seen, edited)
			if err != nil {
				fmt.Fprintln(a.errOut, eng.KeepDraft(edited))
				return a.repairFailure(err)
			}
			if err := a.applyPlan(ctx, eng, &m, p); err != nil || m.dryRun {
				fmt.Fprintln(a.errOut, eng.KeepDraft(edited))
				return err
			}
			return nil
		},
	}
	m.register(cmd, true)
	return cmd
}
