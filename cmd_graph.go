package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"statescope/stores"
	"statescope/stores/graph"
)

func init() { commands = append(commands, (*app).graphCommand) }

func (a *app) graphCommand() *cobra.Command {
	var output, root string
	var reverse bool
	cmd := &cobra.Command{
		Use:   "graph",
		Short: "The dependency graph of the store (DOT, Mermaid or JSON)",
		Long: "Prints every record and its dependencies. Statuses are node attributes; a dependency on an\n" +
			"ID no record has is a dashed edge to a node marked missing; edges on a cycle are marked\n" +
			"cyclic. --root keeps what ID depends on, transitively; with --reverse, what depends on it.",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "dot", "mermaid", "json"); err != nil {
				return err
			}
			if reverse && root == "" {
				return usageError{errors.New("--reverse needs --root ID")}
			}
			s, name, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer stores.Close(s)
			// Rows carry what the graph reads; outputs and config are never decoded.
			rows, err := stores.AllRows(cmd.Context(), s, stores.Filter{}, nil)
			if err != nil {
				return err
			}
			g := graph.FromRows(rows)
			if root != "" {
				if _, ok := g.Node(root); !ok {
					return fmt.Errorf("no resource %q in %s", root, name)
				}
				g = g.Subgraph(root, reverse)
			}
			switch output {
			case "mermaid":
				return g.WriteMermaid(a.out)
			case "json":
				return g.WriteJSON(a.out)
			}
			return g.WriteDOT(a.out)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "dot", "output format: dot, mermaid or json")
	cmd.Flags().StringVar(&root, "root", "", "only what this resource depends on (with --reverse: what depends on it)")
	cmd.Flags().BoolVar(&reverse, "reverse", false, "with --root: follow dependents instead of dependencies")
	return cmd
}
