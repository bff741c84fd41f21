package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"statescope/stores"
	"statescope/stores/fleet"
)

// fleetFlags select many contexts for check, locks and list.
type fleetFlags struct {
	all      bool
	names    []string
	parallel int
	timeout  time.Duration
}

func (f *fleetFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.all, "all-contexts", false, "every context in the config, concurrently")
	fl.StringSliceVar(&f.names, "contexts", nil, "these contexts (comma-separated), concurrently")
	fl.IntVar(&f.parallel, "parallel", fleet.DefaultParallel, "with --all-contexts/--contexts: how many contexts at once")
	fl.DurationVar(&f.timeout, "timeout", fleet.DefaultTimeout, "with --all-contexts/--contexts: how long each context may take")
}

func (f *fleetFlags) enabled() bool { return f.all || len(f.names) > 0 }

// members resolves the flags to contexts, refusing a mix with the
// single-store flags.
func (a *app) members(f *fleetFlags) ([]fleet.Member, error) {
	if a.storeTarget != "" || a.contextName != "" || a.backend.infraPath != "" {
		return nil, usageError{errors.New("--all-contexts and --contexts choose the stores; drop --store, --context and --infra")}
	}
	if f.all && len(f.names) > 0 {
		return nil, usageError{errors.New("give --all-contexts or --contexts, not both")}
	}
	if f.parallel < 1 {
		return nil, usageError{fmt.Errorf("--parallel %d: must be at least 1", f.parallel)}
	}
	members, err := fleet.Select(a.cfg, f.names)
	if err != nil {
		return nil, usageError{err}
	}
	return members, nil
}

// memberResult is one context's answer, in the config's order.
type memberResult[T any] struct {
	member fleet.Member
	value  T
	err    error
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
		func(m fleet.Member, v T, err error) { out[index[m.Name]] = memberResult[T]{m, v, err} })
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
	if asJSON {
		items := []any{}
		for _, r := range results {
			if r.err != nil {
				items = append(items, contextError{r.member.Name, r.err.Error()})
				continue
			}
			for _, e := range r.value.entries {
				items = append(items, listEntryItem(e, r.value.locks, reveal, r.member.Name))
			}
		}
		if err := writeJSON(a.out, items); err != nil {
			return err
		}
		return fleetFailure(results, "listed")
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTEXT\t"+listHeader)
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(tw, "%s\tUNREACHABLE\t-\t-\t-\t-\t-\n", r.member.Name)
			continue
		}
		for _, e := range r.value.entries {
			fmt.Fprintf(tw, "%s\t%s\n", r.member.Name, listRow(e, r.value.locks, now, a.staleAfter))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fleetNotes(a.errOut, results, func(r memberResult[listed]) {
		for _, e := range r.value.entries {
			if e.Corrupt() {
				fmt.Fprintf(a.out, "%s: corrupt: %s (%s): %s\n", r.member.Name, e.ID, e.Source, e.Problem)
			}
		}
	})
	return fleetFailure(results, "listed")
}

func (a *app) locksFleet(ctx context.Context, f *fleetFlags, asJSON bool) error {
	results, err := eachContext(ctx, a, f, func(ctx context.Context, m fleet.Member, s stores.Store) ([]stores.LockInfo, error) {
		return a.judgedLocks(ctx, s, m.Name)
	})
	if err != nil {
		return err
	}
	now := a.now()
	if asJSON {
		items := []any{}
		for _, r := range results {
			if r.err != nil {
				items = append(items, contextError{r.member.Name, r.err.Error()})
				continue
			}
			for _, l := range r.value {
				j := toLockJSON(l, now)
				j.Context = r.member.Name
				items = append(items, j)
			}
		}
		if err := writeJSON(a.out, items); err != nil {
			return err
		}
		return fleetFailure(results, "read")
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTEXT\t"+locksHeader)
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(tw, "%s\tUNREACHABLE\t-\t-\t-\t-\t-\n", r.member.Name)
			continue
		}
		for _, l := range r.value {
			fmt.Fprintf(tw, "%s\t%s\n", r.member.Name, lockRow(l, now))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fleetNotes(a.errOut, results, nil)
	return fleetFailure(results, "read")
}

// fleetNotes prints, under a fleet table, each context's own notes, and
// on errW the error of each context that could not be read.
func fleetNotes[T any](errW io.Writer, results []memberResult[T], notes func(memberResult[T])) {
	for _, r := range results {
		switch {
		case r.err != nil:
			fmt.Fprintf(errW, "%s (%s): could not be read: %v\n", r.member.Name, r.member.Label(), r.err)
		case notes != nil:
			notes(r)
		}
	}
}

// contextError is a JSON element for a context that could not be read.
type contextError struct {
	Context string `json:"context"`
	Error   string `json:"error"`
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
