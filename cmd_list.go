package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
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
	var fleetSel fleetFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the resources in the store",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			if f.Status != "" && !slices.Contains(stores.Statuses, f.Status) {
				return usageError{fmt.Errorf("--status %q is not a workflow status (use one of %s)", f.Status, strings.Join(stores.Statuses, ", "))}
			}
			if fleetSel.enabled() {
				return a.listFleet(cmd.Context(), &fleetSel, f, output == "json", reveal)
			}
			s, name, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer stores.Close(s)
			noState := fmt.Errorf("no state in %s: it holds no records", name)
			if output == "json" {
				locks := a.lockIndex(cmd.Context(), s)
				stream := func(yield func([]stores.Entry) error) error {
					return stores.Stream(cmd.Context(), s, f, func(batch []stores.Entry) error {
						for i := range batch {
							batch[i].Problem = a.redact(batch[i].Problem) // a backend's words
						}
						return yield(batch)
					})
				}
				n, err := writeListJSON(a.out, stream, locks, reveal, f == (stores.Filter{}))
				if err == nil && n == 0 && f == (stores.Filter{}) {
					err = noState
				}
				return err
			}
			entries, err := s.List(cmd.Context(), f)
			if err != nil {
				return err
			}
			if len(entries) == 0 && f == (stores.Filter{}) {
				return noState
			}
			locks := a.lockIndex(cmd.Context(), s)
			if err := writeListTable(a.out, entries, locks, a.now(), a.staleAfter); err != nil {
				return err
			}
			writeCorruptNotes(a.errOut, entries)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Status, "status", "", "only records with this status")
	fl.StringVar(&f.ResourceType, "type", "", "only records of this resource type")
	fl.StringVar(&f.Provider, "provider", "", "only records of this provider")
	outputFlag(cmd, &output, "table", "json")
	fl.BoolVar(&reveal, "reveal", false, "show secret-looking values in -o json")
	fleetSel.register(cmd)
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
// the store has none or it failed: whether a record is locked is unknown
// then, and says so. A failing inventory does not fail a listing.
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
	fmt.Fprintln(tw, listHeader)
	for _, e := range entries {
		fmt.Fprintln(tw, listRow(e, locks, now, staleAfter))
	}
	return tw.Flush()
}

// writeCorruptNotes says why each unreadable record is unreadable, on
// stderr, so the table on stdout stays one row per record.
func writeCorruptNotes(w io.Writer, entries []stores.Entry) {
	for _, e := range entries {
		if e.Corrupt() {
			fmt.Fprintf(w, "corrupt: %s (%s): %s\n", e.ID, e.Source, e.Problem)
		}
	}
}

const listHeader = "ID\tTYPE\tPROVIDER\tSTATUS\tLOCK\tUPDATED"

// listRow is one record's table row, tab-separated.
func listRow(e stores.Entry, locks map[string]stores.LockInfo, now time.Time, staleAfter time.Duration) string {
	lock := lockCell(locks, e.ID, now)
	if e.Corrupt() {
		return fmt.Sprintf("%s\t-\t-\tCORRUPT\t%s\t-", e.ID, lock)
	}
	s := e.State
	status := s.Status
	if s.IsStuck(now, staleAfter) {
		status += " (stuck)"
	}
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", s.ResourceID, dash(s.ResourceType), dash(s.Provider), dash(status), lock, stores.RelativeAge(s.UpdatedAt, now))
}

func lockCell(locks map[string]stores.LockInfo, id string, now time.Time) string {
	if locks == nil {
		return "?"
	}
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
// their workflow names, masked unless reveal, plus whether it is locked
// (null: the store cannot say, e.g. a stock workflow plugin without a lock
// inventory) and, with --all-contexts/--contexts, its context. An
// unreadable record is its ID, source and why it is corrupt instead.
type listItem struct {
	entry   stores.Entry
	locked  *bool
	context string
	reveal  bool
}

// listEntryItem is one entry's JSON element; locked is null when locks is
// nil (the store cannot say); context is set when several contexts are
// listed.
func listEntryItem(e stores.Entry, locks map[string]stores.LockInfo, reveal bool, context string) listItem {
	it := listItem{entry: e, context: context, reveal: reveal}
	if locks != nil {
		_, held := locks[e.ID]
		it.locked = &held
	}
	return it
}

func (it listItem) MarshalJSON() ([]byte, error) {
	return it.appendJSON(nil, redact.JSON{Reveal: it.reveal}, 0)
}

// appendJSON appends the item at depth in j's layout, fields in upstream's
// order and omitted when upstream omits them, as encoding/json would
// write the record with its outputs and config masked.
func (it listItem) appendJSON(dst []byte, j redact.JSON, depth int) ([]byte, error) {
	o := j.Object(dst, depth)
	str := func(key, v string) {
		o.Key(key)
		o.Buf = redact.AppendString(o.Buf, v)
	}
	opt := func(key, v string) {
		if v != "" {
			str(key, v)
		}
	}
	e, s := it.entry, it.entry.State
	switch {
	case e.Corrupt():
		str("resource_id", e.ID)
		str("source", e.Source)
		str("corrupt", e.Problem)
	case s == nil:
		return nil, fmt.Errorf("%s: listed without its record", e.ID)
	default:
		str("resource_id", s.ResourceID)
		str("resource_type", s.ResourceType)
		str("provider", s.Provider)
		opt("provider_ref", s.ProviderRef)
		opt("provider_id", s.ProviderID)
		opt("config_hash", s.ConfigHash)
		str("status", s.Status)
		var err error
		for _, m := range []struct {
			key string
			m   map[string]any
		}{{"outputs", s.Outputs}, {"config", s.Config}} {
			o.Key(m.key)
			if o.Buf, err = j.AppendMap(o.Buf, depth+1, m.m); err != nil {
				return nil, err
			}
		}
		if len(s.Dependencies) > 0 {
			o.Key("dependencies")
			o.Buf = j.AppendStrings(o.Buf, depth+1, s.Dependencies)
		}
		str("created_at", s.CreatedAt)
		str("updated_at", s.UpdatedAt)
		opt("error", s.Error)
	}
	o.Key("locked")
	switch {
	case it.locked == nil:
		o.Buf = append(o.Buf, "null"...)
	case *it.locked:
		o.Buf = append(o.Buf, "true"...)
	default:
		o.Buf = append(o.Buf, "false"...)
	}
	opt("context", it.context)
	return o.End(), nil
}

// writeListJSON writes the records as one JSON array as they are listed:
// each is masked and encoded when its batch arrives and every batch is
// flushed, so nothing holds the whole store. The document is what
// json.Encoder with a two-space indent writes for the whole array. With
// emptyIsError nothing is written for an empty listing (the caller reports
// it); otherwise it is []. It returns how many items were written.
func writeListJSON(w io.Writer, stream func(yield func([]stores.Entry) error) error, locks map[string]stores.LockInfo, reveal, emptyIsError bool) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	n := 0
	j := redact.JSON{Prefix: "  ", Indent: "  ", Reveal: reveal}
	var item []byte
	err := stream(func(batch []stores.Entry) error {
		for _, e := range batch {
			var err error
			if item, err = listEntryItem(e, locks, reveal, "").appendJSON(item[:0], j, 0); err != nil {
				return err
			}
			sep := ",\n  "
			if n == 0 {
				sep = "[\n  "
			}
			bw.WriteString(sep)
			bw.Write(item)
			n++
		}
		return bw.Flush()
	})
	switch {
	case err != nil:
		return n, err
	case n > 0:
		bw.WriteString("\n]\n")
	case !emptyIsError:
		bw.WriteString("[]\n")
	}
	return n, bw.Flush()
}
