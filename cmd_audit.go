package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"statescope/stores/repair"
	"statescope/stores/repair/audit"
)

func init() { commands = append(commands, (*app).auditCommand) }

func (a *app) auditCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Print the audit log of every change statescope attempted",
		Long: "Every mutation statescope attempts appends one line to\n" +
			"$XDG_STATE_HOME/statescope/audit.log: time, user@host, store, action, resource,\n" +
			"SHA-256 before and after, backup path, result and error. Record contents are never logged.",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			dir, err := repair.DefaultStateDir()
			if err != nil {
				return err
			}
			entries, err := repair.AuditLog(dir).Read()
			if err != nil {
				return err
			}
			if output == "json" {
				if entries == nil {
					entries = []audit.Entry{}
				}
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				return enc.Encode(entries)
			}
			if len(entries) == 0 {
				_, err := fmt.Fprintln(a.out, "no audit entries")
				return err
			}
			tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tACTOR\tACTION\tRESOURCE\tRESULT\tSTORE\tBACKUP\tERROR")
			for _, e := range entries {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format("2006-01-02 15:04:05Z"), e.Actor, e.Action, e.Resource, e.Result, e.Target, dash(e.Backup), dash(e.Error))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}
