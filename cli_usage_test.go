package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsageMistakes: every way of calling statescope wrongly exits 2 with
// a message that says what would have been right.
func TestUsageMistakes(t *testing.T) {
	dir := demoDir(t)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"mistyped command", []string{"lsit"}, []string{`unknown command "lsit"; did you mean `, `"list"`}},
		{"mistyped command with flags", []string{"--store", dir, "lokcs"}, []string{"did you mean ", `"locks"`}},
		{"unknown command", []string{"frobnicate"}, []string{`unknown command "frobnicate"`, "statescope --help"}},
		{"unknown status", []string{"--store", dir, "list", "--status", "actve"}, []string{`"actve" is not a workflow status (use one of planned, provisioning`}},
		{"status of another case", []string{"--store", dir, "list", "--status", "Active"}, []string{"not a workflow status"}},
		{"negative stale-after", []string{"--store", dir, "--stale-after", "-5m", "list"}, []string{"cannot be negative"}},
		{"negative stale-after on locks", []string{"--store", dir, "locks", "--stale-after=-1s"}, []string{"cannot be negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(t, "", tt.args...)
			if code != 2 || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2", code, out, errOut)
			}
			for _, want := range tt.want {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr %q lacks %q", errOut, want)
				}
			}
		})
	}
	// Every workflow status is accepted.
	if code, _, errOut := cli(t, "", "--store", dir, "list", "--status", "destroyed"); code != 0 {
		t.Errorf("list --status destroyed: exit %d, %s", code, errOut)
	}
}

func TestVersionFlag(t *testing.T) {
	code, flag, _ := cli(t, "", "--version")
	_, cmd, _ := cli(t, "", "version")
	first, _, _ := strings.Cut(cmd, "\n")
	if code != 0 || flag != first+"\n" || !strings.HasPrefix(flag, "statescope ") {
		t.Errorf("--version: exit %d, %q; version says %q", code, flag, cmd)
	}
}

// TestImportSummaryAddsUp: the counts account for every record of the
// snapshot, and a count of one reads "1 record".
func TestImportSummaryAddsUp(t *testing.T) {
	src := demoDir(t)
	snapshot := filepath.Join(t.TempDir(), "snap.json")
	if code, _, errOut := cli(t, "", "--store", src, "export", "-o", snapshot); code != 0 || !strings.Contains(errOut, "exported 58 records") {
		t.Fatalf("export: exit %d, %s", code, errOut)
	}
	code, out, errOut := cli(t, "", "--store", t.TempDir(), "import", snapshot, "--yes")
	// The corrupt record cannot be imported: a refusal, exit 3.
	if code != 3 || !strings.Contains(out, "57 imported, 1 skipped of 58\n") || !strings.Contains(errOut, "1 record refused") {
		t.Errorf("import: exit %d\n%s\n%s", code, out, errOut)
	}

	one := t.TempDir()
	data, err := os.ReadFile(filepath.Join(src, "prod_db_users.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(one, "prod_db_users.json"), data, 0o600)
	snapshot = filepath.Join(t.TempDir(), "one.json")
	if code, _, errOut := cli(t, "", "--store", one, "export", "-o", snapshot); code != 0 || !strings.Contains(errOut, "exported 1 record from") {
		t.Fatalf("export of one: exit %d, %s", code, errOut)
	}
	code, out, errOut = cli(t, "", "--store", t.TempDir(), "import", snapshot, "--yes")
	if code != 0 || !strings.Contains(out, ": 1 record\n") || !strings.Contains(out, "1 imported, 0 skipped of 1\n") {
		t.Errorf("import of one: exit %d\n%s\n%s", code, out, errOut)
	}
	// Nothing to import still accounts for the snapshot.
	corrupt := t.TempDir()
	data, _ = os.ReadFile(filepath.Join(src, "prod_cache_sessions.json"))
	os.WriteFile(filepath.Join(corrupt, "prod_cache_sessions.json"), data, 0o600)
	snapshot = filepath.Join(t.TempDir(), "corrupt.json")
	if code, _, errOut := cli(t, "", "--store", corrupt, "export", "-o", snapshot); code != 0 {
		t.Fatalf("export of a corrupt record: exit %d, %s", code, errOut)
	}
	code, out, _ = cli(t, "", "--store", t.TempDir(), "import", snapshot, "--yes")
	if code != 3 || !strings.Contains(out, "0 imported, 1 skipped of 1\n") {
		t.Errorf("import of nothing importable: exit %d\n%s", code, out)
	}
}
