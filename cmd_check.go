package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"statescope/stores"
	"statescope/stores/check"
	"statescope/stores/fleet"
)

func init() { commands = append(commands, (*app).checkCommand) }

// findingsError: the check found something at or above --fail-on (exit 4).
type findingsError struct{ error }

func (a *app) checkCommand() *cobra.Command {
	var output, failOn string
	var f fleetFlags
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check a store (or every context) for what is wrong, with the command that repairs each",
		Long: "Reads the records and locks once and reports orphaned and stale locks, locks without a\n" +
			"record, leftover temp files, stuck and error records, unreadable entries, dependency problems\n" +
			"(dangling, cycles, destroyed dependencies), duplicate IDs, misnamed records, mixed layouts and,\n" +
			"on PostgreSQL, locks held by sessions idle in a transaction and unreadable timestamps.\n" +
			"Exit codes: 0 nothing at or above --fail-on, 4 findings at or above it, 1 a store could not\n" +
			"be checked. It never changes anything.",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json", "prometheus"); err != nil {
				return err
			}
			var threshold check.Severity
			if failOn != "none" {
				var err error
				if threshold, err = check.ParseSeverity(failOn); err != nil {
					return usageError{fmt.Errorf("--fail-on: %w (or none)", err)}
				}
			}
			many, err := f.enabled()
			if err != nil {
				return err
			}
			results, err := a.checkResults(cmd.Context(), &f, many)
			if err != nil {
				return err
			}
			switch output {
			case "json":
				err = check.WriteJSON(a.out, results, many)
			case "prometheus":
				err = check.WritePrometheus(a.out, results)
			default:
				err = check.WriteTable(a.out, results)
			}
			if err != nil {
				return err
			}
			return checkExit(results, threshold)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or prometheus (node_exporter textfile collector)")
	cmd.Flags().StringVar(&failOn, "fail-on", "critical", "exit 4 when a finding is at least this severe: critical, warning, info or none")
	f.register(cmd)
	return cmd
}

// checkResults checks the selected store, or each selected context.
func (a *app) checkResults(ctx context.Context, f *fleetFlags, many bool) ([]check.Result, error) {
	if !many {
		target, name, _, err := a.target()
		if err != nil {
			return nil, err
		}
		s, _, err := a.openStore(ctx)
		if err != nil {
			return nil, err
		}
		defer stores.Close(s)
		r := check.Result{Context: name, Target: stores.RedactTarget(target), CheckedAt: a.now()}
		r.Report, r.Err = check.Run(ctx, s, a.checkOptions(target, a.targetArgs()))
		return []check.Result{r}, nil
	}
	rs, err := eachContext(ctx, a, f, func(ctx context.Context, m fleet.Member, s stores.Store) (*check.Report, error) {
		return check.Run(ctx, s, a.checkOptions(m.Target, []string{"--context", m.Name}))
	})
	if err != nil {
		return nil, err
	}
	out := make([]check.Result, len(rs))
	for i, r := range rs {
		out[i] = check.Result{Context: r.member.Name, Target: r.member.Label(), Report: r.value, Err: r.err, CheckedAt: r.at}
	}
	return out, nil
}

func (a *app) checkOptions(target string, selectFlag []string) check.Options {
	return check.Options{Now: a.now(), StaleAfter: a.staleAfter, Target: target, Select: selectFlag}
}

// checkExit: 1 when a store could not be checked, else 4 when a finding
// reaches the threshold ("" = never).
func checkExit(results []check.Result, threshold check.Severity) error {
	failed, found := 0, 0
	for _, r := range results {
		switch {
		case r.Err != nil:
			failed++
		case threshold != "" && r.Report.AtLeast(threshold):
			found++
		}
	}
	switch {
	case failed > 0:
		return fmt.Errorf("%d of %d stores could not be checked", failed, len(results))
	case found > 0:
		return findingsError{fmt.Errorf("findings at or above %s in %d of %d stores", threshold, found, len(results))}
	}
	return nil
}
