package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"statescope/shellcmd"
	"statescope/stores"
)

func init() { commands = append(commands, (*app).unlockCommand) }

func (a *app) unlockCommand() *cobra.Command {
	var token string
	var m mutation
	cmd := &cobra.Command{
		Use:   "unlock ID",
		Short: "Force-release a lock, only if it is still the lock you saw",
		Long: "Releases the lock on ID only if its token still equals --token (see `statescope locks`).\n" +
			"If the lock changed hands or is gone, nothing happens and the exit code is 3.\n" +
			"Without --token on a terminal it shows the lock and asks you to type the ID back\n" +
			"(--yes skips that). The lock is backed up and the release audited like every repair.",
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, id := cmd.Context(), args[0]
			eng, done, err := a.engine(ctx)
			if err != nil {
				return err
			}
			defer done()
			if stores.IsReadOnly(eng.Store) {
				return fmt.Errorf("force unlock %q refused: %w", id, stores.ErrReadOnly)
			}
			p, err := eng.PlanRelease(ctx, id)
			switch {
			case errors.Is(err, stores.ErrNotLocked) && token != "":
				return refused("%s is not locked any more; nothing released", id)
			case errors.Is(err, stores.ErrNotLocked):
				return refused("%s is not locked in %s; nothing to release", id, eng.Target)
			case err != nil:
				return err
			}
			switch {
			case token != "" && p.Lock.Token != token:
				return refused("the lock on %s changed hands; nothing released.\nFound: token %s, verdict %s, holder %s. Inspect again with `statescope locks`.", id, p.Lock.Token, p.Lock.Verdict, dash(p.Lock.Holder.String()))
			case token == "" && !a.isTerminal() && !m.dryRun:
				// A script must name the exact lock instance it inspected.
				return refused("not a terminal: refusing to release without a token; after checking the lock, run:\n  %s%s", shellcmd.Line(append([]string{"unlock", id, "--token", p.Lock.Token}, a.targetArgs()...)...), a.credentialsNote())
			case token == "":
				fmt.Fprint(a.out, p.Describe())
				if !m.dryRun && !m.yes {
					if err := a.confirmRelease(p.Lock.ResourceID); err != nil {
						return err
					}
				}
			}
			if m.dryRun {
				fmt.Fprintf(a.out, "dry run: would release the lock on %s (token %s): %s\n", id, p.Lock.Token, p.Lock.Release)
				return nil
			}
			res, err := eng.ApplyRelease(ctx, p)
			if err != nil {
				return a.repairFailure(err)
			}
			fmt.Fprintf(a.out, "released lock on %s (token %s)\nbackup of the lock: %s\n", id, p.Lock.Token, res.Backup)
			return nil
		},
	}
	cmd.Flags().StringVar(&token, "token", "", "token of the lock to release, from `statescope locks`")
	m.register(cmd, false)
	return cmd
}

// confirmRelease requires the resource ID typed back.
func (a *app) confirmRelease(id string) error {
	fmt.Fprintf(a.out, "Type the resource ID to release it: ")
	line, err := bufio.NewReader(a.in).ReadString('\n')
	if err != nil && line == "" {
		return refused("no confirmation given; nothing released")
	}
	if strings.TrimSpace(line) != id {
		return refused("%q does not match %q; nothing released", strings.TrimSpace(line), id)
	}
	return nil
}
