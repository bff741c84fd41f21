// Package audit appends one JSON line per attempted mutation to the audit
// log and reads it back. Entries carry hashes, never record contents.
package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"statescope/stores/repair/private"
)

// Results an entry can record.
const (
	ResultApplied = "applied"
	ResultRefused = "refused"
	ResultFailed  = "failed"
)

// Entry is one line of the log.
type Entry struct {
	Time time.Time `json:"time"`
	// Actor is user@host.
	Actor string `json:"actor"`
	// Target is the store, credentials removed.
	Target   string `json:"target"`
	Action   string `json:"action"`
	Resource string `json:"resource"`
	// Reason is why, as the user gave it (set-status --reason).
	Reason string `json:"reason,omitempty"`
	Before string `json:"before_sha256,omitempty"`
	After  string `json:"after_sha256,omitempty"`
	Backup string `json:"backup,omitempty"`
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
}

// Log is the audit log file.
type Log struct{ Path string }

// Actor names this process's user as user@host.
func Actor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return name + "@" + host
}

// open opens the log through private: its directory is statescope's state
// directory, never followed through a link, nor is the log itself.
func (l Log) open(flag int) (*os.File, error) {
	dir := filepath.Dir(filepath.Clean(l.Path))
	d, err := private.Open(filepath.Dir(dir), flag&os.O_CREATE != 0, filepath.Base(dir))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.OpenFile(filepath.Base(l.Path), flag)
}

// Check opens the log for appending (creating it) and closes it again, so
// a mutation can refuse before it writes anything when the log could not
// record it.
func (l Log) Check() error {
	f, err := l.open(os.O_WRONLY | os.O_APPEND | os.O_CREATE)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return f.Close()
}

// Append writes e as one line with a single write on an O_APPEND file, so
// concurrent statescope processes never interleave within a line.
func (l Log) Append(e Entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	f, err := l.open(os.O_WRONLY | os.O_APPEND | os.O_CREATE)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// Read returns every entry in order. A missing log is empty; a line that is
// not an entry is an error naming its line number.
func (l Log) Read() ([]Entry, error) {
	f, err := l.open(os.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return out, fmt.Errorf("audit: %s line %d: %w", l.Path, n, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("audit: %w", err)
	}
	return out, nil
}
