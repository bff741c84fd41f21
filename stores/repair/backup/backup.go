// Package backup keeps the copies statescope takes before every mutation:
// the exact bytes of a record or lock as read, plus a sidecar that says what
// they are, in private files under the user's state directory.
package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"statescope/stores/repair/private"
)

// Kind says what a backup holds.
type Kind string

const (
	KindRecord Kind = "record"
	KindLock   Kind = "lock"
)

const (
	dataExt = ".json"
	metaExt = ".meta.json"
	// stampLayout sorts lexically in time order.
	stampLayout = "20060102T150405.000000000Z"
)

// ErrMismatch: a backup's bytes no longer match the hash in its sidecar.
var ErrMismatch = errors.New("backup does not match its recorded sha256")

// Meta is the sidecar written next to each backup.
type Meta struct {
	// Target is the store, credentials removed.
	Target     string    `json:"target"`
	ResourceID string    `json:"resource_id"`
	Kind       Kind      `json:"kind"`
	Action     string    `json:"action"`
	Version    string    `json:"version,omitempty"`
	SHA256     string    `json:"sha256"`
	Time       time.Time `json:"time"`
}

// Backup is one stored copy.
type Backup struct {
	Path string
	Meta Meta
}

// Dir is the backup tree: <Root>/<store slug>/<resource slug>/<stamp>-<action>.json.
type Dir struct{ Root string }

// SHA256 is the hex digest used everywhere a hash is recorded.
func SHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Slug turns a target or resource ID into one safe path element. Names are
// lossy once cleaned, so a short hash of the original keeps them apart.
func Slug(s string) string {
	return clean(s) + "-" + SHA256([]byte(s))[:10]
}

// clean keeps the characters that are safe in a file name, at most 64.
func clean(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	return strings.TrimLeft(b.String(), ".")
}

// ResourceDir is where the backups of one resource in one store live.
func (d Dir) ResourceDir(target, id string) string {
	return filepath.Join(d.Root, Slug(target), Slug(id))
}

// open opens a directory under Root through private: Root's parent is
// statescope's state directory, and it and everything under it are
// statescope's own, never followed through a link.
func (d Dir) open(create bool, elems ...string) (*private.Dir, error) {
	root := filepath.Clean(d.Root)
	state := filepath.Dir(root)
	return private.Open(filepath.Dir(state), create, append([]string{filepath.Base(state), filepath.Base(root)}, elems...)...)
}

// Write stores data and its sidecar durably and returns the data file's
// path. It never overwrites an earlier backup. Meta.SHA256 is filled in.
func (d Dir) Write(m Meta, data []byte) (string, error) {
	dir, err := d.open(true, Slug(m.Target), Slug(m.ResourceID))
	if err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	defer dir.Close()
	m.SHA256 = SHA256(data)
	meta, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	base := m.Time.UTC().Format(stampLayout) + "-" + clean(m.Action)
	for n := 1; ; n++ {
		name := base
		if n > 1 {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		err := dir.WriteNew(name+dataExt, data)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("backup: %w", err)
		}
		// The data is only listed once its sidecar exists.
		if err := dir.WriteNew(name+metaExt, meta); err != nil {
			dir.Remove(name + dataExt)
			return "", fmt.Errorf("backup: %w", err)
		}
		return filepath.Join(dir.Path, name+dataExt), nil
	}
}

// List returns the backups of one resource, newest first.
func (d Dir) List(target, id string) ([]Backup, error) {
	dir, err := d.open(false, Slug(target), Slug(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer dir.Close()
	out, err := list(dir, func(m Meta) bool { return m.Target == target && m.ResourceID == id })
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	newestFirst(out)
	return out, nil
}

// ListStore returns the backups of every resource of one store, deleted
// records' included, newest first.
func (d Dir) ListStore(target string) ([]Backup, error) {
	dir, err := d.open(false, Slug(target))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer dir.Close()
	dirents, err := dir.ReadDir()
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	var out []Backup
	for _, e := range dirents {
		if !e.IsDir() {
			continue
		}
		sub, err := dir.Sub(e.Name(), false)
		if err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		// A resource's directory holds only its own backups; a sidecar
		// naming another store is a slug collision, not this store's.
		found, err := list(sub, func(m Meta) bool { return m.Target == target && Slug(m.ResourceID) == e.Name() })
		sub.Close()
		if err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		out = append(out, found...)
	}
	newestFirst(out)
	return out, nil
}

// list reads the backups in dir whose sidecar is readable and matches.
func list(dir *private.Dir, match func(Meta) bool) ([]Backup, error) {
	dirents, err := dir.ReadDir()
	if err != nil {
		return nil, err
	}
	var out []Backup
	for _, e := range dirents {
		n := e.Name()
		if !strings.HasSuffix(n, dataExt) || strings.HasSuffix(n, metaExt) || !e.Type().IsRegular() {
			continue
		}
		raw, err := dir.ReadFile(strings.TrimSuffix(n, dataExt) + metaExt)
		if err != nil {
			continue // an interrupted write: data without its sidecar
		}
		var m Meta
		if json.Unmarshal(raw, &m) != nil || !match(m) {
			continue // unreadable, or another name whose slug collides
		}
		out = append(out, Backup{Path: filepath.Join(dir.Path, n), Meta: m})
	}
	return out, nil
}

// newestFirst sorts backups by time, newest first; ties by path.
func newestFirst(out []Backup) {
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Meta.Time.Equal(out[j].Meta.Time) {
			return out[i].Meta.Time.After(out[j].Meta.Time)
		}
		return out[i].Path > out[j].Path
	})
}

// Read loads a backup and checks its bytes against the sidecar's hash.
// Neither file is read through a link.
func Read(path string) (Backup, []byte, error) {
	dir, err := private.Open(filepath.Dir(path), false)
	if err != nil {
		return Backup{}, nil, fmt.Errorf("backup: %w", err)
	}
	defer dir.Close()
	raw, err := dir.ReadFile(filepath.Base(metaPath(path)))
	var m Meta
	if err == nil {
		err = json.Unmarshal(raw, &m)
	}
	if err != nil {
		return Backup{}, nil, fmt.Errorf("backup %s: no readable sidecar: %w", path, err)
	}
	data, err := dir.ReadFile(filepath.Base(path))
	if err != nil {
		return Backup{}, nil, fmt.Errorf("backup: %w", err)
	}
	if SHA256(data) != m.SHA256 {
		return Backup{}, nil, fmt.Errorf("backup %s: %w", path, ErrMismatch)
	}
	return Backup{Path: path, Meta: m}, data, nil
}

func metaPath(dataPath string) string { return strings.TrimSuffix(dataPath, dataExt) + metaExt }
