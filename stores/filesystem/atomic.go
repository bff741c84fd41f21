package filesystem

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"statescope/stores"
)

// tempPrefix marks statescope's own temporary files; their names never end
// in .json or .lock, so workflow ignores them. A name says what the file is
// for and which process on which host made it:
// .statescope-<kind>-<host hash>-<pid>-<random>.tmp
const (
	tempPrefix = ".statescope-"
	tempExt    = ".tmp"
)

// Temp file kinds. A killed run's write and lock temps are garbage; a
// release's is a lock it captured and is never removed unasked.
const (
	tempWrite   = "write"
	tempLock    = "lock"
	tempRelease = "release"
)

// hostTag names this host in temp names, so a directory shared between
// hosts is only cleaned by the host whose pids the names hold.
var hostTag = func() string {
	h, _ := os.Hostname()
	sum := sha256.Sum256([]byte(h))
	return hex.EncodeToString(sum[:4])
}()

func (s *Store) tempPath(kind string) string {
	return filepath.Join(s.dir, fmt.Sprintf("%s%s-%s-%d-%s%s", tempPrefix, kind, hostTag, os.Getpid(), stores.RandomHex(6), tempExt))
}

// tempName is a parsed temp file name; ok is false for any other name.
type tempName struct {
	kind, host string
	pid        int
}

func parseTempName(name string) (t tempName, ok bool) {
	if !strings.HasPrefix(name, tempPrefix) || !strings.HasSuffix(name, tempExt) {
		return t, false
	}
	parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(name, tempPrefix), tempExt), "-")
	if len(parts) != 4 {
		return t, false
	}
	pid, err := strconv.Atoi(parts[2])
	if err != nil || pid <= 0 {
		return t, false
	}
	return tempName{kind: parts[0], host: parts[1], pid: pid}, true
}

// garbage reports a write or lock temp of a run on this host that is gone.
func (t tempName) garbage() bool {
	return (t.kind == tempWrite || t.kind == tempLock) && t.host == hostTag && !stores.ProcessAlive(t.pid)
}

// writeTemp writes data to a new temp file (0600) and syncs it.
func (s *Store) writeTemp(kind string, data []byte) (string, error) {
	path := s.tempPath(kind)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fileMode)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", err
	}
	return path, nil
}

// writeAtomic replaces path with data: a temp file in the same directory,
// fsync, rename, then fsync of the directory, so a crash leaves either the
// old file or the new one, never a torn write. rename(2) replaces a link
// itself, never its target.
func (s *Store) writeAtomic(path string, data []byte) error {
	tmp, err := s.writeTemp(tempWrite, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // no-op after a successful rename
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(s.dir)
}

// sweep removes the write and lock temp files that statescope runs on
// this host left when they were killed.
func (s *Store) sweep() {
	dirents, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, d := range dirents {
		if t, ok := parseTempName(d.Name()); ok && t.garbage() {
			os.Remove(filepath.Join(s.dir, d.Name()))
		}
	}
}

// leftoverInfo shows a temp file that no running statescope is using, as
// an entry of the lock inventory; false for one a live run owns.
func leftoverInfo(path string) (stores.LockInfo, bool) {
	name := filepath.Base(path)
	info := stores.LockInfo{ResourceID: name, Source: path, Release: "none: remove it by hand once no statescope run uses it"}
	t, ok := parseTempName(name)
	switch {
	case !ok:
		info.Evidence = "statescope temp file of unknown owner"
	case t.host != hostTag:
		info.Holder = &stores.Holder{Tool: "statescope", PID: t.pid}
		info.Evidence = fmt.Sprintf("statescope temp file (%s) of pid %d on another host", t.kind, t.pid)
	case stores.ProcessAlive(t.pid):
		return info, false
	case t.kind == tempRelease:
		info.HolderGone = true
		info.Evidence = fmt.Sprintf("a lock captured by a force release that was killed (pid %d); move it back to its .lock name or delete it", t.pid)
	default:
		info.HolderGone = true
		info.Evidence = fmt.Sprintf("leftover %s temp file of statescope pid %d, which was killed", t.kind, t.pid)
		info.Release = "the next lock statescope takes in this directory removes it"
	}
	return info, true
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
