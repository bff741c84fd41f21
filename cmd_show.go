package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"statescope/stores"
	"statescope/stores/graph"
	"statescope/stores/redact"
)

func init() { commands = append(commands, (*app).showCommand) }

func (a *app) showCommand() *cobra.Command {
	var output string
	var reveal bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one record, secret-looking values masked",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "yaml", "json"); err != nil {
				return err
			}
			s, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer stores.Close(s)
			st, err := s.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if !reveal {
				st = redact.State(st)
			}
			if l, ok := s.(stores.Limiter); ok {
				for _, note := range l.Limitations() {
					fmt.Fprintln(a.errOut, "note:", note)
				}
			}
			if len(st.Unknown) > 0 && output == "json" {
				fmt.Fprintln(a.errOut, "note: fields statescope does not know, kept as stored on every write:", strings.Join(unknownKeys(st), ", "))
			}
			deps, err := dependencyNotes(cmd.Context(), s, st)
			if err != nil {
				return err
			}
			if err := writeRecord(a.out, st, output); err != nil {
				return err
			}
			// YAML takes them as comments; JSON stays the record as stored.
			w, prefix := a.out, "# "
			if output == "json" {
				w, prefix = a.errOut, "note: "
			}
			for _, n := range deps {
				fmt.Fprintln(w, prefix+n)
			}
			return nil
		},
	}
	outputFlag(cmd, &output, "yaml", "json")
	cmd.Flags().BoolVar(&reveal, "reveal", false, "show secret-looking values")
	return cmd
}

// dependencyNotes say which records depend on st and which of its
// dependencies no record has, from a listing of the store's rows.
func dependencyNotes(ctx context.Context, s stores.Store, st *stores.State) ([]string, error) {
	rows, err := stores.AllRows(ctx, s, stores.Filter{}, nil)
	if err != nil {
		return nil, fmt.Errorf("listing the records to find what depends on %s: %w", st.ResourceID, err)
	}
	g := graph.FromRows(rows)
	var by []string
	for _, e := range g.Dependents(st.ResourceID) {
		by = append(by, e.From)
	}
	slices.Sort(by)
	notes := []string{"required by: " + cmp.Or(strings.Join(by, ", "), "none")}
	for _, dep := range st.Dependencies {
		if n, ok := g.Node(dep); !ok || n.Missing {
			notes = append(notes, "missing dependency: "+dep+" (no record has this ID)")
		}
	}
	return notes, nil
}

// unknownHeading introduces a record's unknown fields in YAML output.
const unknownHeading = "fields statescope does not know (kept as stored on every write)"

func unknownKeys(st *stores.State) []string {
	keys := make([]string, len(st.Unknown))
	for i, f := range st.Unknown {
		keys[i] = f.Key
	}
	return keys
}

// writeRecord prints a record as stored (JSON), or as YAML in the same key
// order (JSON is YAML, so decoding it into a node keeps the order) with its
// unknown fields last, under their own heading.
func writeRecord(w io.Writer, st *stores.State, format string) error {
	data, err := stores.EncodeState(st)
	if err != nil {
		return err
	}
	if format == "json" {
		_, err = fmt.Fprintf(w, "%s\n", bytes.TrimRight(data, "\n"))
		return err
	}
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return err
	}
	styleBlock(&node)
	if len(node.Content) == 1 {
		unknownLast(node.Content[0], unknownKeys(st))
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// unknownLast moves the unknown keys of a mapping to its end, the first
// one under the heading.
func unknownLast(m *yaml.Node, unknown []string) {
	var known, rest []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if slices.Contains(unknown, m.Content[i].Value) {
			rest = append(rest, m.Content[i], m.Content[i+1])
		} else {
			known = append(known, m.Content[i], m.Content[i+1])
		}
	}
	if len(rest) > 0 {
		rest[0].HeadComment = unknownHeading
		m.Content = append(known, rest...)
	}
}

// styleBlock drops JSON's flow style and quoting; the encoder quotes again
// wherever a plain scalar would read as another type.
func styleBlock(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		styleBlock(c)
	}
}
