package filesystem

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"statescope/stores"
)

// Lock creates <dir>/<engine name>.lock exclusively, as the engine does, so
// statescope and workflow exclude each other.
func (s *Store) Lock(ctx context.Context, id string) error {
	return s.LockAs(ctx, id, stores.NewHolder("lock"))
}

// LockAs publishes the lock complete in one step: the body is written to a
// temp file, which is then linked into place with link(2), failing if the
// lock exists. No one ever sees a statescope lock without its holder, even
// after a crash. The first lock a run takes also removes the temp files
// killed statescope runs on this host left behind.
func (s *Store) LockAs(ctx context.Context, id string, h *stores.Holder) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.sweepOnce.Do(s.sweep)
	path := s.lockPath(id)
	tmp, err := s.writeTemp(tempLock, stores.EncodeLockBody(h))
	if err != nil {
		return fmt.Errorf("filesystem: lock %q: %w", id, err)
	}
	defer os.Remove(tmp)
	err = os.Link(tmp, path)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("filesystem: lock %q: %w (%s exists)", id, stores.ErrLocked, path)
	}
	if err != nil {
		return fmt.Errorf("filesystem: lock %q: %w", id, err)
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

// lockFile is one lock file read through an open descriptor. While it is
// open its inode cannot be freed, so its number cannot be reused.
type lockFile struct {
	f     *os.File
	id    identity
	body  []byte
	token string
	// unproven says why the token cannot prove the instance.
	unproven string
}

// openLock reads a lock file and works out its token at the time now. The
// token hashes inode identity, times and content. It proves the instance
// when the file system randomises inode generations, when the body carries
// statescope's nonce, or when the lock's change time (which no writer can
// set) is older than stores.FreshWindow; otherwise it is marked fresh. The
// caller closes l.f.
func openLock(path string, now time.Time) (*lockFile, error) {
	f, size, err := openEntry(path, false)
	if err != nil {
		return nil, err
	}
	l := &lockFile{f: f}
	if l.body, err = readFD(int(f.Fd()), path, size); err == nil {
		l.id, err = identify(f)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	l.token = l.id.token(l.body)
	if !l.id.hasGen && !stores.HasNonce(l.body) {
		if l.unproven = stores.TooFresh(l.id.changed(), now); l.unproven != "" {
			l.token = stores.FreshToken(l.token)
		}
	}
	return l, nil
}

// Locks lists every *.lock entry and the temp files killed statescope
// runs left. The resource ID comes from the record whose engine name is the
// lock's where there is one; otherwise the lock is marked NoRecord.
func (s *Store) Locks(ctx context.Context) ([]stores.LockInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dirents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("filesystem: locks: %w", err)
	}
	var lockNames []string
	var out []stores.LockInfo
	for _, d := range dirents {
		switch n := d.Name(); {
		case strings.HasSuffix(n, lockExt):
			lockNames = append(lockNames, n)
		case strings.HasPrefix(n, tempPrefix):
			if info, ok := leftoverInfo(filepath.Join(s.dir, n)); ok {
				out = append(out, info)
			}
		}
	}
	if len(lockNames) == 0 {
		return out, nil
	}
	if err := s.refresh(ctx); err != nil {
		return nil, fmt.Errorf("filesystem: locks: %w", err)
	}
	ids := s.idx.byEngineName()
	for _, n := range lockNames {
		if info, ok := s.lockInfo(n, ids); ok {
			out = append(out, info)
		}
	}
	return out, nil
}

// lockInfo inspects one lock entry; false when it was released meanwhile.
func (s *Store) lockInfo(name string, ids map[string]string) (stores.LockInfo, bool) {
	path := filepath.Join(s.dir, name)
	base := strings.TrimSuffix(name, lockExt)
	id, known := ids[base]
	info := stores.LockInfo{ResourceID: id, Source: path, Release: "delete lock file " + path}
	if !known {
		info.ResourceID, info.NoRecord = base, true
	}
	l, err := openLock(path, s.now())
	if errors.Is(err, fs.ErrNotExist) {
		return info, false
	}
	if err != nil {
		info.Evidence = "lock file unreadable: " + err.Error()
		info.Release = "none: statescope does not release what it cannot read"
		return info, true
	}
	defer l.f.Close()
	info.Token, info.Raw, info.Unproven = l.token, l.body, l.unproven
	at, holder, note := stores.DecodeLockBody(l.body)
	var why []string
	if note != "" {
		why = append(why, note)
	}
	if at.IsZero() {
		at = time.Unix(0, l.id.mtime)
		why = append(why, "age from the file's mtime")
	}
	if holder == nil {
		why = append(why, "no holder recorded (written by workflow)")
	}
	if !known {
		why = append(why, "no record with this name (a crash between Lock and the first save leaves this)")
	}
	if l.unproven != "" {
		why = append(why, l.unproven)
	}
	info.AcquiredAt, info.Holder, info.Evidence = at, holder, strings.Join(why, "; ")
	return info, true
}

// ForceUnlock deletes the lock file only if it is still the instance the
// caller saw. The file is held open (pinning its inode), checked against
// the token, renamed aside, and deleted only if what was renamed is that
// same inode; anything else is put back with link(2), which never replaces
// a newer lock. A fresh token is refused with stores.ErrTooFresh.
func (s *Store) ForceUnlock(ctx context.Context, id, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if stores.IsFreshToken(token) {
		return fmt.Errorf("filesystem: force unlock %q: %w", id, stores.ErrTooFresh)
	}
	l, err := s.currentLock(id)
	if err != nil {
		return fmt.Errorf("filesystem: force unlock %q: %w", id, err)
	}
	defer l.f.Close()
	if l.token != token {
		return fmt.Errorf("filesystem: force unlock %q: token is now %s, not %s: %w", id, l.token, token, stores.ErrLockChanged)
	}
	return s.removeLock(id, l)
}

// ForceUnlockUnproven deletes whatever regular lock file is on id now.
func (s *Store) ForceUnlockUnproven(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l, err := s.currentLock(id)
	if err != nil {
		return fmt.Errorf("filesystem: force unlock %q: %w", id, err)
	}
	defer l.f.Close()
	return s.removeLock(id, l)
}

func (s *Store) currentLock(id string) (*lockFile, error) {
	path := s.lockPath(id)
	l, err := openLock(path, s.now())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w (no %s)", stores.ErrNotLocked, path)
	}
	return l, err
}

// removeLock renames the lock aside and deletes it if it is still l's
// inode, unmodified; otherwise it puts it back.
func (s *Store) removeLock(id string, l *lockFile) error {
	path := s.lockPath(id)
	aside := s.tempPath(tempRelease)
	if err := os.Rename(path, aside); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("filesystem: force unlock %q: %w (released meanwhile)", id, stores.ErrNotLocked)
		}
		return fmt.Errorf("filesystem: force unlock %q: %w", id, err)
	}
	captured, lerr := os.Lstat(aside)
	held, ferr := l.f.Stat()
	if lerr == nil && ferr == nil && os.SameFile(captured, held) && held.Size() == l.id.size && held.ModTime().UnixNano() == l.id.mtime {
		if err := os.Remove(aside); err != nil {
			return fmt.Errorf("filesystem: force unlock %q: captured lock left at %s: %w", id, aside, err)
		}
		return syncDir(s.dir)
	}
	if err := os.Link(aside, path); err != nil {
		return fmt.Errorf("filesystem: force unlock %q: the lock changed while releasing and could not be put back (a newer lock exists); the captured lock file is kept at %s: %w", id, aside, stores.ErrLockChanged)
	}
	os.Remove(aside)
	return fmt.Errorf("filesystem: force unlock %q: the lock changed while releasing; left in place: %w", id, stores.ErrLockChanged)
}
