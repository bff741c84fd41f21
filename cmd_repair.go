package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"statescope/stores"
	"statescope/stores/repair"
)

func init() {
	commands = append(commands, (*app).setStatusCommand, (*app).rmCommand)
}

// mutation holds the flags every mutating command shares.
type mutation struct {
	dryRun bool
	yes    bool
	// expect pins the record's SHA-256 for scripts.
	expect string
}

func (m *mutation) register(cmd *cobra.Command, pin bool) {
	cmd.Flags().BoolVar(&m.dryRun, "dry-run", false, "print what would change, as a diff, and write nothing")
	cmd.Flags().BoolVarP(&m.yes, "yes", "y", false, "do not ask for confirmation")
	if pin {
		cmd.Flags().StringVar(&m.expect, "expect-sha256", "", "refuse unless the record's SHA-256 is still this (shown by --dry-run)")
	}
}

// engine opens the store and the repair engine around it.
func (a *app) engine(ctx context.Context) (*repair.Engine, func(), error) {
	target, _, _, err := a.target()
	if err != nil {
		return nil, nil, err
	}
	dir, err := repair.DefaultStateDir()
	if err != nil {
		return nil, nil, err
	}
	s, _, err := a.openStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	eng := repair.New(s, repair.TargetName(target), dir)
	eng.Now, eng.StaleAfter = a.now, a.staleAfter
	return eng, func() { stores.Close(s) }, nil
}

// mutationEngine is engine for a command that changes the store. It
// refuses up front, before anything is read, edited or backed up, when the
// store is read-only. Whether it can ask is checked last (canAsk), once
// everything else that can refuse has been checked.
func (a *app) mutationEngine(ctx context.Context, m *mutation, verb string) (*repair.Engine, func(), error) {
	eng, done, err := a.engine(ctx)
	if err != nil {
		return nil, nil, err
	}
	if stores.IsReadOnly(eng.Store) {
		done()
		return nil, nil, fmt.Errorf("%s refused: %w; nothing was done (the store was opened with --readonly or a readonly config)", verb, stores.ErrReadOnly)
	}
	return eng, done, nil
}

// canAsk refuses when the command would have to ask without a terminal.
func (a *app) canAsk(m *mutation, verb string) error {
	if !m.dryRun && !m.yes && !a.isTerminal() {
		return refused("not a terminal, so there is no one to ask before statescope does %s; re-run with --yes to confirm it, or --dry-run to preview it; nothing was changed", verb)
	}
	return nil
}

// present prints a plan: what it acts on, its notes and its diff.
func (a *app) present(p *repair.Plan) {
	if p.Seen.Exists {
		fmt.Fprintf(a.out, "%s %s (sha256 %s)\n", p.Action, p.ID, p.Seen.SHA256)
	} else {
		fmt.Fprintf(a.out, "%s %s (absent now)\n", p.Action, p.ID)
	}
	for _, n := range p.Notes {
		fmt.Fprintln(a.out, "note:", n)
	}
	fmt.Fprint(a.out, p.Diff())
}

// confirm asks a y/N question on the terminal; --yes answers it. It is
// the last check before a change: without a terminal it refuses.
func (a *app) confirm(m *mutation, verb, question string) error {
	if m.yes {
		return nil
	}
	if err := a.canAsk(m, verb); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "%s [y/N] ", question)
	line, _ := readLine(a.in)
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return refused("not confirmed; nothing was changed")
}

// readLine reads one answer a byte at a time: a buffered reader would keep
// what follows the line, and the next question (recover asks two) or the
// editor reading the same input would never see it.
func readLine(in io.Reader) (string, error) {
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := in.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				return string(line), nil
			}
			line = append(line, b[0])
		}
		if err != nil {
			return string(line), err
		}
	}
}

// applyPlan shows the plan, stops there for a dry run, asks, and applies.
func (a *app) applyPlan(ctx context.Context, eng *repair.Engine, m *mutation, p *repair.Plan) error {
	a.present(p)
	blocked := eng.Blocked(ctx, p.ID)
	if m.dryRun {
		if blocked != nil {
			fmt.Fprintln(a.out, "note: it would be refused now:", blocked)
		}
		fmt.Fprintln(a.out, "dry run: nothing was written")
		return nil
	}
	if blocked != nil {
		return a.repairFailure(blocked)
	}
	if err := a.confirm(m, string(p.Action), fmt.Sprintf("Apply this %s to %s in %s?", p.Action, p.ID, eng.Target)); err != nil {
		return err
	}
	res, err := eng.Apply(ctx, p)
	if err != nil {
		return a.repairFailure(err)
	}
	a.reportApplied(string(p.Action), p.ID, res)
	return nil
}

func (a *app) reportApplied(action, id string, res repair.Result) {
	fmt.Fprintf(a.out, "%s %s: done", action, id)
	if res.After != "" {
		fmt.Fprintf(a.out, " (sha256 now %s)", res.After)
	}
	fmt.Fprintln(a.out)
	if res.Backup != "" {
		fmt.Fprintf(a.out, "backup of the previous version: %s\n", res.Backup)
	}
}

// repairFailure prints what a refusal has to explain and maps engine
// errors to exit codes: refusals 3, invalid requests 2.
func (a *app) repairFailure(err error) error {
	var ex interface{ Explain() string }
	if errors.As(err, &ex) {
		fmt.Fprint(a.errOut, ex.Explain())
	}
	switch {
	case errors.Is(err, repair.ErrRefused):
		return refusedError{err}
	case errors.Is(err, repair.ErrInvalid):
		return usageError{err}
	}
	return err
}

func (a *app) setStatusCommand() *cobra.Command {
	var m mutation
	var reason string
	cmd := &cobra.Command{
		Use:   "set-status ID STATUS",
		Short: "Set a record's status (" + strings.Join(stores.Statuses, ", ") + ")",
		Long: "Sets the status and updated_at of one record. Setting error records --reason in the\n" +
			"record's error field (required then); any other status clears the error field.",
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			eng, done, err := a.mutationEngine(ctx, &m, "set-status")
			if err != nil {
				return err
			}
			defer done()
			p, err := eng.PlanSetStatus(ctx, args[0], args[1], reason)
			if err != nil {
				return a.repairFailure(err)
			}
			if err := p.Seen.Pin(m.expect); err != nil {
				return a.repairFailure(err)
			}
			return a.applyPlan(ctx, eng, &m, p)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why; stored in the error field when STATUS is error")
	m.register(cmd, true)
	return cmd
}

func (a *app) rmCommand() *cobra.Command {
	var m mutation
	var force bool
	cmd := &cobra.Command{
		Use:   "rm ID",
		Short: "Delete a record (backed up first)",
		Long: "Deletes one record after backing it up. Refuses while other records list it in their\n" +
			"dependencies, naming them, unless --force.",
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			eng, done, err := a.mutationEngine(ctx, &m, "rm")
			if err != nil {
				return err
			}
			defer done()
			p, err := eng.PlanDelete(ctx, args[0], force)
			if err != nil {
				return a.repairFailure(err)
			}
			if err := p.Seen.Pin(m.expect); err != nil {
				return a.repairFailure(err)
			}
			return a.applyPlan(ctx, eng, &m, p)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "delete even though other records depend on it")
	m.register(cmd, true)
	return cmd
}
