package filesystem

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"statescope/stores"
)

// Lock creates <dir>/<engine name>.lock with O_EXCL, as the engine does, so
// statescope and workflow exclude each other.
func (s *Store) Lock(ctx context.Context, id string) error {
	return s.LockAs(ctx, id, stores.NewHolder("lock"))
}

// LockAs takes the lock and records the holder after the upstream timestamp.
func (s *Store) LockAs(ctx context.Context, id string, h *stores.Holder) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path := s.lockPath(id)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fileMode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("filesystem: lock %q: %w (%s exists)", id, stores.ErrLocked, path)
	}
	if err != nil {
		return fmt.Errorf("filesystem: lock %q: %w", id, err)
	}
	_, werr := f.Write(stores.EncodeLockBody(h))
	if serr := f.Sync(); werr == nil {
		werr = serr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return fmt.Errorf("filesystem: lock %q: %w", id, werr)
	}
	return nil
}

// Unlock deletes the lock file, as the engine does.
func (s *Store) Unlock(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := os.Remove(s.lockPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("filesystem: unlock %q: %w", id, stores.ErrNotLocked)
	}
	if err != nil {
		return fmt.Errorf("filesystem: unlock %q: %w", id, err)
	}
	return nil
}

// lockFile is one lock file as read, with its token.
type lockFile struct {
	path  string
	info  fs.FileInfo
	body  []byte
	token string
}

func readLock(path string) (lockFile, error) {
	info, err := os.Stat(path)
	if err != nil {
		return lockFile{}, err
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return lockFile{}, err
	}
	return lockFile{path: path, info: info, body: body, token: fileToken(info, body)}, nil
}

// fileToken identifies one lock file instance: its mtime, size and content.
func fileToken(info fs.FileInfo, body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d|%d|", info.ModTime().UnixNano(), info.Size())
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Locks lists every *.lock file. The resource ID comes from the record
// with the same engine name where there is one, else from the file name.
func (s *Store) Locks(ctx context.Context) ([]stores.LockInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dirents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("filesystem: locks: %w", err)
	}
	var lockNames []string
	for _, d := range dirents {
		if n := d.Name(); strings.HasSuffix(n, lockExt) && !d.IsDir() {
			lockNames = append(lockNames, n)
		}
	}
	if len(lockNames) == 0 {
		return nil, nil
	}
	ids := map[string]string{}
	entries, err := s.scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("filesystem: locks: %w", err)
	}
	for _, e := range entries {
		if e.State != nil {
			ids[EngineName(e.State.ResourceID)] = e.State.ResourceID
		}
	}
	var out []stores.LockInfo
	for _, n := range lockNames {
		base := strings.TrimSuffix(n, lockExt)
		id, known := ids[base]
		if !known {
			id = base
		}
		l, err := readLock(filepath.Join(s.dir, n))
		if errors.Is(err, fs.ErrNotExist) {
			continue // released while we looked
		}
		info := stores.LockInfo{ResourceID: id, Source: filepath.Join(s.dir, n), Release: "delete lock file " + filepath.Join(s.dir, n)}
		if err != nil {
			info.Evidence = "lock file unreadable: " + err.Error()
			out = append(out, info)
			continue
		}
		info.Token, info.Raw = l.token, l.body
		at, holder, note := stores.DecodeLockBody(l.body)
		var why []string
		if note != "" {
			why = append(why, note)
		}
		if at.IsZero() {
			at = l.info.ModTime()
			why = append(why, "age from the file's mtime")
		}
		if holder == nil {
			why = append(why, "no holder recorded (written by workflow)")
		}
		if !known {
			why = append(why, "no record with this name; ID taken from the file name")
		}
		info.AcquiredAt, info.Holder, info.Evidence = at, holder, strings.Join(why, "; ")
		out = append(out, info)
	}
	return out, nil
}

// ForceUnlock deletes the lock file only if it is still the instance the
// caller saw. The file is first renamed aside (atomic), the captured file
// is checked again, and only then deleted; a file that changed meanwhile is
// put back with link(2), which never replaces a newer lock.
func (s *Store) ForceUnlock(ctx context.Context, id, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path := s.lockPath(id)
	cur, err := readLock(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("filesystem: force unlock %q: %w (no %s)", id, stores.ErrNotLocked, path)
	}
	if err != nil {
		return fmt.Errorf("filesystem: force unlock %q: %w", id, err)
	}
	if cur.token != token {
		return fmt.Errorf("filesystem: force unlock %q: token is now %s, not %s: %w", id, cur.token, token, stores.ErrLockChanged)
	}
	aside := filepath.Join(s.dir, tempPrefix+"release-"+stores.RandomHex(6)+".tmp")
	if err := os.Rename(path, aside); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("filesystem: force unlock %q: %w (released meanwhile)", id, stores.ErrNotLocked)
		}
		return fmt.Errorf("filesystem: force unlock %q: %w", id, err)
	}
	captured, err := readLock(aside)
	if err == nil && captured.token == token && bytes.Equal(captured.body, cur.body) {
		if err := os.Remove(aside); err != nil {
			return fmt.Errorf("filesystem: force unlock %q: captured lock left at %s: %w", id, aside, err)
		}
		return syncDir(s.dir)
	}
	if lerr := os.Link(aside, path); lerr != nil {
		return fmt.Errorf("filesystem: force unlock %q: the lock changed while releasing and could not be put back (a newer lock exists); the captured lock file is kept at %s: %w", id, aside, stores.ErrLockChanged)
	}
	os.Remove(aside)
	return fmt.Errorf("filesystem: force unlock %q: the lock changed while releasing; left in place: %w", id, stores.ErrLockChanged)
}
