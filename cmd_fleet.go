package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"statescope/stores"
	"statescope/stores/fleet"
	"statescope/stores/printable"
)

// fleetFlags select many contexts for check, locks and list.
type fleetFlags struct {
	all      bool
	names    []string
	parallel int
	timeout  time.Duration
	set      *pflag.FlagSet
}

func (f *fleetFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	f.set = fl
	fl.BoolVar(&f.all, "all-contexts", false, "every context in the config, concurrently")
	fl.StringSliceVar(&f.names, "contexts", nil, "these contexts (comma-separated), concurrently")
	fl.IntVar(&f.parallel, "parallel", fleet.DefaultParallel, "with --all-contexts/--contexts: how many contexts at once")
	fl.DurationVar(&f.timeout, "timeout", fleet.DefaultTimeout, "with --all-contexts/--contexts: how long each context may take")
}

// enabled: the command runs over many contexts. --contexts counts once
// given, even empty (it then names none, which members refuses, rather
// than falling back to the current context); --parallel and --timeout
// without either are refused, as they would bound nothing.
func (f *fleetFlags) enabled() (bool, error) {
	if f.all || f.set.Changed("contexts") {
		return true, nil
	}
	for _, name := range []string{"parallel", "timeout"} {
		if f.set.Changed(name) {
			return false, usageError{fmt.Errorf("--%s bounds --all-contexts or --contexts; give one of them", name)}
		}
	}
	return false, nil
}

// members resolves the flags to contexts, refusing a mix with the
// single-store flags, bounds that cannot hold and a selection of none.
func (a *app) members(f *fleetFlags) ([]fleet.Member, error) {
	if a.storeTarget != "" || a.contextName != "" || a.backend.infraPath != "" {
		return nil, usageError{errors.New("--all-contexts and --contexts choose the stores; drop --store, --context and --infra")}
	}
	if f.all && f.set.Changed("contexts") {
		return nil, usageError{errors.New("give --all-contexts or --contexts, not both")}
	}
	if f.parallel < 1 {
		return nil, usageError{fmt.Errorf("--parallel %d: must be at least 1", f.parallel)}
	}
	if f.timeout <= 0 {
		return nil, usageError{fmt.Errorf("--timeout %s: must be more than 0", f.timeout)}
	}
	// Select reads no names as every context: an empty --contexts is not that.
	if f.set.Changed("contexts") && strings.TrimSpace(strings.Join(f.names, "")) == "" {
		return nil, usageError{errors.New("--contexts names no context; give names separated by commas, or --all-contexts")}
	}
	members, err := fleet.Select(a.cfg, f.names)
	if err != nil {
		return nil, usageError{err}
	}
	return members, nil
}

// memberResult is one context's answer, in the config's order, and when
// it came.
type memberResult[T any] struct {
	member fleet.Member
	value  T
	err    error
	at     time.Time
}

// eachContext opens every selected context read-only, concurrently, runs
// do on it and returns the results in the order the contexts were chosen.
func eachContext[T any](ctx context.Context, a *app, f *fleetFlags, do func(context.Context, fleet.Member, stores.Store) (T, error)) ([]memberResult[T], error) {
	members, err := a.members(f)
	if err != nil {
		return nil, err
	}
	index := map[string]int{}
	for i, m := range members {
		index[m.Name] = i
	}
	// Contexts open at once, so none may ask on the terminal (an unknown
	// SSH host key): each is answered no, and the row says why.
	a.isTerminal = func() bool { return false }
	out := make([]memberResult[T], len(members))
	fleet.Run(ctx, members, fleet.Options{Parallel: f.parallel, Timeout: f.timeout},
		func(ctx context.Context, m fleet.Member) (T, error) {
			s, err := fleet.Open(ctx, m)
			if err != nil {
				var zero T
				return zero, err
			}
			defer stores.Close(s)
			return do(ctx, m, s)
		},
		func(m fleet.Member, v T, err error) { out[index[m.Name]] = memberResult[T]{m, v, err, a.now()} })
	return out, nil
}

// fleetFailure is the error for contexts that could not be read (exit 1),
// after every answer has been printed.
func fleetFailure[T any](results []memberResult[T], verb string) error {
	failed := 0
	for _, r := range results {
		if r.err != nil {
			failed++
		}
	}
	if failed == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d contexts could not be %s", failed, len(results), verb)
}

// listed is one context's listing for `list --all-contexts`.
type listed struct {
	entries []stores.Entry
	locks   map[string]stores.LockInfo
}

func (a *app) listFleet(ctx context.Context, f *fleetFlags, filter stores.Filter, asJSON, reveal bool) error {
	results, err := eachContext(ctx, a, f, func(ctx context.Context, m fleet.Member, s stores.Store) (listed, error) {
		entries, err := s.List(ctx, filter)
		if err != nil {
			return listed{}, err
		}
		// A failing inventory does not fail the listing, as with one store.
		locks, _ := a.judgedLocks(ctx, s, m.Name)
		idx := make(map[string]stores.LockInfo, len(locks))
		for _, l := range locks {
			idx[l.ResourceID] = l
		}
		return listed{entries, idx}, nil
	})
	if err != nil {
		return err
	}
	now := a.now()
	return writeFleet(a, results, asJSON, fleetOutput[listed]{
		header: listHeader, verb: "listed",
		items: func(name string, l listed) []any {
			items := make([]any, len(l.entries))
			for i, e := range l.entries {
				items[i] = listEntryItem(e, l.locks, reveal, name)
			}
			return items
		},
		rows: func(l listed) []string {
			rows := make([]string, len(l.entries))
			for i, e := range l.entries {
				rows[i] = listRow(e, l.locks, now, a.staleAfter)
			}
			return rows
		},
		notes: func(r memberResult[listed]) {
			for _, e := range r.value.entries {
				if e.Corrupt() {
					fmt.Fprintf(a.out, "%s: corrupt: %s (%s): %s\n", printable.Escape(r.member.Name), printable.Escape(e.ID), printable.Escape(e.Source), printable.Escape(e.Problem))
				}
			}
		},
	})
}

func (a *app) locksFleet(ctx context.Context, f *fleetFlags, asJSON bool) error {
	results, err := eachContext(ctx, a, f, func(ctx context.Context, m fleet.Member, s stores.Store) ([]stores.LockInfo, error) {
		return a.judgedLocks(ctx, s, m.Name)
	})
	if err != nil {
		return err
	}
	now := a.now()
	return writeFleet(a, results, asJSON, fleetOutput[[]stores.LockInfo]{
		header: locksHeader, verb: "read",
		items: func(name string, locks []stores.LockInfo) []any {
			items := make([]any, len(locks))
			for i, l := range locks {
				j := toLockJSON(l, now)
				j.Context = name
				items[i] = j
			}
			return items
		},
		rows: func(locks []stores.LockInfo) []string {
			rows := make([]string, len(locks))
			for i, l := range locks {
				rows[i] = lockRow(l, now)
			}
			return rows
		},
	})
}

// fleetOutput says how to write one command's answers from many contexts.
type fleetOutput[T any] struct {
	// header is the single-store table header; rows are its rows.
	header string
	rows   func(T) []string
	// items are the JSON elements of one context, with its name set.
	items func(name string, v T) []any
	// notes prints what follows the table for one context (optional).
	notes func(memberResult[T])
	// verb completes "N of M contexts could not be …".
	verb string
}

// writeFleet writes every context's answer: one JSON array (an error
// element for a context that failed) or one table with a CONTEXT column
// (a failure mark for a context that failed), then the notes, and on stderr
// each failure; exit 1 when any context failed.
func writeFleet[T any](a *app, results []memberResult[T], asJSON bool, o fleetOutput[T]) error {
	if asJSON {
		items := []any{}
		for _, r := range results {
			if r.err != nil {
				items = append(items, contextError{r.member.Name, r.err.Error()})
				continue
			}
			items = append(items, o.items(r.member.Name, r.value)...)
		}
		enc := json.NewEncoder(a.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(items); err != nil {
			return err
		}
		return fleetFailure(results, o.verb)
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTEXT\t"+o.header)
	dashes := strings.Repeat("\t-", strings.Count(o.header, "\t"))
	for _, r := range results {
		// Names are config keys: one holding a tab or an escape would
		// break the columns or act on the terminal.
		name := printable.Escape(r.member.Name)
		if r.err != nil {
			fmt.Fprintf(tw, "%s\t%s%s\n", name, strings.ToUpper(fleet.Failure(r.err)), dashes)
			continue
		}
		for _, row := range o.rows(r.value) {
			fmt.Fprintf(tw, "%s\t%s\n", name, row)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		switch {
		case r.err != nil:
			fmt.Fprintf(a.errOut, "%s (%s): could not be read: %s\n", printable.Escape(r.member.Name), printable.Escape(r.member.Label()), printable.Escape(r.err.Error()))
		case o.notes != nil:
			o.notes(r)
		}
	}
	return fleetFailure(results, o.verb)
}

// contextError is a JSON element for a context that could not be read.
type contextError struct {
	Context string `json:"context"`
	Error   string `json:"error"`
}
