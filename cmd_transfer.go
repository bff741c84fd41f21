package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"statescope/stores/repair"
	snap "statescope/stores/repair/snapshot"
)

func init() { commands = append(commands, (*app).exportCommand, (*app).importCommand) }

func (a *app) exportCommand() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the whole store as one JSON snapshot (secrets included)",
		Long: "Writes every record, with the source store (credentials removed), the time and the\n" +
			"statescope version. Unreadable records are kept as base64 with the reason. The snapshot\n" +
			"holds secret values unmasked: -o creates the file with mode 0600.",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, done, err := a.engine(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			doc, err := eng.Export(cmd.Context(), "statescope "+version)
			if err != nil {
				return err
			}
			w, finish := a.out, func() error { return nil }
			if file != "" {
				// Never replace an earlier snapshot: it may be the only copy.
				f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err != nil {
					return err
				}
				w, finish = f, func() error {
					if err := f.Sync(); err != nil {
						f.Close()
						return err
					}
					return f.Close()
				}
			}
			if err := snap.Encode(w, doc); err != nil {
				finish()
				return err
			}
			if err := finish(); err != nil {
				return err
			}
			if file != "" {
				fmt.Fprintf(a.errOut, "exported %s from %s to %s\n", count(len(doc.Records), "record"), eng.Target, file)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "output", "o", "", "write to this new file (mode 0600) instead of stdout")
	return cmd
}

func (a *app) importCommand() *cobra.Command {
	var m mutation
	var force bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Write a snapshot's records into the store (any backend)",
		Long: "Writes each record of a snapshot from `statescope export` into the store, through the\n" +
			"same checks, backups and audit as every repair. A record that is newer in the store\n" +
			"(by updated_at) is skipped unless --force; every skipped record is reported with why.",
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			doc, err := snap.Decode(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			eng, done, err := a.mutationEngine(ctx, &m, "import")
			if err != nil {
				return err
			}
			defer done()
			plans, skips, err := eng.PlanImport(ctx, doc, force)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "snapshot of %s taken %s by %s: %s\n", doc.Source, doc.ExportedAt, doc.Tool, count(len(doc.Records), "record"))
			for _, p := range plans {
				a.present(p)
			}
			fmt.Fprint(a.out, repair.SkipReport(skips))
			if m.dryRun || len(plans) == 0 {
				fmt.Fprintln(a.out, importSummary(0, len(skips), 0, len(doc.Records)))
				if m.dryRun {
					fmt.Fprintln(a.out, "dry run: nothing was written")
				}
				return importOutcome(len(plans), 0, skips, nil)
			}
			if err := a.confirm(&m, "import", fmt.Sprintf("Import %s into %s?", count(len(plans), "record"), eng.Target)); err != nil {
				return err
			}
			applied := 0
			var failures []error
			for _, p := range plans {
				res, err := eng.Apply(ctx, p)
				if err != nil {
					failures = append(failures, a.repairFailure(err))
					continue
				}
				applied++
				a.reportApplied(string(p.Action), p.ID, res)
			}
			fmt.Fprintln(a.out, importSummary(applied, len(skips), len(failures), len(doc.Records)))
			return importOutcome(len(plans), applied, skips, failures)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite records that are newer in the store than in the snapshot")
	m.register(cmd, false)
	return cmd
}

// importOutcome is the command's result: an error if any record failed,
// else a refusal if any was refused or skipped for safety, else success.
func importOutcome(planned, applied int, skips []repair.Skip, failures []error) error {
	var refusals []error
	for _, f := range failures {
		var re refusedError
		if !errors.As(f, &re) {
			return fmt.Errorf("%d of %s not imported: %w", planned-applied, count(planned, "record"), errors.Join(failures...))
		}
		refusals = append(refusals, f)
	}
	for _, s := range skips {
		if s.Refused {
			refusals = append(refusals, fmt.Errorf("skipped %s: %s", s.ID, s.Reason))
		}
	}
	if len(refusals) > 0 {
		return refusedError{fmt.Errorf("%s refused or skipped for safety: %w", count(len(refusals), "record"), errors.Join(refusals...))}
	}
	return nil
}

// importSummary accounts for every record of the snapshot: imported,
// skipped and failed add up to the total.
func importSummary(imported, skipped, failed, total int) string {
	out := fmt.Sprintf("%d imported, %d skipped", imported, skipped)
	if failed > 0 {
		out += fmt.Sprintf(", %d failed", failed)
	}
	return out + fmt.Sprintf(" of %d", total)
}
