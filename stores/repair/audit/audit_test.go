package audit_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"statescope/stores/repair/audit"
)

func TestAppendRead(t *testing.T) {
	l := audit.Log{Path: filepath.Join(t.TempDir(), "state", "audit.log")}
	if entries, err := l.Read(); err != nil || entries != nil {
		t.Fatalf("missing log: %v, %v", entries, err)
	}
	// Concurrent writers never interleave within a line.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := audit.Entry{Time: time.Now(), Actor: audit.Actor(), Target: "mem://", Action: "edit", Resource: fmt.Sprint("r", i), Result: audit.ResultApplied, Error: strings.Repeat("x", 2000)}
			if err := l.Append(e); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	entries, err := l.Read()
	if err != nil || len(entries) != 20 {
		t.Fatalf("read %d entries, %v", len(entries), err)
	}
	if fi, err := os.Stat(l.Path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode: %v", err)
	}
	if fi, err := os.Stat(filepath.Dir(l.Path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("log dir mode: %v", err)
	}
	if !strings.Contains(entries[0].Actor, "@") {
		t.Errorf("actor %q is not user@host", entries[0].Actor)
	}
	f, _ := os.OpenFile(l.Path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("not json\n")
	f.Close()
	if _, err := l.Read(); err == nil || !strings.Contains(err.Error(), "line 21") {
		t.Errorf("malformed line: %v", err)
	}
}
