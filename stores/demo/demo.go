// Package demo makes the built-in demo state usable: it copies the demo
// directory (workflow's filesystem layout) into a fresh directory and
// stamps every time relative to now, so the demo shows the same ages every
// day and repairs in it never touch the repository.
package demo

//go:generate go run ./internal/gen ../../testdata/demo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"statescope/stores"
)

// Marker is the directory statescope keeps inside a demo directory. It
// marks the directory as a demo, so `demo --dir` may open it again, and it
// is the demo's own state directory: its backups, audit log and log, never
// mixed with the user's. (Not ".statescope-…": the filesystem store shows
// such names as its own leftover temporary files.)
const Marker = ".statescope.demo"

// Check says whether dst may hold the demo; it writes nothing. A missing
// or empty directory gets a fresh demo (fresh is true); a demo directory
// statescope made before is opened again as it is. Anything else is
// refused: the demo never overwrites a user's files.
func Check(dst string) (fresh bool, err error) {
	entries, err := os.ReadDir(dst)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if len(entries) == 0 {
		return true, nil
	}
	if fi, err := os.Lstat(filepath.Join(dst, Marker)); err == nil && fi.IsDir() {
		return false, nil
	}
	return false, fmt.Errorf("%s is not empty and is not a demo directory statescope made (no %s in it): refusing to put the demo there; name a new or empty directory", dst, Marker)
}

// MarkDone creates the marker once the demo files are in place, so a copy
// that failed half way is never taken for a demo.
func MarkDone(dst string) error {
	return os.Mkdir(filepath.Join(dst, Marker), 0o700)
}

// Reference is the "now" the demo files were written against.
var Reference = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Materialize copies the demo files from src into dst, shifting record
// timestamps and lock times by now-Reference. Statescope lock holders get
// this host's name and a pid that is not running, so they read as orphaned.
// Files that are not valid records (the corrupt one) are copied unchanged.
func Materialize(src fs.FS, dst string, now time.Time) error {
	shift := now.UTC().Truncate(time.Second).Sub(Reference)
	host, _ := os.Hostname()
	deadPID := unusedPID()
	return fs.WalkDir(src, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(src, path)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(path, ".lock"):
			data = stampLock(data, shift, host, deadPID)
		case strings.HasSuffix(path, ".json"):
			data = stampRecord(data, shift)
		}
		out := filepath.Join(dst, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o600)
	})
}

func shiftTime(ts string, shift time.Duration) string {
	t, ok := stores.ParseTime(ts)
	if !ok {
		return ts
	}
	return stores.FormatTime(t.Add(shift))
}

// stampRecord shifts the two timestamps in place, byte for byte, so a
// record keeps its writer's format (engine or wfctl key order).
func stampRecord(data []byte, shift time.Duration) []byte {
	s, err := stores.DecodeState(data)
	if err != nil {
		return data
	}
	out := string(data)
	for _, f := range []struct{ key, val string }{{"created_at", s.CreatedAt}, {"updated_at", s.UpdatedAt}} {
		if f.val == "" {
			continue
		}
		old := fmt.Sprintf("%q: %q", f.key, f.val)
		out = strings.Replace(out, old, fmt.Sprintf("%q: %q", f.key, shiftTime(f.val, shift)), 1)
	}
	return []byte(out)
}

func stampLock(data []byte, shift time.Duration, host string, pid int) []byte {
	at, h, _ := stores.DecodeLockBody(data)
	if at.IsZero() {
		return data
	}
	at = at.Add(shift)
	if h == nil {
		return []byte(stores.FormatTime(at))
	}
	h.Since = at
	if h.PID != 0 {
		h.Host, h.PID = host, pid
	}
	return stores.EncodeLockBody(h)
}

// unusedPID finds a pid with no process, so demo holders read as gone.
func unusedPID() int {
	for pid := 4_000_000; pid > 1000; pid -= 7919 {
		if !stores.ProcessAlive(pid) {
			return pid
		}
	}
	return 999_999
}
