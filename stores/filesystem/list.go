package filesystem

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"statescope/stores"
)

// List reads every record file; unreadable ones come back as corrupt
// entries, and records whose resource ID another file (or a second key in
// the same file) also claims carry the conflict, on every claimant.
// Sorted by ID, then source.
func (s *Store) List(ctx context.Context, f stores.Filter) ([]stores.Entry, error) {
	var all []stores.Entry
	err := listRecords(ctx, s, s.readEntry, entryInfo, nil, func(stores.Entry) bool { return true }, func(batch []stores.Entry) error {
		all = append(all, batch...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("filesystem: list: %w", err)
	}
	markConflicts(all)
	out := all[:0]
	for _, e := range all {
		if f.Match(e) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b stores.Entry) int {
		return cmp.Or(strings.Compare(a.ID, b.ID), strings.Compare(a.Source, b.Source))
	})
	return out, nil
}

// Stream reads and decodes records with GOMAXPROCS workers and delivers
// them in batches as they complete, in no particular order, as the object
// stores do (List sorts). A record whose resource ID an earlier-delivered
// file claims carries the conflict naming both files; the earlier one was
// delivered before it was known (List marks both).
func (s *Store) Stream(ctx context.Context, f stores.Filter, yield func([]stores.Entry) error) error {
	setProblem := func(e *stores.Entry, p string) { e.Problem = p }
	if err := listRecords(ctx, s, s.readEntry, entryInfo, setProblem, f.Match, yield); err != nil {
		return fmt.Errorf("filesystem: list: %w", err)
	}
	return nil
}

func entryInfo(e stores.Entry) (source, id, problem string) { return e.Source, e.ID, e.Problem }

// listRecords reads every record entry a directory page at a time on
// GOMAXPROCS workers and hands yield, batch by batch as they complete, the
// items that keep accepts (wfctl's metadata.json is left out). With
// setProblem, an item whose resource ID an earlier item claims gets the
// conflict. A completed listing rebuilds the claim index.
func listRecords[T any](ctx context.Context, s *Store, read func(name string, listedRegular bool) T, info func(T) (source, id, problem string), setProblem func(*T, string), keep func(T) bool, yield func([]T) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	claims, first := map[string]string{}, map[string]string{}
	err := s.recordPages(ctx, func(names []string, regular func(string) bool) error {
		return stores.FetchParallel(ctx, names, runtime.GOMAXPROCS(0), func(_ context.Context, name string) T {
			return read(name, regular(name))
		}, func(batch []T) error {
			kept := batch[:0]
			for i := range batch {
				source, id, problem := info(batch[i])
				if source == "" {
					continue // wfctl's metadata.json
				}
				claims[filepath.Base(source)] = claimOf(id, problem)
				if setProblem != nil && (problem == "" || strings.HasPrefix(problem, duplicateKeys)) {
					if earlier, dup := first[id]; dup {
						setProblem(&batch[i], joinProblem(problem, conflictWith(id, earlier)))
					} else {
						first[id] = source
					}
				}
				if keep(batch[i]) {
					kept = append(kept, batch[i])
				}
			}
			if len(kept) == 0 {
				return nil
			}
			return yield(kept)
		})
	})
	if err == nil {
		s.idx.replace(claims)
	}
	return err
}

// recordPages hands page the directory's record entries a page at a time,
// in the directory's own order, as they are read: *.json of any type (a
// link or FIFO so named is shown as unreadable), but not wfctl's
// *.lock.json nor statescope's temp files. regular says which the listing
// itself shows are regular files (checked again when opened). Reading in
// pages lets the first records be read before a large directory is listed.
func (s *Store) recordPages(ctx context.Context, page func(names []string, regular func(string) bool) error) error {
	d, err := os.Open(s.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		dirents, err := d.ReadDir(dirPage)
		if len(dirents) > 0 {
			names := make([]string, 0, len(dirents))
			var other map[string]bool
			for _, de := range dirents {
				name := de.Name()
				if !isRecordName(name) {
					continue
				}
				names = append(names, name)
				if !de.Type().IsRegular() {
					if other == nil {
						other = map[string]bool{}
					}
					other[name] = true
				}
			}
			if perr := page(names, func(name string) bool { return !other[name] }); perr != nil {
				return perr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// dirPage is how many directory entries are read at a time.
const dirPage = 1024

// recordNames collects every page of recordPages.
func (s *Store) recordNames(ctx context.Context) (names []string, regular func(string) bool, err error) {
	other := map[string]bool{}
	err = s.recordPages(ctx, func(page []string, reg func(string) bool) error {
		for _, n := range page {
			names = append(names, n)
			if !reg(n) {
				other[n] = true
			}
		}
		return nil
	})
	return names, func(name string) bool { return !other[name] }, err
}

// isRecordName: *.json, but not wfctl's *.lock.json, nor our temp files.
func isRecordName(name string) bool {
	return strings.HasSuffix(name, recordExt) && !strings.HasSuffix(name, ".lock.json") && !strings.HasPrefix(name, tempPrefix)
}

// readEntry reads one record entry; a zero Entry means "not a record"
// (wfctl's metadata.json).
func (s *Store) readEntry(name string, listedRegular bool) stores.Entry {
	path, data, problem := s.readRecordFile(name, listedRegular)
	e := stores.Entry{ID: strings.TrimSuffix(name, recordExt), Source: path, Problem: problem}
	if problem != "" {
		return e
	}
	st, err := stores.DecodeState(data)
	switch {
	case err != nil && isMetadata(name, data):
		return stores.Entry{}
	case err != nil:
		e.ID, e.Problem = stores.GuessID(data, e.ID), err.Error()
	default:
		e.State, e.ID, e.Problem = st, st.ResourceID, duplicateProblem(data)
	}
	return e
}

// readRecordFile reads a record entry's bytes. Anything but a regular file
// is a problem saying what it is, never read or followed.
func (s *Store) readRecordFile(name string, listedRegular bool) (path string, data []byte, problem string) {
	path = filepath.Join(s.dir, name)
	data, err := readEntryFile(path, listedRegular)
	var nr *NotRegularError
	switch {
	case errors.As(err, &nr):
		return path, nil, err.Error()
	case err != nil:
		return path, nil, "unreadable: " + err.Error()
	}
	return path, data, ""
}

func isMetadata(name string, data []byte) bool {
	return name == metadataFile && isWfctlMetadata(data)
}

// claimOf is which resource ID a listed file claims: its record's (the
// last of duplicate keys, as decoders read it), or for an undecodable file
// the ID its bytes seem to hold; "" for what is not a regular file.
func claimOf(id, problem string) string {
	if strings.HasPrefix(problem, notRegular) {
		return ""
	}
	return id
}

// markConflicts sets the conflict on every entry whose resource ID
// another entry's record also has.
func markConflicts(entries []stores.Entry) {
	first := make(map[string]int, len(entries))
	var dups map[string][]string
	for i, e := range entries {
		if e.State == nil {
			continue
		}
		j, seen := first[e.ID]
		if !seen {
			first[e.ID] = i
			continue
		}
		if dups == nil {
			dups = map[string][]string{}
		}
		if len(dups[e.ID]) == 0 {
			dups[e.ID] = []string{entries[j].Source}
		}
		dups[e.ID] = append(dups[e.ID], e.Source)
	}
	for i, e := range entries {
		sources := dups[e.ID]
		if e.State == nil || len(sources) == 0 {
			continue
		}
		others := slices.DeleteFunc(slices.Clone(sources), func(s string) bool { return s == e.Source })
		entries[i].Problem = joinProblem(e.Problem, conflictWith(e.ID, strings.Join(others, ", ")))
	}
}

func conflictWith(id, others string) string {
	return fmt.Sprintf(conflictPrefix+"%q is also claimed by %s; repairs on it are refused until one of them is removed", id, others)
}

// conflictPrefix starts the problem of a record whose resource ID another
// file also claims (and nothing else is wrong with it).
const conflictPrefix = "resource_id "

// OnlyConflict reports whether a listed record's problem is only that
// another file claims its resource ID: the record itself reads fine.
func OnlyConflict(problem string) bool { return strings.HasPrefix(problem, conflictPrefix) }

func joinProblem(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// duplicateKeys starts the problem of a file with two resource_id keys.
const duplicateKeys = "duplicate resource_id keys"

// duplicateProblem is the problem of a record with two resource_id keys,
// "" for any other.
func duplicateProblem(data []byte) string {
	ids := duplicateIDs(data)
	if ids == nil {
		return ""
	}
	q, _ := json.Marshal(ids)
	return fmt.Sprintf("%s %s: readers disagree which record this is; repairs on it are refused until the file is fixed", duplicateKeys, q)
}

var resourceIDKey = []byte(`"resource_id"`)

// duplicateIDs returns the values of every top-level resource_id key when
// a record has more than one (decoders keep the last; others the first),
// nil otherwise. Only records that mention the key twice are parsed again.
func duplicateIDs(data []byte) []string {
	if bytes.Count(data, resourceIDKey) < 2 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var ids []string
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil
		}
		var id string
		if key == "resource_id" && json.Unmarshal(v, &id) == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) < 2 {
		return nil
	}
	return ids
}
