package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"statescope/stores/repair/repairtest"
)

var futureRecord = repairtest.FutureRecord("prod/db")

func plantFuture(t *testing.T) *repairEnv {
	t.Helper()
	e := newRepairEnv(t)
	if err := os.WriteFile(filepath.Join(e.dir, "prod_db.json"), []byte(futureRecord), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

func sha256sum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestShowUnknownFields: show lists fields statescope does not know under
// their own heading, masked like the rest; -o json prints the stored bytes.
func TestShowUnknownFields(t *testing.T) {
	e := plantFuture(t)
	code, out, errOut := e.run(t, "", "show", "prod/db")
	if code != 0 {
		t.Fatalf("show: exit %d %s", code, errOut)
	}
	heading := strings.Index(out, "# "+unknownHeading)
	if heading < 0 || heading < strings.Index(out, "updated_at:") || !strings.Contains(out[heading:], "future_field:\n  nested:") || !strings.Contains(out[heading:], "  rotation: weekly") {
		t.Errorf("unknown fields are not listed last under their heading:\n%s", out)
	}
	if strings.Contains(out, "future-secret-1") {
		t.Errorf("a secret in an unknown field is shown:\n%s", out)
	}
	code, out, errOut = e.run(t, "", "show", "prod/db", "-o", "json", "--reveal")
	if code != 0 || out != futureRecord || !strings.Contains(errOut, "future_field") {
		t.Errorf("show -o json: exit %d\n%s\nnote: %s", code, out, errOut)
	}
}

// TestRepairsKeepStoredBytes: set-status, edit and restore change only the
// fields they change; the backup is the stored file byte for byte, the
// printed and audited sha256 are sha256sum of it, and restore writes it back.
func TestRepairsKeepStoredBytes(t *testing.T) {
	e := plantFuture(t)
	file := filepath.Join(e.dir, "prod_db.json")
	code, out, errOut := e.run(t, "", "set-status", "prod/db", "active", "--reason", "apply finished", "--yes")
	if code != 0 {
		t.Fatalf("set-status: exit %d\n%s%s", code, out, errOut)
	}
	got, _ := os.ReadFile(file)
	rest := strings.SplitN(string(got), `"status": "active",`, 2)
	if want := strings.SplitN(futureRecord, `"status": "provisioning",`, 2); len(rest) != 2 || rest[0] != want[0] ||
		strings.Split(rest[1], `"updated_at"`)[0] != strings.Split(want[1], `"updated_at"`)[0] {
		t.Errorf("set-status changed more than status and updated_at:\n%s", got)
	}
	sum := sha256sum([]byte(futureRecord))
	if !strings.Contains(out, "set-status prod/db (sha256 "+sum+")") {
		t.Errorf("printed sha256 is not sha256sum of the stored file (%s):\n%s", sum, out)
	}
	_, backupPath, _ := strings.Cut(out, "backup of the previous version: ")
	backupPath = strings.TrimSpace(backupPath)
	if data, err := os.ReadFile(backupPath); err != nil || string(data) != futureRecord {
		t.Errorf("backup %s is not the stored bytes: %v\n%s", backupPath, err, data)
	}
	if a := e.auditEntries(t); len(a) != 1 || a[0].Before != sum || a[0].Reason != "apply finished" {
		t.Errorf("audit: %+v", a)
	}

	// The editor shows the record as stored, unknown field included; the
	// edit keeps it.
	afterSet, _ := os.ReadFile(file)
	edited := strings.Replace(string(afterSet), `"provider": "aws"`, `"provider": "gcp"`, 1)
	cmd, shown := editorScriptFor(t, edited)
	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", cmd)
	if code, out, errOut := e.run(t, "", "edit", "prod/db", "--yes"); code != 0 {
		t.Fatalf("edit: exit %d\n%s%s", code, out, errOut)
	}
	if s, _ := os.ReadFile(shown); !strings.Contains(string(s), string(afterSet)) {
		t.Errorf("the editor was not shown the stored record:\n%s", s)
	}
	got, _ = os.ReadFile(file)
	if strings.Replace(string(got), `"provider": "gcp"`, `"provider": "aws"`, 1)[:strings.Index(string(got), `"updated_at"`)] != string(afterSet)[:strings.Index(string(afterSet), `"updated_at"`)] {
		t.Errorf("edit changed more than provider and updated_at:\n%s", got)
	}

	if code, out, errOut := e.run(t, "", "restore", "prod/db", "--backup", filepath.Base(backupPath), "--yes"); code != 0 {
		t.Fatalf("restore: exit %d\n%s%s", code, out, errOut)
	}
	if got, _ := os.ReadFile(file); string(got) != futureRecord {
		t.Errorf("restore wrote\n%s\nwant the backup's bytes", got)
	}
}

// editorScriptFor is an $EDITOR that records what it was shown and saves
// text.
func editorScriptFor(t *testing.T, text string) (cmd, shown string) {
	t.Helper()
	dir := t.TempDir()
	src, shown := filepath.Join(dir, "save"), filepath.Join(dir, "shown")
	if err := os.WriteFile(src, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd = filepath.Join(dir, "ed.sh")
	script := "#!/bin/sh\ncat \"$1\" > '" + shown + "'\ncp '" + src + "' \"$1\"\n"
	if err := os.WriteFile(cmd, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return cmd, shown
}

// TestRefusalsBeforeAsking: without a terminal and without --yes, every
// mutating command first reports whatever else refuses the request (bad
// input, a missing record, dependents, a wrong pin); only a request that
// would otherwise go ahead is refused for lack of someone to ask, and
// edit refuses before it starts the editor.
func TestRefusalsBeforeAsking(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"set-status: a status that is not one", []string{"set-status", "prod/db", "bogus"}, 2, "not a workflow status"},
		{"set-status: error without a reason", []string{"set-status", "prod/db", "error"}, 2, "needs a reason"},
		{"set-status: no such record", []string{"set-status", "nope", "active"}, 1, "not found"},
		{"set-status: a stale pin", []string{"set-status", "prod/db", "active", "--expect-sha256", "0123"}, 3, "not the expected 0123"},
		{"rm: depended on", []string{"rm", "prod/db"}, 3, "prod/app"},
		{"rm: no such record", []string{"rm", "nope"}, 1, "not found"},
		{"edit: no such record", []string{"edit", "nope"}, 1, "not found"},
		{"edit: a stale pin", []string{"edit", "prod/db", "--expect-sha256", "0123"}, 3, "not the expected 0123"},
		{"restore: no backups", []string{"restore", "prod/app"}, 1, "no backups"},
		{"import: not a snapshot", []string{"import", "prod_app.json"}, 1, "not a statescope snapshot"},
		{"unlock: not locked", []string{"unlock", "prod/db"}, 3, "not locked"},
		// Nothing else refuses these: only then the missing terminal does.
		{"set-status: valid", []string{"set-status", "prod/db", "destroyed"}, 3, "--yes"},
		{"rm: valid", []string{"rm", "prod/app"}, 3, "--yes"},
		{"edit: valid", []string{"edit", "prod/db"}, 3, "--yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRepairEnv(t)
			marker := filepath.Join(t.TempDir(), "editor-ran")
			cmd := filepath.Join(t.TempDir(), "ed.sh")
			os.WriteFile(cmd, []byte("#!/bin/sh\ntouch '"+marker+"'\n"), 0o700)
			t.Setenv("VISUAL", "")
			t.Setenv("EDITOR", cmd)
			args := tt.args
			if args[0] == "import" {
				args = []string{"import", filepath.Join(e.dir, args[1])}
			}
			before := e.files(t)
			code, out, errOut := e.run(t, "", args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", code, tt.code, tt.want, out, errOut)
			}
			if tt.want != "--yes" && strings.Contains(errOut, "--yes") {
				t.Errorf("asked for --yes before saying why the request is refused:\n%s", errOut)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the editor was started")
			}
			e.nothingWritten(t, before)
		})
	}
}

// TestStatePathsNeverFollowLinks: a link planted anywhere statescope keeps
// backups or the audit log is refused with a clear message; nothing is
// written, through the link or to the store, and its target keeps its mode.
func TestStatePathsNeverFollowLinks(t *testing.T) {
	tests := []struct {
		name string
		link func(e *repairEnv) string // where the link goes, under the state dir
		file bool                      // the link points at a file
	}{
		{"state dir", func(*repairEnv) string { return "statescope" }, false},
		{"backups dir", func(*repairEnv) string { return "statescope/backups" }, false},
		{"a store's backups", func(e *repairEnv) string { return "statescope/backups/" + backupSlug(t, e) }, false},
		{"audit log", func(*repairEnv) string { return "statescope/audit.log" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRepairEnv(t)
			outside := filepath.Join(t.TempDir(), "outside")
			if tt.file {
				os.WriteFile(outside, []byte("not yours\n"), 0o644)
			} else {
				os.Mkdir(outside, 0o755)
			}
			at := filepath.Join(e.state, tt.link(e))
			os.MkdirAll(filepath.Dir(at), 0o700)
			if err := os.Symlink(outside, at); err != nil {
				t.Fatal(err)
			}
			before := e.files(t)
			code, out, errOut := e.run(t, "", "set-status", "prod/db", "destroyed", "--yes")
			if code != 3 || !strings.Contains(errOut, "symbolic link to "+outside) || !strings.Contains(errOut, "nothing was written") {
				t.Fatalf("exit %d, want 3 naming the link:\n%s%s", code, out, errOut)
			}
			if after := e.files(t); after["prod_db.json"] != before["prod_db.json"] {
				t.Error("the record was written")
			}
			fi, _ := os.Stat(outside)
			if fi.Mode().Perm() != 0o644 && tt.file || fi.Mode().Perm() != 0o755 && !tt.file {
				t.Errorf("the link's target was chmod'ed to %v", fi.Mode().Perm())
			}
			if tt.file {
				if data, _ := os.ReadFile(outside); string(data) != "not yours\n" {
					t.Errorf("written through the link: %q", data)
				}
			} else if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Errorf("written through the link: %v", entries)
			}
		})
	}
}

// backupSlug is the directory name the env's store gets under backups/.
func backupSlug(t *testing.T, e *repairEnv) string {
	t.Helper()
	if code, _, errOut := e.run(t, "", "set-status", "prod/app", "active", "--yes"); code != 0 {
		t.Fatal(errOut)
	}
	entries, err := os.ReadDir(filepath.Join(e.state, "statescope", "backups"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("backups: %v %v", entries, err)
	}
	name := entries[0].Name()
	os.RemoveAll(filepath.Join(e.state, "statescope", "backups", name))
	return name
}

// TestEditDrafts: edit buffers live in a private directory under the state
// dir, never the system temp dir, and are gone when the edit ends; a draft
// is kept only when the user changed something that was not applied, with
// where it is and how to discard it.
func TestEditDrafts(t *testing.T) {
	tests := []struct {
		name   string
		editor func(e *repairEnv) string
		args   []string
		code   int
		kept   bool
	}{
		{"applied", changeProvider, []string{"--yes"}, 0, false},
		{"dry run", changeProvider, []string{"--dry-run"}, 0, true},
		{"unchanged", func(*repairEnv) string { return "true" }, []string{"--yes"}, 0, false},
		{"editor fails, nothing changed", func(*repairEnv) string { return "false" }, []string{"--yes"}, 1, false},
		{"editor fails after a change", func(*repairEnv) string {
			return `sh -c 'sed -i "s/\"provider\": \"aws\"/\"provider\": \"gcp\"/" "$1"; exit 1' sh`
		}, []string{"--yes"}, 1, true},
		{"not confirmed", changeProvider, nil, 3, true}, // on a terminal, answered no
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRepairEnv(t)
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			t.Setenv("VISUAL", "")
			t.Setenv("EDITOR", tt.editor(e))
			var code int
			var out, errOut string
			if tt.args == nil {
				code, out, errOut = e.runOnTerminal(t, "n\n", "edit", "prod/db")
			} else {
				code, out, errOut = e.run(t, "", append([]string{"edit", "prod/db"}, tt.args...)...)
			}
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			drafts := filepath.Join(e.state, "statescope", "drafts")
			left, _ := os.ReadDir(drafts)
			if tt.kept {
				if len(left) != 1 {
					t.Fatalf("%d drafts kept, want 1:\n%s", len(left), errOut)
				}
				path := filepath.Join(drafts, left[0].Name())
				if !strings.Contains(errOut, "kept in "+path) || !strings.Contains(errOut, "discard it with: rm '"+path+"'") {
					t.Errorf("the draft's path or how to discard it is not said:\n%s", errOut)
				}
				if data, _ := os.ReadFile(path); !strings.Contains(string(data), `"provider": "gcp"`) {
					t.Errorf("the draft lacks the change: %s", data)
				}
				if fi, err := os.Stat(drafts); err != nil || fi.Mode().Perm() != 0o700 {
					t.Errorf("drafts directory %v, %v; want 0700", fi, err)
				}
			} else if len(left) != 0 {
				t.Errorf("drafts left behind: %v\n%s", left, errOut)
			}
			if inTmp, _ := os.ReadDir(tmp); len(inTmp) != 0 {
				t.Errorf("the edit left files in the system temp dir: %v", inTmp)
			}
		})
	}
}

func changeProvider(*repairEnv) string {
	return `sed -i "s/\"provider\": \"aws\"/\"provider\": \"gcp\"/"`
}

// runOnTerminal runs statescope as if stdin and stdout were a terminal.
func (e *repairEnv) runOnTerminal(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut strings.Builder
	a := &app{in: strings.NewReader(stdin), out: &out, errOut: &errOut, now: time.Now, isTerminal: func() bool { return true }}
	root := a.rootCommand()
	root.SetArgs(append([]string{"--store", e.dir}, args...))
	err := root.Execute()
	code := 0
	var re refusedError
	switch {
	case errors.As(err, &re):
		code = 3
	case err != nil:
		code = 1
	}
	return code, out.String(), errOut.String()
}

// TestImportKeepsStoredLayout: an import that replaces a record writes the
// snapshot's values in the stored record's layout.
func TestImportKeepsStoredLayout(t *testing.T) {
	src, dst := plantFuture(t), plantFuture(t)
	if code, _, errOut := src.run(t, "", "set-status", "prod/db", "active", "--yes"); code != 0 {
		t.Fatal(errOut)
	}
	snap := filepath.Join(t.TempDir(), "snap.json")
	if code, _, errOut := src.run(t, "", "export", "-o", snap); code != 0 {
		t.Fatal(errOut)
	}
	if code, out, errOut := dst.run(t, "", "import", snap, "--yes"); code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	want, _ := os.ReadFile(filepath.Join(src.dir, "prod_db.json"))
	if got, _ := os.ReadFile(filepath.Join(dst.dir, "prod_db.json")); string(got) != string(want) {
		t.Errorf("imported record written as\n%s\nwant\n%s", got, want)
	}
}
