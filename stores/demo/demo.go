// Package demo makes the built-in demo state usable: it copies the demo
// directory (workflow's filesystem layout) into a fresh directory and
// stamps every time relative to now, so the demo shows the same ages every
// day and repairs in it never touch the repository.
package demo

//go:generate go run ./internal/gen ../../testdata/demo

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"statescope/stores"
)

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
