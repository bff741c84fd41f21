package check_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"statescope/stores"
	"statescope/stores/check"
	"statescope/stores/filesystem"
)

// TestFileRepairsActOnTheirFile plants, under names holding quotes,
// newlines, escapes and invalid UTF-8, a temp file a killed run left, a
// FIFO named like a record and a misnamed record; each printed rm/mv
// repair, run by a shell as printed, deals with exactly its file, after
// which the check finds none of them.
func TestFileRepairsActOnTheirFile(t *testing.T) {
	for _, name := range []string{"plain", "it's \"odd\"", "new\nline", "esc\x1b[2J", "bad\xff", "$(touch pwned)"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := filesystem.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			temp := filepath.Join(dir, ".statescope-"+name)
			if err := os.WriteFile(temp, []byte("{}"), 0o600); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-time.Hour)
			if err := os.Chtimes(temp, old, old); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(filepath.Join(dir, name+"-fifo.json"), 0o600); err != nil {
				t.Fatal(err)
			}
			r := rec("db", stores.StatusActive)
			if err := os.WriteFile(filepath.Join(dir, name+"-misnamed.json"), []byte(encode(t, r)), 0o600); err != nil {
				t.Fatal(err)
			}
			rep, err := check.Run(testCtx(t), s, check.Options{Now: time.Now(), StaleAfter: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			fixed := 0
			for _, f := range rep.Findings {
				switch f.Kind {
				case check.TempFile, check.NotRegularFile, check.NameMismatch:
				default:
					continue
				}
				cmd := exec.Command("bash", "-c", f.Repair)
				cmd.Dir = t.TempDir() // the repair names absolute paths
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s: %s: %v\n%s", f.Kind, f.Repair, err, out)
				}
				fixed++
			}
			if fixed != 3 {
				t.Fatalf("%d repairs run, want 3: %+v", fixed, rep.Findings)
			}
			rep, err = check.Run(testCtx(t), s, check.Options{Now: time.Now(), StaleAfter: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range rep.Findings {
				t.Errorf("after the repairs: %s %q: %s", f.Kind, f.Resources, f.Evidence)
			}
			if _, err := s.Get(testCtx(t), "db"); err != nil {
				t.Errorf("the misnamed record was not moved to its name: %v", err)
			}
		})
	}
}
