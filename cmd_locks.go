package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"statescope/stores"
)

func init() { commands = append(commands, (*app).locksCommand) }

func (a *app) locksCommand() *cobra.Command {
	var output string
	var fleetSel fleetFlags
	cmd := &cobra.Command{
		Use:   "locks",
		Short: "List every lock with its age, holder and verdict",
		Long: "Lists every lock in the store, orphaned first. Verdicts: orphaned (the holder is known\n" +
			"to be gone), stale (older than --stale-after), held (fresh, or the holder is alive),\n" +
			"unknown (nothing to judge by).",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			if many, err := fleetSel.enabled(); err != nil {
				return err
			} else if many {
				return a.locksFleet(cmd.Context(), &fleetSel, output == "json")
			}
			s, name, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer stores.Close(s)
			locks, err := a.inventory(cmd, s, name)
			if err != nil {
				return err
			}
			if output == "json" {
				return writeLocksJSON(a.out, locks, a.now())
			}
			return writeLocksTable(a.out, locks, a.now())
		},
	}
	outputFlag(cmd, &output, "table", "json")
	fleetSel.register(cmd)
	return cmd
}

func (a *app) inventory(cmd *cobra.Command, s stores.Store, name string) ([]stores.LockInfo, error) {
	return a.judgedLocks(cmd.Context(), s, name)
}

// judgedLocks is the store's lock inventory with verdicts.
func (a *app) judgedLocks(ctx context.Context, s stores.Store, name string) ([]stores.LockInfo, error) {
	ll, ok := s.(stores.LockLister)
	if !ok {
		return nil, fmt.Errorf("%s has no lock inventory: %w", name, stores.ErrUnsupported)
	}
	locks, err := ll.Locks(ctx)
	if err != nil {
		return nil, err
	}
	stores.Judge(locks, a.now(), a.staleAfter)
	return locks, nil
}

func writeLocksTable(w io.Writer, locks []stores.LockInfo, now time.Time) error {
	if len(locks) == 0 {
		_, err := fmt.Fprintln(w, "no locks")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, locksHeader)
	for _, l := range locks {
		fmt.Fprintln(tw, lockRow(l, now))
	}
	return tw.Flush()
}

const locksHeader = "RESOURCE\tAGE\tVERDICT\tHOLDER\tTOKEN\tEVIDENCE"

// lockRow is one lock's table row, tab-separated.
func lockRow(l stores.LockInfo, now time.Time) string {
	age := "-"
	if !l.AcquiredAt.IsZero() {
		age = stores.HumanDuration(l.Age(now))
	}
	return cells(lockName(l), age, string(l.Verdict), dash(l.Holder.String()), l.Token, l.Evidence)
}

// lockName is how the table names a lock: its resource, or for a lock
// without a record, its listed name and where it lives.
func lockName(l stores.LockInfo) string {
	if l.NoRecord {
		return fmt.Sprintf("%s (no record: %s)", l.ResourceID, path.Base(l.Source))
	}
	return l.ResourceID
}

// lockJSON is one element of `locks -o json`.
type lockJSON struct {
	ResourceID string         `json:"resource_id"`
	Token      string         `json:"token"`
	AcquiredAt *string        `json:"acquired_at"`
	AgeSeconds *int64         `json:"age_seconds"`
	Holder     *stores.Holder `json:"holder"`
	Verdict    stores.Verdict `json:"verdict"`
	Evidence   string         `json:"evidence"`
	Source     string         `json:"source,omitempty"`
	Release    string         `json:"release,omitempty"`
	NoRecord   bool           `json:"no_record,omitempty"`
	Unproven   string         `json:"unproven,omitempty"`
	// Context names the context with --all-contexts/--contexts.
	Context string `json:"context,omitempty"`
}

func toLockJSON(l stores.LockInfo, now time.Time) lockJSON {
	j := lockJSON{ResourceID: l.ResourceID, Token: l.Token, Holder: l.Holder, Verdict: l.Verdict, Evidence: l.Evidence, Source: l.Source, Release: l.Release, NoRecord: l.NoRecord, Unproven: l.Unproven}
	if !l.AcquiredAt.IsZero() {
		at := l.AcquiredAt.UTC().Format(time.RFC3339)
		age := int64(l.Age(now) / time.Second)
		j.AcquiredAt, j.AgeSeconds = &at, &age
	}
	return j
}

func writeLocksJSON(w io.Writer, locks []stores.LockInfo, now time.Time) error {
	out := make([]lockJSON, 0, len(locks))
	for _, l := range locks {
		out = append(out, toLockJSON(l, now))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
