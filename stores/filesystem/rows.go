package filesystem

import (
	"context"
	"fmt"
	"strings"

	"statescope/stores"
)

var _ stores.RowLister = (*Store)(nil)

// ListRows lists records as table rows, read with GOMAXPROCS workers and
// delivered in batches as they complete (in no particular order), without
// building outputs and config. A row's version is a hash of its file's
// name and bytes, as GetVersioned gives it: a record known at that version
// is not decoded again. Conflicts are marked as Stream marks them; the
// claim index is rebuilt from what was listed.
func (s *Store) ListRows(ctx context.Context, f stores.Filter, known func(source, version string) (stores.Row, bool), yield func([]stores.Row) error) error {
	read := func(name string, listedRegular bool) stores.Row {
		r, _ := s.readRow(name, listedRegular, true, known)
		return r
	}
	info := func(r stores.Row) (source, id, problem string) { return r.Source, r.ID, r.Problem }
	setProblem := func(r *stores.Row, p string) { r.Problem = p }
	if err := listRecords(ctx, s, read, info, setProblem, f.MatchRow, yield); err != nil {
		return fmt.Errorf("filesystem: list: %w", err)
	}
	return nil
}

var _ stores.RawLister = (*Store)(nil)

// ListRaw lists rows as ListRows does, without versions, each good
// record's row with the file's bytes.
func (s *Store) ListRaw(ctx context.Context, f stores.Filter, yield func([]stores.RawRow) error) error {
	read := func(name string, listedRegular bool) stores.RawRow {
		r, data := s.readRow(name, listedRegular, false, nil)
		return stores.RawRow{Row: r, Data: data}
	}
	info := func(r stores.RawRow) (source, id, problem string) { return r.Source, r.ID, r.Problem }
	setProblem := func(r *stores.RawRow, p string) { r.Problem = p }
	keep := func(r stores.RawRow) bool { return f.MatchRow(r.Row) }
	if err := listRecords(ctx, s, read, info, setProblem, keep, yield); err != nil {
		return fmt.Errorf("filesystem: list: %w", err)
	}
	return nil
}

// readRow reads one record entry's row and its bytes (nil when they are
// not a record that can be read); the zero Row means "not a record".
// Versioned, the row carries its version, and a record known at it is not
// decoded again.
func (s *Store) readRow(name string, listedRegular, versioned bool, known func(source, version string) (stores.Row, bool)) (stores.Row, []byte) {
	path, data, problem := s.readRecordFile(name, listedRegular)
	r := stores.Row{ID: strings.TrimSuffix(name, recordExt), Source: path, Problem: problem}
	if problem != "" {
		return r, nil
	}
	var version string
	if versioned {
		version = contentVersion(path, data)
		if known != nil {
			if r, ok := known(path, version); ok {
				return r, data
			}
		}
	}
	row, err := stores.DecodeRow(data)
	switch {
	case err != nil && isMetadata(name, data):
		return stores.Row{}, nil
	case err != nil:
		r.ID, r.Problem = stores.GuessID(data, r.ID), err.Error()
		data = nil
	default:
		r = row
		r.Source, r.Problem = path, duplicateProblem(data)
	}
	r.Version = version
	return r, data
}
