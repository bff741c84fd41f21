package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"statescope/stores/repair"
	"statescope/stores/repair/audit"
)

func init() { commands = append(commands, (*app).auditCommand) }

// auditFilter selects entries of the audit log; empty fields select all.
type auditFilter struct {
	resource, action, since string
}

func (a *app) auditCommand() *cobra.Command {
	var output string
	var f auditFilter
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Print the audit log of every change statescope attempted, newest first",
		Long: "Every mutation statescope attempts appends one line to\n" +
			"$XDG_STATE_HOME/statescope/audit.log: time, user@host, store, action, resource,\n" +
			"SHA-256 before and after, backup path, result and error. Record contents are never logged.\n" +
			"Entries are printed newest first; --resource, --action and --since select some.",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			after, err := parseSince(f.since, a.now())
			if err != nil {
				return usageError{err}
			}
			dir, err := repair.DefaultStateDir()
			if err != nil {
				return err
			}
			all, err := repair.AuditLog(dir).Read()
			if err != nil {
				return err
			}
			entries := newestFirst(selectEntries(all, f, after))
			if output == "json" {
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				return enc.Encode(entries)
			}
			if len(entries) == 0 {
				_, err := fmt.Fprintln(a.out, noEntries(all, f))
				return err
			}
			return writeAuditTable(a.out, entries)
		},
	}
	fl := cmd.Flags()
	outputFlag(cmd, &output, "table", "json")
	fl.StringVar(&f.resource, "resource", "", "only entries about this resource ID")
	fl.StringVar(&f.action, "action", "", "only entries of this action (set-status, edit, delete, restore, import, force-unlock, …)")
	fl.StringVar(&f.since, "since", "", "only entries this recent: a duration (90m, 24h, 7d) or an RFC 3339 time")
	return cmd
}

// parseSince reads --since: a duration back from now (Go's units, plus d
// for days) or an RFC 3339 time. The zero time selects everything.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok && err != nil {
		var n float64
		if n, err = strconv.ParseFloat(days, 64); err == nil {
			d = time.Duration(n * float64(24*time.Hour))
		}
	}
	switch {
	case err != nil:
		return time.Time{}, fmt.Errorf("--since %q: not a duration (90m, 24h, 7d) nor an RFC 3339 time", s)
	case d < 0:
		return time.Time{}, fmt.Errorf("--since %q: a duration cannot be negative", s)
	}
	return now.Add(-d), nil
}

func selectEntries(all []audit.Entry, f auditFilter, after time.Time) []audit.Entry {
	out := make([]audit.Entry, 0, len(all))
	for _, e := range all {
		if (f.resource == "" || e.Resource == f.resource) && (f.action == "" || e.Action == f.action) && !e.Time.Before(after) {
			out = append(out, e)
		}
	}
	return out
}

// newestFirst orders entries by time, newest first; entries of the same
// time keep the reverse of the order they were written in.
func newestFirst(entries []audit.Entry) []audit.Entry {
	slices.Reverse(entries)
	slices.SortStableFunc(entries, func(x, y audit.Entry) int { return y.Time.Compare(x.Time) })
	return entries
}

// noEntries says why nothing was printed, naming the actions the log does
// hold when --action matched none of them.
func noEntries(all []audit.Entry, f auditFilter) string {
	if len(all) == 0 {
		return "no audit entries"
	}
	var actions []string
	for _, e := range all {
		if !slices.Contains(actions, e.Action) {
			actions = append(actions, e.Action)
		}
	}
	if f.action != "" && !slices.Contains(actions, f.action) {
		slices.Sort(actions)
		return fmt.Sprintf("no audit entries of action %q (the log holds %s)", f.action, strings.Join(actions, ", "))
	}
	return fmt.Sprintf("no audit entries match (%d in the log)", len(all))
}

func writeAuditTable(w io.Writer, entries []audit.Entry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACTOR\tACTION\tRESOURCE\tRESULT\tSTORE\tBACKUP\tERROR")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format("2006-01-02 15:04:05Z"), e.Actor, e.Action, e.Resource, e.Result, e.Target, dash(e.Backup), dash(e.Error))
	}
	return tw.Flush()
}
