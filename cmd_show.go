package main

import (
	"bytes"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"statescope/stores"
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
			return writeRecord(a.out, st, output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	cmd.Flags().BoolVar(&reveal, "reveal", false, "show secret-looking values")
	return cmd
}

// writeRecord prints a record as upstream JSON or as YAML with the same
// key order (JSON is YAML, so decoding it into a node keeps the order).
func writeRecord(w io.Writer, st *stores.State, format string) error {
	data, err := stores.EncodeState(st)
	if err != nil {
		return err
	}
	if format == "json" {
		_, err = fmt.Fprintf(w, "%s\n", data)
		return err
	}
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return err
	}
	styleBlock(&node)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// styleBlock drops JSON's flow style and quoting; the encoder quotes again
// wherever a plain scalar would read as another type.
func styleBlock(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		styleBlock(c)
	}
}
