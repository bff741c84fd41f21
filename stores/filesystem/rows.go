package filesystem

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
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
	if err := ctx.Err(); err != nil {
		return err
	}
	seen := map[string]string{}
	claims := map[string]string{}
	err := s.recordPages(ctx, func(names []string, regular func(string) bool) error {
		return stores.FetchParallel(ctx, names, runtime.GOMAXPROCS(0), func(_ context.Context, name string) stores.Row {
			return s.readRow(name, regular(name), known)
		}, func(batch []stores.Row) error {
			kept := batch[:0]
			for _, r := range batch {
				if r.Source == "" {
					continue // wfctl's metadata.json
				}
				claims[filepath.Base(r.Source)] = claimOf(r.ID, r.Problem)
				if r.Problem == "" || strings.HasPrefix(r.Problem, duplicateKeys) {
					if first, dup := seen[r.ID]; dup {
						r.Problem = joinProblem(r.Problem, conflictWith(r.ID, first))
					} else {
						seen[r.ID] = r.Source
					}
				}
				if f.MatchRow(r) {
					kept = append(kept, r)
				}
			}
			if len(kept) == 0 {
				return nil
			}
			return yield(kept)
		})
	})
	if err != nil {
		return fmt.Errorf("filesystem: list: %w", err)
	}
	s.idx.replace(claims)
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
