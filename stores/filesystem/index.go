package filesystem

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"statescope/stores"
)

// claimIndex remembers which resource ID each record file claims, so
// finding every file that claims an ID does not read the whole directory
// each time. It is rebuilt by every listing and brought up to date by a
// directory read: files that appeared are read, files that went are
// dropped. Candidates are always read again before they are trusted.
type claimIndex struct {
	mu    sync.Mutex
	built bool
	files map[string]string // file name → the ID it claims ("" for none)
}

func (x *claimIndex) replace(files map[string]string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.files, x.built = files, true
}

func (x *claimIndex) set(name, id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.files != nil {
		x.files[name] = id
	}
}

func (x *claimIndex) remove(name string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.files, name)
}

// claimants are the index's files that claim id.
func (x *claimIndex) claimants(id string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []string
	for name, c := range x.files {
		if c == id {
			out = append(out, name)
		}
	}
	return out
}

// byEngineName maps the engine's name of every claimed ID to the ID, for
// telling which resource a lock file belongs to.
func (x *claimIndex) byEngineName() map[string]string {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make(map[string]string, len(x.files))
	for _, id := range x.files {
		if id != "" {
			out[EngineName(id)] = id
		}
	}
	return out
}

// refresh brings the index up to date with the directory.
func (s *Store) refresh(ctx context.Context) error {
	names, regular, err := s.recordNames(ctx)
	if err != nil {
		return err
	}
	s.idx.mu.Lock()
	built := s.idx.built
	var missing []string
	present := make(map[string]bool, len(names))
	for _, n := range names {
		present[n] = true
		if _, ok := s.idx.files[n]; !ok || !built {
			missing = append(missing, n)
		}
	}
	if built {
		for n := range s.idx.files {
			if !present[n] {
				delete(s.idx.files, n)
			}
		}
	}
	s.idx.mu.Unlock()
	found := make(map[string]string, len(missing))
	err = stores.FetchParallel(ctx, missing, runtime.GOMAXPROCS(0), func(_ context.Context, name string) stores.Row {
		r, _ := s.readRow(name, regular(name), false, nil)
		return r
	}, func(batch []stores.Row) error {
		for _, r := range batch {
			if r.Source != "" {
				found[filepath.Base(r.Source)] = claimOf(r.ID, r.Problem)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.idx.mu.Lock()
	defer s.idx.mu.Unlock()
	if !built {
		s.idx.files, s.idx.built = found, true
		return nil
	}
	for n, ids := range found {
		s.idx.files[n] = ids
	}
	return nil
}

// located is the file that holds a record, as read.
type located struct {
	path  string
	raw   []byte
	state *stores.State
	// problem says why the file at the record's own name is unreadable
	// (state is nil then).
	problem error
}

// version is the record's version for compare-and-swap.
func (l located) version() string { return contentVersion(l.path, l.raw) }

// contentVersion is a record file's version: a hash of its name and bytes.
func contentVersion(path string, raw []byte) string {
	h := sha256.New()
	h.Write([]byte(filepath.Base(path) + "\x00"))
	h.Write(raw)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// locate finds the one file that holds id: every file that claims it
// (its canonical names and whatever the index knows), each read again. Two
// claimants, or one with two resource_id keys, is stores.ErrAmbiguous
// naming them. With no claimant, an unreadable file under one of id's
// names is the record, unreadable (problem set); otherwise ErrNotFound.
func (s *Store) locate(ctx context.Context, id string) (located, error) {
	if err := ctx.Err(); err != nil {
		return located{}, err
	}
	if err := s.refresh(ctx); err != nil {
		return located{}, err
	}
	canonical := uniq(EngineName(id)+recordExt, WfctlName(id)+recordExt)
	candidates := append([]string{}, canonical...)
	for _, n := range s.idx.claimants(id) {
		if n != canonical[0] && (len(canonical) == 1 || n != canonical[1]) {
			candidates = append(candidates, n)
		}
	}
	var found []located
	var unreadable *located
	for i, name := range candidates {
		path := filepath.Join(s.dir, name)
		raw, err := ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			if i < len(canonical) && unreadable == nil {
				unreadable = &located{path: path, problem: err}
			}
			continue
		}
		st, err := stores.DecodeState(raw)
		switch {
		case err == nil && st.ResourceID == id:
			if dup := duplicateProblem(raw); dup != "" {
				return located{}, fmt.Errorf("%s has %s: %w", path, dup, stores.ErrAmbiguous)
			}
			found = append(found, located{path: path, raw: raw, state: st})
		case err != nil && i < len(canonical) && unreadable == nil && stores.GuessID(raw, id) == id:
			unreadable = &located{path: path, raw: raw, problem: err}
		}
	}
	switch {
	case len(found) > 1:
		paths := make([]string, len(found))
		for i, f := range found {
			paths[i] = f.path
		}
		return located{}, fmt.Errorf("resource %q is claimed by %s; repairs are refused until one of them is removed: %w", id, strings.Join(paths, " and "), stores.ErrAmbiguous)
	case len(found) == 1:
		return found[0], nil
	case unreadable != nil:
		return *unreadable, nil
	}
	return located{}, stores.ErrNotFound
}

func uniq(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}
