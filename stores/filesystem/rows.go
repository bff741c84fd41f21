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
	read := func(name string, listedRegular bool) stores.Row { return s.readRow(name, listedRegular, known) }
	info := func(r stores.Row) (source, id, problem string) { return r.Source, r.ID, r.Problem }
	setProblem := func(r *stores.Row, p string) { r.Problem = p }
	if err := listRecords(ctx, s, read, info, setProblem, f.MatchRow, yield); err != nil {
		return fmt.Errorf("filesystem: list: %w", err)
	}
	return nil
}

// readRow reads one record entry's row; the zero Row means "not a record".
// A record known at its version is not decoded again.
func (s *Store) readRow(name string, listedRegular bool, known func(source, version string) (stores.Row, bool)) stores.Row {
	path, data, problem := s.readRecordFile(name, listedRegular)
	r := stores.Row{ID: strings.TrimSuffix(name, recordExt), Source: path, Problem: problem}
	if problem != "" {
		return r
	}
	version := contentVersion(path, data)
	if known != nil {
		if r, ok := known(path, version); ok {
			return r
		}
	}
	row, err := stores.DecodeRow(data)
	switch {
	case err != nil && isMetadata(name, data):
		return stores.Row{}
	case err != nil:
		r.ID, r.Problem = stores.GuessID(data, r.ID), err.Error()
	default:
		r = row
		r.Source, r.Problem = path, duplicateProblem(data)
	}
	r.Version = version
	return r
}
