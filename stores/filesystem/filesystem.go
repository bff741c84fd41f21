// Package filesystem reads and writes state in the workflow engine's
// directory layout: <dir>/<sanitised id>.json records and <dir>/<sanitised
// id>.lock files. It also reads directories written by wfctl, whose file-name
// rule differs; the resource ID always comes from inside the file.
package filesystem

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"statescope/stores"
)

func init() {
	open := func(_ context.Context, t stores.Target) (stores.Store, error) { return Open(t.Path) }
	stores.Register("file", "a directory path or file:///abs/dir", open)
}

const (
	recordExt = ".json"
	lockExt   = ".lock"
	fileMode  = 0o600
	dirMode   = 0o750
)

// Store is a state directory.
type Store struct {
	dir string
}

// Open checks that dir is a readable directory. It writes nothing.
func Open(dir string) (*Store, error) {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("state directory %s does not exist", dir)
	case err != nil:
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	case !info.IsDir():
		return nil, fmt.Errorf("state target %s is a file, not a directory", dir)
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("state directory %s is not readable: %w", dir, err)
	}
	_, err = f.ReadDir(1)
	f.Close()
	if err != nil && !errors.Is(err, errEOF) {
		return nil, fmt.Errorf("state directory %s is not readable: %w", dir, err)
	}
	return &Store{dir: dir}, nil
}

// Dir is the state directory.
func (s *Store) Dir() string { return s.dir }

// Describe names the store.
func (s *Store) Describe() string { return "filesystem " + s.dir }

// EngineName is the engine's file-name rule, stores.ObjectName.
func EngineName(id string) string { return stores.ObjectName(id) }

// WfctlName is wfctl's rule, which also replaces ':' and '*'.
func WfctlName(id string) string {
	return strings.NewReplacer("/", "_", `\`, "_", ":", "_", "*", "_").Replace(id)
}

func (s *Store) recordPath(name string) string { return filepath.Join(s.dir, name+recordExt) }
func (s *Store) lockPath(id string) string     { return filepath.Join(s.dir, EngineName(id)+lockExt) }

// findByName looks only under the engine's and wfctl's names for id: Save
// uses it so writing a new record does not scan the whole directory.
func (s *Store) findByName(id string) (string, *stores.State, error) {
	for _, name := range uniq(EngineName(id), WfctlName(id)) {
		p := s.recordPath(name)
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		st, err := stores.DecodeState(data)
		if err != nil {
			if name == EngineName(id) {
				return p, nil, fmt.Errorf("%s: %w: %v", p, stores.ErrCorrupt, err)
			}
			continue
		}
		if st.ResourceID == id {
			return p, st, nil
		}
	}
	return "", nil, stores.ErrNotFound
}

// find returns the path of the file that holds id, trying the engine's and
// wfctl's names first and scanning the directory when names collide.
func (s *Store) find(ctx context.Context, id string) (string, *stores.State, error) {
	for _, name := range uniq(EngineName(id), WfctlName(id)) {
		p := s.recordPath(name)
		st, err := readRecord(p)
		if err == nil && st.ResourceID == id {
			return p, st, nil
		}
	}
	entries, err := s.scan(ctx)
	if err != nil {
		return "", nil, err
	}
	for _, e := range entries {
		if e.State != nil && e.State.ResourceID == id {
			return e.Source, e.State, nil
		}
	}
	// A corrupt file under the record's own name is the record, unreadable.
	for _, e := range entries {
		if e.Problem != "" && (e.Source == s.recordPath(EngineName(id)) || e.Source == s.recordPath(WfctlName(id))) {
			return e.Source, nil, fmt.Errorf("%s: %w: %s", e.Source, stores.ErrCorrupt, e.Problem)
		}
	}
	return "", nil, stores.ErrNotFound
}

func uniq(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

func readRecord(path string) (*stores.State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return stores.DecodeState(data)
}

// Get reads one record.
func (s *Store) Get(ctx context.Context, id string) (*stores.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, st, err := s.find(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("filesystem: get %q: %w", id, err)
	}
	return st, nil
}

// Save writes a record atomically, in the file that already holds it or
// under the engine's name. It refuses to overwrite a different resource's
// record whose name collides.
func (s *Store) Save(ctx context.Context, st *stores.State) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if st == nil || st.ResourceID == "" {
		return fmt.Errorf("filesystem: save: record has no resource_id")
	}
	data, err := stores.EncodeState(st)
	if err != nil {
		return fmt.Errorf("filesystem: save %q: %w", st.ResourceID, err)
	}
	path, _, err := s.findByName(st.ResourceID)
	switch {
	case errors.Is(err, stores.ErrNotFound):
		path = s.recordPath(EngineName(st.ResourceID))
		if other, rerr := readRecord(path); rerr == nil && other.ResourceID != st.ResourceID {
			return fmt.Errorf("filesystem: save %q: %s already holds resource %q (their file names collide)", st.ResourceID, path, other.ResourceID)
		}
	case errors.Is(err, stores.ErrCorrupt):
		// Overwriting an unreadable record is a repair; path is its file.
	case err != nil:
		return fmt.Errorf("filesystem: save %q: %w", st.ResourceID, err)
	}
	if err := WriteFileAtomic(path, data, fileMode); err != nil {
		return fmt.Errorf("filesystem: save %q: %w", st.ResourceID, err)
	}
	return nil
}

// List reads every record file; unreadable ones come back as corrupt entries.
func (s *Store) List(ctx context.Context, f stores.Filter) ([]stores.Entry, error) {
	entries, err := s.scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("filesystem: list: %w", err)
	}
	out := entries[:0]
	for _, e := range entries {
		if f.Match(e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *Store) scan(ctx context.Context) ([]stores.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dirents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range dirents {
		if name := d.Name(); isRecordName(name) && !d.IsDir() {
			names = append(names, name)
		}
	}
	// Decoding dominates listing, so records are read on every core.
	var out []stores.Entry
	err = stores.FetchParallel(ctx, names, 2*runtime.GOMAXPROCS(0), func(_ context.Context, name string) stores.Entry {
		return s.readEntry(name)
	}, func(batch []stores.Entry) error {
		for _, e := range batch {
			if e.Source != "" {
				out = append(out, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// readEntry reads one record file; a zero Entry means "not a record"
// (wfctl's metadata.json).
func (s *Store) readEntry(name string) stores.Entry {
	path := filepath.Join(s.dir, name)
	e := stores.Entry{ID: strings.TrimSuffix(name, recordExt), Source: path}
	data, err := os.ReadFile(path)
	if err != nil {
		e.Problem = "unreadable: " + err.Error()
		return e
	}
	st, err := stores.DecodeState(data)
	switch {
	case err != nil && name == "metadata.json" && isWfctlMetadata(data):
		return stores.Entry{}
	case err != nil:
		e.ID, e.Problem = stores.GuessID(data, e.ID), err.Error()
	default:
		e.State, e.ID = st, st.ResourceID
	}
	return e
}

// isRecordName: *.json, but not wfctl's *.lock.json, nor our temp files.
func isRecordName(name string) bool {
	return strings.HasSuffix(name, recordExt) && !strings.HasSuffix(name, ".lock.json") && !strings.HasPrefix(name, tempPrefix)
}

func isWfctlMetadata(data []byte) bool {
	return strings.Contains(string(data), `"generator_metadata"`)
}

// Delete removes the file holding the record.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path, _, err := s.find(ctx, id)
	if err != nil && !errors.Is(err, stores.ErrCorrupt) {
		return fmt.Errorf("filesystem: delete %q: %w", id, err)
	}
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("filesystem: delete %q: %w", id, stores.ErrNotFound)
		}
		return fmt.Errorf("filesystem: delete %q: %w", id, err)
	}
	return syncDir(s.dir)
}
