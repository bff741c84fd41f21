package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"statescope/stores"
	"statescope/stores/redact"
)

func init() { commands = append(commands, (*app).listCommand) }

func (a *app) listCommand() *cobra.Command {
	var f stores.Filter
	var output string
	var reveal bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the resources in the store",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			s, name, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer stores.Close(s)
			entries, err := s.List(cmd.Context(), f)
			if err != nil {
				return err
			}
			if len(entries) == 0 && f == (stores.Filter{}) {
				return fmt.Errorf("no state in %s: it holds no records", name)
			}
			locks := a.lockIndex(cmd.Context(), s)
			if output == "json" {
				return writeListJSON(a.out, entries, locks, reveal)
			}
			return writeListTable(a.out, entries, locks, a.now(), a.staleAfter)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Status, "status", "", "only records with this status")
	fl.StringVar(&f.ResourceType, "type", "", "only records of this resource type")
	fl.StringVar(&f.Provider, "provider", "", "only records of this provider")
	fl.StringVarP(&output, "output", "o", "table", "output format: table or json")
	fl.BoolVar(&reveal, "reveal", false, "show secret-looking values in -o json")
	return cmd
}

func checkOutput(got string, allowed ...string) error {
	for _, a := range allowed {
		if got == a {
			return nil
		}
	}
	return usageError{fmt.Errorf("unknown output format %q (use %v)", got, allowed)}
}

// lockIndex returns the judged lock inventory by resource ID, or nil when
// the store has none. A failing inventory does not fail a listing.
func (a *app) lockIndex(ctx context.Context, s stores.Store) map[string]stores.LockInfo {
	ll, ok := s.(stores.LockLister)
	if !ok {
		return nil
	}
	locks, err := ll.Locks(ctx)
	if err != nil {
		fmt.Fprintln(a.errOut, "statescope: lock inventory unavailable:", err)
		return nil
	}
	stores.Judge(locks, a.now(), a.staleAfter)
	idx := make(map[string]stores.LockInfo, len(locks))
	for _, l := range locks {
		idx[l.ResourceID] = l
	}
	return idx
}

func writeListTable(w io.Writer, entries []stores.Entry, locks map[string]stores.LockInfo, now time.Time, staleAfter time.Duration) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tPROVIDER\tSTATUS\tLOCK\tUPDATED")
	for _, e := range entries {
		lock := lockCell(locks, e.ID, now)
		if e.Corrupt() {
			fmt.Fprintf(tw, "%s\t-\t-\tCORRUPT\t%s\t-\n", e.ID, lock)
			continue
		}
		s := e.State
		status := s.Status
		if s.IsStuck(now, staleAfter) {
			status += " (stuck)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ResourceID, dash(s.ResourceType), dash(s.Provider), dash(status), lock, stores.RelativeAge(s.UpdatedAt, now))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	sep := "\n"
	for _, e := range entries {
		if e.Corrupt() {
			fmt.Fprintf(w, "%scorrupt: %s (%s): %s\n", sep, e.ID, e.Source, e.Problem)
			sep = ""
		}
	}
	return nil
}

func lockCell(locks map[string]stores.LockInfo, id string, now time.Time) string {
	l, ok := locks[id]
	if !ok {
		return "-"
	}
	age := "locked"
	if !l.AcquiredAt.IsZero() {
		age = stores.HumanDuration(l.Age(now))
	}
	if l.Verdict == stores.VerdictOrphaned || l.Verdict == stores.VerdictStale {
		age += " " + string(l.Verdict)
	}
	return age
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// listItem is one element of `list -o json`: the record's own fields under
// their workflow names, plus whether it is locked.
type listItem struct {
	*stores.State
	Locked bool `json:"locked"`
}

type corruptItem struct {
	ResourceID string `json:"resource_id"`
	Source     string `json:"source"`
	Corrupt    string `json:"corrupt"`
	Locked     bool   `json:"locked"`
}

func writeListJSON(w io.Writer, entries []stores.Entry, locks map[string]stores.LockInfo, reveal bool) error {
	items := make([]any, 0, len(entries))
	for _, e := range entries {
		_, locked := locks[e.ID]
		if e.Corrupt() {
			items = append(items, corruptItem{ResourceID: e.ID, Source: e.Source, Corrupt: e.Problem, Locked: locked})
			continue
		}
		s := e.State
		if !reveal {
			s = redact.State(s)
		}
		items = append(items, listItem{State: s, Locked: locked})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(items)
}
