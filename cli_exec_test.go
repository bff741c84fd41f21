package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	binDirOnce sync.Once
	binDir     string
	binDirErr  error
)

// statescopeOnPath puts this test binary on PATH under the name
// `statescope`, which TestMain runs as the real CLI (main, signals and
// exit codes included), and returns its path.
func statescopeOnPath(t *testing.T) string {
	t.Helper()
	binDirOnce.Do(func() {
		var self string
		if self, binDirErr = os.Executable(); binDirErr != nil {
			return
		}
		if binDir, binDirErr = os.MkdirTemp("", "statescope-cli-"); binDirErr != nil {
			return
		}
		binDirErr = os.Symlink(self, filepath.Join(binDir, "statescope"))
	})
	if binDirErr != nil {
		t.Fatal(binDirErr)
	}
	t.Setenv("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return filepath.Join(binDir, "statescope")
}

// printedCommand is the statescope command a message tells the user to
// run: the first line, trimmed, that starts with "statescope ".
func printedCommand(t *testing.T, msg string) string {
	t.Helper()
	for _, line := range strings.Split(msg, "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "statescope ") {
			return line
		}
	}
	t.Fatalf("no command to run in:\n%s", msg)
	return ""
}

// runInShell pastes a printed command into sh -c, as a user would, with
// statescope on PATH and the test's environment.
func runInShell(t *testing.T, line string) (int, string) {
	t.Helper()
	statescopeOnPath(t)
	var out bytes.Buffer
	cmd := exec.Command("sh", "-c", line)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String()
}
