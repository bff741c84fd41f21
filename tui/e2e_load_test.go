package tui_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"statescope/stores/storetest"
)

// loadStore is a filesystem store of n realistic ~1 KB records
// (storetest.Realistic) under tmp.
func loadStore(tb testing.TB, tmp string, n int) string {
	tb.Helper()
	dir := filepath.Join(tmp, "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	storetest.WriteRealistic(tb, dir, n)
	return dir
}

var (
	// listedRow is a record's row in the table (Realistic's IDs).
	listedRow = regexp.MustCompile(`res-\d{6}`)
	// recordCount is the header's count of the rows in the table.
	recordCount = regexp.MustCompile(`(\d+) records`)
)

// openStore starts statescope on dir in a fresh terminal and returns the
// terminal and the file that will hold statescope's process ID.
func openStore(t *testing.T, tmp, bin, dir string) (x *tmux, pidFile string) {
	pidFile = filepath.Join(tmp, "statescope.pid")
	os.Remove(pidFile)
	x = startTerminal(t, "load", tmp, 120, 40, "", fmt.Sprintf("sh -c 'echo $$ > %s; exec %s --store %s'", pidFile, bin, dir))
	return x, pidFile
}

// bytesRead is how many bytes the process in pidFile has read so far
// (rchar in /proc/PID/io: every read, the record files' included).
func bytesRead(tb testing.TB, pidFile string) int64 {
	tb.Helper()
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		tb.Fatal(err)
	}
	io, err := os.ReadFile(filepath.Join("/proc", strings.TrimSpace(string(pid)), "io"))
	if err != nil {
		tb.Skipf("cannot see what the process read: %v", err)
	}
	m := regexp.MustCompile(`(?m)^rchar: (\d+)$`).FindSubmatch(io)
	if m == nil {
		tb.Fatalf("no rchar in %s", io)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

// until polls the screen until match accepts it, and returns that screen
// and when it was first seen.
func (x *tmux) until(what string, match func(screen string) bool) (string, time.Time) {
	x.t.Helper()
	var s string
	if !storetest.Await(x.t, func() bool { s = x.screen(); return match(s) }) {
		x.t.Fatalf("screen never showed %s; last screen:\n%s", what, s)
	}
	return s, time.Now()
}

// count is the header's record count on a screen, -1 without one.
func count(screen string) int {
	m := recordCount.FindStringSubmatch(screen)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestEndToEndFirstRows opens a store of 100,000 records in a real
// terminal: its first rows are on screen before statescope has read the
// store's bytes (the table fills as the listing streams, not after it),
// and the header then counts all of them. It logs how long both took from
// starting the terminal (the screen is polled every 20 ms).
func TestEndToEndFirstRows(t *testing.T) {
	tmp, bin := buildForTerminal(t)
	const n = 100_000
	dir := loadStore(t, tmp, n)
	var disk int64
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		disk += info.Size()
	}
	start := time.Now()
	x, pidFile := openStore(t, tmp, bin, dir)

	first, firstAt := x.until("the first rows", func(s string) bool { return listedRow.MatchString(s) })
	// Read after the screen showed the rows, so at least what had been
	// read when they were drawn.
	if read := bytesRead(t, pidFile); read >= disk {
		t.Fatalf("the first rows showed only after statescope had read %d bytes, the whole store's %d:\n%s", read, disk, first)
	}
	_, allAt := x.until(fmt.Sprintf("all %d records", n), func(s string) bool { return count(s) == n })
	t.Logf("through the terminal: first rows after %v, all %d after %v", firstAt.Sub(start), n, allAt.Sub(start))
	x.send("q")
}
