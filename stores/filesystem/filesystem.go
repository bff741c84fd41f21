// Package filesystem reads and writes state in the workflow engine's
// directory layout: <dir>/<sanitised id>.json records and <dir>/<sanitised
// id>.lock files. It also reads and writes directories written by wfctl,
// whose file-name rule and key order differ; the resource ID always comes
// from inside the file. Only regular files are ever read or written: a
// link, FIFO, socket, device or directory with a record's or lock's name is
// shown as unreadable, never followed or opened.
package filesystem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

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
)

// Store is a state directory.
type Store struct {
	dir string
	// now is the clock locks are inspected by.
	now       func() time.Time
	sweepOnce sync.Once
	idx       claimIndex
}

var (
	_ stores.Streamer         = (*Store)(nil)
	_ stores.ConditionalStore = (*Store)(nil)
	_ stores.LockLister       = (*Store)(nil)
	_ stores.ForceUnlocker    = (*Store)(nil)
	_ stores.UnprovenUnlocker = (*Store)(nil)
)

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
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("state directory %s is not readable: %w", dir, err)
	}
	return &Store{dir: dir, now: time.Now}, nil
}

// Dir is the state directory.
func (s *Store) Dir() string { return s.dir }

// Describe names the store.
func (s *Store) Describe() string { return "filesystem " + s.dir }

// EngineName is the engine's file-name rule, stores.ObjectName.
func EngineName(id string) string { return stores.ObjectName(id) }

// WfctlName is wfctl's rule, which also replaces ':' and '*'.
func WfctlName(id string) string { return wfctlNamer.Replace(id) }

// wfctlNamer is built once: building a Replacer costs more than using it.
var wfctlNamer = strings.NewReplacer("/", "_", `\`, "_", ":", "_", "*", "_")

func (s *Store) lockPath(id string) string { return filepath.Join(s.dir, EngineName(id)+lockExt) }

// Get reads one record: under the engine's or wfctl's name for id, or,
// failing both, wherever a file claims it.
func (s *Store) Get(ctx context.Context, id string) (*stores.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, name := range uniq(EngineName(id), WfctlName(id)) {
		raw, err := ReadFile(filepath.Join(s.dir, name+recordExt))
		if err != nil {
			continue
		}
		if st, err := stores.DecodeState(raw); err == nil && st.ResourceID == id {
			return st, nil
		}
	}
	l, err := s.locate(ctx, id)
	switch {
	case err != nil:
		return nil, fmt.Errorf("filesystem: get %q: %w", id, err)
	case l.problem != nil:
		return nil, fmt.Errorf("filesystem: get %q: %s: %w: %v", id, l.path, stores.ErrCorrupt, l.problem)
	}
	return l.state, nil
}

// GetVersioned reads id's record from the one file that holds it, with its
// bytes and version. An unreadable record is an ErrCorrupt error with Raw
// and Version set (Raw empty when it is not a regular file, which is never
// read); two files claiming id are stores.ErrAmbiguous.
func (s *Store) GetVersioned(ctx context.Context, id string) (stores.Versioned, error) {
	l, err := s.locate(ctx, id)
	switch {
	case err != nil:
		return stores.Versioned{}, fmt.Errorf("filesystem: get %q: %w", id, err)
	case l.problem != nil:
		v := stores.Versioned{Raw: l.raw}
		if l.raw != nil {
			v.Version = l.version()
		}
		return v, fmt.Errorf("filesystem: get %q: %s: %w: %v", id, l.path, stores.ErrCorrupt, l.problem)
	}
	return stores.Versioned{State: l.state, Raw: l.raw, Version: l.version()}, nil
}

// Save writes a record atomically in the file that already holds it (so a
// record under any name is rewritten where it lives), or, for a new record,
// under the directory's naming rule. It refuses to overwrite a different
// resource's record whose name collides, and to choose between two files
// that claim the same ID.
func (s *Store) Save(ctx context.Context, st *stores.State) error {
	if err := s.save(ctx, st, nil); err != nil {
		return fmt.Errorf("filesystem: save %q: %w", stateID(st), err)
	}
	return nil
}

// SaveIf writes the record only if the file holding it still has version,
// or, with version "", only if no file holds it (created with link(2), so
// a file appearing meanwhile is never replaced).
func (s *Store) SaveIf(ctx context.Context, st *stores.State, version string) error {
	if err := s.save(ctx, st, &version); err != nil {
		return fmt.Errorf("filesystem: save %q: %w", stateID(st), err)
	}
	return nil
}

func (s *Store) save(ctx context.Context, st *stores.State, version *string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if st == nil || st.ResourceID == "" {
		return errors.New("record has no resource_id")
	}
	l, err := s.locate(ctx, st.ResourceID)
	exists := err == nil
	switch {
	case errors.Is(err, stores.ErrNotFound):
	case err != nil:
		return err
	case l.problem != nil && l.raw == nil:
		return fmt.Errorf("%s: %w", l.path, l.problem)
	}
	if version != nil {
		switch {
		case *version == "" && exists:
			return fmt.Errorf("%s was created meanwhile: %w", l.path, stores.ErrConflict)
		case *version != "" && !exists:
			return fmt.Errorf("the record was deleted meanwhile: %w", stores.ErrConflict)
		case exists && l.version() != *version:
			return fmt.Errorf("%s changed since it was read: %w", l.path, stores.ErrConflict)
		}
	}
	wfctl := s.isWfctlDir()
	if !exists {
		return s.create(st, wfctl)
	}
	data, err := encode(st, l.raw, wfctl)
	if err != nil {
		return err
	}
	if err := s.writeAtomic(l.path, data); err != nil {
		return err
	}
	s.idx.set(filepath.Base(l.path), st.ResourceID)
	return nil
}

// create writes a new record under the directory's name for it, with
// link(2) so an existing file there is never replaced.
func (s *Store) create(st *stores.State, wfctl bool) error {
	name := EngineName(st.ResourceID)
	if wfctl {
		name = WfctlName(st.ResourceID)
	}
	path := filepath.Join(s.dir, name+recordExt)
	data, err := encode(st, nil, wfctl)
	if err != nil {
		return err
	}
	tmp, err := s.writeTemp(tempWrite, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			if raw, rerr := ReadFile(path); rerr == nil {
				if other, derr := stores.DecodeState(raw); derr == nil && other.ResourceID != st.ResourceID {
					return fmt.Errorf("%s already holds resource %q (their file names collide)", path, other.ResourceID)
				}
			}
			return fmt.Errorf("%s appeared meanwhile: %w", path, stores.ErrConflict)
		}
		return err
	}
	s.idx.set(name+recordExt, st.ResourceID)
	return syncDir(s.dir)
}

// Delete removes the file holding the record, wherever it lives.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := s.remove(ctx, id, nil); err != nil {
		return fmt.Errorf("filesystem: delete %q: %w", id, err)
	}
	return nil
}

// DeleteIf deletes the record only if its file still has version.
func (s *Store) DeleteIf(ctx context.Context, id, version string) error {
	if err := s.remove(ctx, id, &version); err != nil {
		return fmt.Errorf("filesystem: delete %q: %w", id, err)
	}
	return nil
}

func (s *Store) remove(ctx context.Context, id string, version *string) error {
	l, err := s.locate(ctx, id)
	switch {
	case errors.Is(err, stores.ErrNotFound) && version != nil:
		return fmt.Errorf("%w; %w", stores.ErrConflict, stores.ErrNotFound)
	case err != nil:
		return err
	case l.problem != nil && l.raw == nil:
		return fmt.Errorf("%s: %w", l.path, l.problem)
	case version != nil && l.version() != *version:
		return fmt.Errorf("%s changed since it was read: %w", l.path, stores.ErrConflict)
	}
	if err := os.Remove(l.path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return stores.ErrNotFound
		}
		return err
	}
	s.idx.remove(filepath.Base(l.path))
	return syncDir(s.dir)
}

func stateID(st *stores.State) string {
	if st == nil {
		return ""
	}
	return st.ResourceID
}
