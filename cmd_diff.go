package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"statescope/stores"
	"statescope/stores/recorddiff"
	"statescope/tui/jsondiff"
)

func init() { commands = append(commands, (*app).diffCommand) }

// errDifferent ends a diff that found differences: exit 1, as diff(1),
// with nothing more printed.
var errDifferent = errors.New("the records differ")

// diffTrouble is a diff that could not compare: exit 2, as diff(1), so a
// script can tell it from "different".
type diffTrouble struct{ error }

func (e diffTrouble) Unwrap() error { return e.error }

func (a *app) diffCommand() *cobra.Command {
	var file, output string
	var reveal bool
	cmd := &cobra.Command{
		Use:   "diff ID [ID2 | --against TARGET|CONTEXT | --file F]",
		Short: "Compare a record with another, field by field (exit 1 when they differ)",
		Long: "Compares the whole record ID — status, dependencies, timestamps and every other field,\n" +
			"then outputs and config by JSON path — with another record of the same store (ID2),\n" +
			"the same ID in another store or context (--against), or a JSON file (--file: a record,\n" +
			"or just outputs and config, which are then all that is compared). Secret-looking values\n" +
			"are masked unless --reveal. Exit 0 when equal, 1 when different, 2 when it cannot compare.",
		Args: usageArgs(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "text", "json"); err != nil {
				return err
			}
			sources := 0
			for _, given := range []bool{len(args) == 2, a.tui.against != "", file != ""} {
				if given {
					sources++
				}
			}
			if sources != 1 {
				return usageError{errors.New("compare ID with exactly one of: a second ID, --against TARGET|CONTEXT, --file F")}
			}
			d, err := a.loadDiff(cmd.Context(), args, file)
			if err != nil {
				return diffTrouble{err}
			}
			if output == "json" {
				err = d.writeJSON(a.out, reveal)
			} else {
				err = d.writeText(a.out, reveal)
			}
			if err != nil {
				return err
			}
			if len(d.changes) > 0 {
				return errDifferent
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "compare with this JSON file: a record, or just its outputs and config")
	outputFlag(cmd, &output, "text", "json")
	cmd.Flags().BoolVar(&reveal, "reveal", false, "show secret-looking values")
	return cmd
}

// recordDiff is one comparison: the two sides, named, and what differs.
type recordDiff struct {
	a, b    string
	only    recorddiff.Sections
	changes []jsondiff.Change
}

// loadDiff reads both sides. --against is the root flag the terminal UI
// reads too: a context name, else a store target.
func (a *app) loadDiff(ctx context.Context, args []string, file string) (*recordDiff, error) {
	s, name, err := a.openStore(ctx)
	if err != nil {
		return nil, err
	}
	defer stores.Close(s)
	id := args[0]
	this, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &recordDiff{a: id + " @ " + name}
	var other *stores.State
	switch {
	case len(args) == 2:
		d.b = args[1] + " @ " + name
		other, err = s.Get(ctx, args[1])
	case file != "":
		d.b = file
		var raw []byte
		if raw, err = os.ReadFile(file); err == nil {
			if other, d.only, err = recorddiff.DecodeCompared(raw); err != nil {
				err = fmt.Errorf("%s: %w", file, err)
			}
		}
	default:
		other, d.b, err = a.againstRecord(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	d.changes, err = recorddiff.Compare(this, other, d.only)
	return d, err
}

// againstRecord reads ID from the --against context or target, only ever
// reading it.
func (a *app) againstRecord(ctx context.Context, id string) (*stores.State, string, error) {
	target, label := a.tui.against, stores.RedactTarget(a.tui.against)
	if slices.Contains(a.cfg.Names(), a.tui.against) {
		_, c, err := a.cfg.Context(a.tui.against)
		if err != nil {
			return nil, "", err
		}
		target, label = c.Store, a.tui.against
	}
	other, err := openForReading(ctx, target)
	if err != nil {
		return nil, "", err
	}
	defer stores.Close(other)
	st, err := other.Get(ctx, id)
	return st, id + " @ " + label, err
}

func (d *recordDiff) writeText(w io.Writer, reveal bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", d.a, d.b)
	if d.only != nil {
		fmt.Fprintf(&b, "only %s compared: the other side is not a whole record\n", strings.Join(d.only, " & "))
	}
	if len(d.changes) == 0 {
		b.WriteString("no differences\n")
	}
	for _, c := range d.changes {
		switch c.Kind {
		case jsondiff.Added:
			fmt.Fprintf(&b, "+ %s: %s\n", c.Path, recorddiff.Shown(c, c.New, reveal))
		case jsondiff.Removed:
			fmt.Fprintf(&b, "- %s: %s\n", c.Path, recorddiff.Shown(c, c.Old, reveal))
		default:
			fmt.Fprintf(&b, "~ %s: %s → %s\n", c.Path, recorddiff.Shown(c, c.Old, reveal), recorddiff.Shown(c, c.New, reveal))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// diffJSON is `diff -o json`: values as JSON, masked unless --reveal;
// old is null for an added path, new for a removed one.
type diffJSON struct {
	A         string       `json:"a"`
	B         string       `json:"b"`
	Compared  string       `json:"compared"`
	Different bool         `json:"different"`
	Changes   []changeJSON `json:"changes"`
}

type changeJSON struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
	Old  any    `json:"old"`
	New  any    `json:"new"`
}

func (d *recordDiff) writeJSON(w io.Writer, reveal bool) error {
	out := diffJSON{A: d.a, B: d.b, Compared: d.only.String(), Different: len(d.changes) > 0, Changes: []changeJSON{}}
	for _, c := range d.changes {
		out.Changes = append(out.Changes, changeJSON{Path: c.Path, Kind: c.Kind.String(),
			Old: recorddiff.Visible(c, c.Old, reveal), New: recorddiff.Visible(c, c.New, reveal)})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
