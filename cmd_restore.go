package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"statescope/stores/redact"
	"statescope/stores/repair"
	"statescope/stores/repair/backup"
)

func init() { commands = append(commands, (*app).restoreCommand) }

func (a *app) restoreCommand() *cobra.Command {
	var m mutation
	var from, output string
	var list bool
	cmd := &cobra.Command{
		Use:   "restore (ID | --list [ID])",
		Short: "Bring back an earlier backup of a record, deleted ones too (default: the newest)",
		Long: "Every change statescope makes backs up the record first. restore puts one of those\n" +
			"backups back, after showing the diff; the record it replaces is backed up in turn, and\n" +
			"a deleted record is created again only if no record has its ID when it is written.\n" +
			"--list shows the backups of ID in this store, newest first; without an ID, every record\n" +
			"of this store with backups (deleted ones too), the most recently backed up first.",
		Args: usageArgs(cobra.RangeArgs(0, 1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			switch {
			case !list && len(args) == 0:
				return usageError{errors.New("restore needs the ID of the record to bring back (restore --list shows the records with backups)")}
			case !list && cmd.Flags().Changed("output"):
				return usageError{errors.New("-o goes with --list")}
			}
			if list {
				if err := checkOutput(output, "table", "json"); err != nil {
					return err
				}
				eng, done, err := a.engine(ctx)
				if err != nil {
					return err
				}
				defer done()
				if len(args) == 0 {
					return a.listStoreBackups(cmd, eng, output == "json")
				}
				return a.listBackups(eng, args[0], output == "json")
			}
			id := args[0]
			eng, done, err := a.mutationEngine(ctx, &m, "restore")
			if err != nil {
				return err
			}
			defer done()
			p, b, err := eng.PlanRestore(ctx, id, from)
			if errors.Is(err, repair.ErrNoChange) {
				fmt.Fprintln(a.out, err)
				return nil
			}
			if err != nil {
				return a.repairFailure(err)
			}
			if err := p.Seen.Pin(m.expect); err != nil {
				return a.repairFailure(err)
			}
			fmt.Fprintf(a.out, "restoring %s from %s (taken before %s at %s)\n", id, b.Path, b.Meta.Action, b.Meta.Time.UTC().Format(backupTime))
			return a.applyPlan(ctx, eng, &m, p)
		},
	}
	cmd.Flags().StringVar(&from, "backup", "", "the backup to restore: a path, or a file name from --list")
	cmd.Flags().BoolVar(&list, "list", false, "list the backups of ID (without ID: every record of this store with backups) instead of restoring")
	outputFlag(cmd, &output, "table", "json")
	m.register(cmd, true)
	return cmd
}

// backupTime is how backup times are printed: UTC, to the second.
const backupTime = "2006-01-02 15:04:05Z"

// backupJSON is one backup in -o json.
type backupJSON struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	SHA256 string    `json:"sha256"`
	Path   string    `json:"path"`
}

func backupsJSON(list []backup.Backup) []backupJSON {
	out := make([]backupJSON, 0, len(list))
	for _, b := range list {
		out = append(out, backupJSON{Time: b.Meta.Time.UTC(), Action: b.Meta.Action, SHA256: b.Meta.SHA256, Path: b.Path})
	}
	return out
}

func (a *app) writeJSON(v any) error {
	enc := json.NewEncoder(a.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (a *app) listBackups(eng *repair.Engine, id string, asJSON bool) error {
	list, err := eng.RecordBackups(id)
	if err != nil {
		return err
	}
	if asJSON {
		return a.writeJSON(backupsJSON(list))
	}
	if len(list) == 0 {
		fmt.Fprintf(a.out, "no backups of %s from %s\n", id, eng.Target)
		return nil
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tBEFORE\tSHA256\tNAME")
	for _, b := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", b.Meta.Time.UTC().Format(backupTime), b.Meta.Action, b.Meta.SHA256[:12], filepath.Base(b.Path))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.out, "in %s\n", filepath.Dir(list[0].Path))
	return err
}

// listStoreBackups lists every record of the store with backups: whether
// it exists now, how many backups, the newest and the action it preceded.
func (a *app) listStoreBackups(cmd *cobra.Command, eng *repair.Engine, asJSON bool) error {
	all, err := eng.StoreBackups(cmd.Context())
	if err != nil {
		return err
	}
	if asJSON {
		type row struct {
			ResourceID string       `json:"resource_id"`
			Now        string       `json:"now"`
			Error      string       `json:"error,omitempty"`
			Backups    []backupJSON `json:"backups"`
		}
		rows := make([]row, 0, len(all))
		for _, b := range all {
			r := row{ResourceID: b.ID, Now: string(b.Now), Backups: backupsJSON(b.Backups)}
			if b.Err != nil {
				r.Error = redact.Text(b.Err.Error())
			}
			rows = append(rows, r)
		}
		return a.writeJSON(rows)
	}
	if len(all) == 0 {
		_, err := fmt.Fprintf(a.out, "no backups from %s\n", eng.Target)
		return err
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tNOW\tBACKUPS\tNEWEST\tBEFORE")
	for _, b := range all {
		now := string(b.Now)
		if b.Err != nil {
			now += " (" + redact.Text(b.Err.Error()) + ")"
		}
		n := b.Newest()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", b.ID, now, strconv.Itoa(len(b.Backups)), n.Meta.Time.UTC().Format(backupTime), n.Meta.Action)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.out, "in %s\n", filepath.Dir(filepath.Dir(all[0].Newest().Path)))
	return err
}
