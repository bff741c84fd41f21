package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"statescope/stores"
	"statescope/stores/repair"
	"statescope/stores/shellcmd"
)

func init() { commands = append(commands, (*app).unlockCommand) }

func (a *app) unlockCommand() *cobra.Command {
	var token string
	var unproven bool
	var plain bool
	var m mutation
	cmd := &cobra.Command{
		Use:   "unlock ID",
		Short: "Force-release a lock, only if it is still the lock you saw",
		Long: "Releases the lock on ID only if its token still equals --token (see `statescope locks`).\n" +
			"If the lock changed hands or is gone, nothing happens and the exit code is 3.\n" +
			"Without --token on a terminal it shows the lock and asks you to type the ID back\n" +
			"(--yes skips that). The lock is backed up and the release audited like every repair.\n" +
			"Where the token cannot prove which lock instance it names (see `statescope locks`),\n" +
			"--token is refused; --unproven then breaks whatever lock is current, after you type the ID.\n" +
			"ID is the resource ID, or for a lock without a record, its listed name.\n" +
			"--plain calls the backend's own Unlock, for a remote backend without a lock inventory\n" +
			"(a stock workflow plugin): it shows what that does there and asks the same way; audited.",
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, id := cmd.Context(), args[0]
			switch {
			case plain && (token != "" || unproven):
				return usageError{errors.New("--plain releases without a token: give one of --plain, --token and --unproven")}
			case plain:
				return a.plainUnlock(ctx, id, &m)
			case token != "" && unproven:
				return usageError{errors.New("--token and --unproven exclude each other")}
			case stores.IsFreshToken(token):
				return refused("%s: %v (that token was taken within a timestamp tick of the lock; `statescope locks` gives one that proves it)", id, stores.ErrTooFresh)
			}
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
			if unproven {
				return a.releaseUnproven(ctx, eng, p, &m)
			}
			switch {
			case token != "" && p.Lock.Token != token:
				return refused("the lock on %s changed hands; nothing released.\nFound: token %s, verdict %s, holder %s. Inspect again with `statescope locks`.", id, p.Lock.Token, p.Lock.Verdict, dash(p.Lock.Holder.String()))
			case stores.IsFreshToken(p.Lock.Token):
				return refused("%s: %s; nothing released", id, p.Lock.Unproven)
			case p.Lock.Unproven != "":
				return refused("%s: the token cannot prove it names the lock you saw: %s; nothing released.\nTo break whatever lock is current on it, run:\n  %s%s", id, p.Lock.Unproven, shellcmd.Line(append([]string{"unlock", id, "--unproven"}, a.targetArgs()...)...), a.credentialsNote())
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
	cmd.Flags().BoolVar(&unproven, "unproven", false, "break whatever lock is current on ID, for a lock no token can prove (asks for the ID typed back)")
	cmd.Flags().BoolVar(&plain, "plain", false, "call the backend's plain Unlock (remote backends without a lock inventory)")
	m.register(cmd, false)
	return cmd
}

// releaseUnproven breaks whatever lock is current on the planned ID, after
// saying so and having the ID typed back (on a terminal) or --yes.
func (a *app) releaseUnproven(ctx context.Context, eng *repair.Engine, p *repair.ReleasePlan, m *mutation) error {
	id := p.Lock.ResourceID
	p.Unproven = true
	fmt.Fprint(a.out, p.Describe())
	fmt.Fprintf(a.out, "WARNING: unproven release: nothing proves the lock broken will be this one.\nWhatever lock is current on %s when it runs is broken, even one taken after you looked.\n", id)
	switch {
	case m.dryRun:
		fmt.Fprintf(a.out, "dry run: would break whatever lock is current on %s: %s\n", id, p.Lock.Release)
		return nil
	case a.isTerminal():
		if err := a.confirmRelease(id); err != nil {
			return err
		}
	case !m.yes:
		return refused("not a terminal: an unproven release needs --yes; nothing released")
	}
	res, err := eng.ApplyRelease(ctx, p)
	if err != nil {
		return a.repairFailure(err)
	}
	fmt.Fprintf(a.out, "broke the lock current on %s (unproven release, audited as such)\nbackup of the lock: %s\n", id, res.Backup)
	return nil
}

// confirmRelease requires the resource ID typed back.
func (a *app) confirmRelease(id string) error {
	fmt.Fprintf(a.out, "Type the resource ID to release it: ")
	line, err := readLine(a.in)
	if err != nil && line == "" {
		return refused("no confirmation given; nothing released")
	}
	if strings.TrimSpace(line) != id {
		return refused("%q does not match %q; nothing released", strings.TrimSpace(line), id)
	}
	return nil
}
