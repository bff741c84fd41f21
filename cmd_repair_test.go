package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/repair/audit"
	"statescope/stores/repair/repairtest"
)

// repairEnv is a state directory, a private XDG state home for backups
// and the audit log, and every secret planted in the records.
type repairEnv struct {
	dir, state string
	store      *filesystem.Store
}

var cliSecrets = []string{"cli-output-password", "cli-url-secret", "cli-config-token", "cli-edited-password"}

func newRepairEnv(t *testing.T) *repairEnv {
	t.Helper()
	e := &repairEnv{dir: t.TempDir(), state: t.TempDir()}
	t.Setenv("XDG_STATE_HOME", e.state)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	s, err := filesystem.Open(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	e.store = s
	db := repairtest.Record("prod/db")
	db.Outputs["password"] = cliSecrets[0]
	db.Outputs["url"] = "postgres://app:" + cliSecrets[1] + "@db:5432/app"
	db.Config["token"] = cliSecrets[2]
	app := repairtest.Record("prod/app")
	app.Dependencies = []string{"prod/db"}
	for _, r := range []*stores.State{db, app} {
		if err := s.Save(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// run runs statescope on the env's store; every stream it prints is kept
// for the secrets check.
func (e *repairEnv) run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"--store", e.dir}, args...), strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func (e *repairEnv) get(t *testing.T, id string) *stores.State {
	t.Helper()
	s, err := e.store.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return s
}

func (e *repairEnv) files(t *testing.T) map[string]string { return snapshot(t, e.dir) }

// nothingWritten checks the store, the backups and the audit log are as
// they were.
func (e *repairEnv) nothingWritten(t *testing.T, before map[string]string) {
	t.Helper()
	after := e.files(t)
	if len(after) != len(before) {
		t.Errorf("files changed: %d → %d", len(before), len(after))
	}
	for name, body := range before {
		if after[name] != body {
			t.Errorf("%s changed", name)
		}
	}
	if _, err := os.Stat(filepath.Join(e.state, "statescope")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a backup or audit line was written (%v)", err)
	}
}

func (e *repairEnv) auditEntries(t *testing.T) []audit.Entry {
	t.Helper()
	entries, err := audit.Log{Path: filepath.Join(e.state, "statescope", "audit.log")}.Read()
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func TestSetStatusCLI(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		want    string // in stdout+stderr
		changes bool
	}{
		{"no terminal", []string{"set-status", "prod/db", "error", "--reason", "x"}, 3, "--yes", false},
		{"dry run", []string{"set-status", "prod/db", "error", "--reason", "x", "--dry-run"}, 0, `+  "status": "error"`, false},
		{"read-only", []string{"--readonly", "set-status", "prod/db", "active", "--yes"}, 3, "read-only", false},
		{"read-only dry run", []string{"--readonly", "set-status", "prod/db", "active", "--dry-run"}, 3, "read-only", false},
		{"unknown status", []string{"set-status", "prod/db", "running", "--yes"}, 2, "not a workflow status", false},
		{"error needs a reason", []string{"set-status", "prod/db", "error", "--yes"}, 2, "needs a reason", false},
		{"missing record", []string{"set-status", "nope", "active", "--yes"}, 1, "not found", false},
		{"wrong pin", []string{"set-status", "prod/db", "active", "--yes", "--expect-sha256", "0123"}, 3, "not the expected 0123", false},
		{"bad args", []string{"set-status", "prod/db"}, 2, "accepts 2 arg", false},
		{"applied", []string{"set-status", "prod/db", "error", "--reason", "disk full", "--yes"}, 0, "backup of the previous version", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRepairEnv(t)
			before := e.files(t)
			code, out, errOut := e.run(t, "", tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("exit %d, want %d with %q:\n%s%s", code, tt.code, tt.want, out, errOut)
			}
			if !tt.changes {
				e.nothingWritten(t, before)
				return
			}
			if got := e.get(t, "prod/db"); got.Status != stores.StatusError || got.Error != "disk full" {
				t.Errorf("record after set-status: %s %q", got.Status, got.Error)
			}
			entries := e.auditEntries(t)
			if len(entries) != 1 || entries[0].Result != audit.ResultApplied || entries[0].Target != "file://"+e.dir {
				t.Errorf("audit: %+v", entries)
			}
		})
	}
}

func TestPinFromDryRun(t *testing.T) {
	e := newRepairEnv(t)
	_, out, _ := e.run(t, "", "set-status", "prod/db", "destroyed", "--dry-run")
	_, rest, _ := strings.Cut(out, "(sha256 ")
	hash, _, _ := strings.Cut(rest, ")")
	if code, out, errOut := e.run(t, "", "set-status", "prod/db", "destroyed", "--yes", "--expect-sha256", hash); code != 0 {
		t.Fatalf("pinned to the dry run's hash %q: exit %d\n%s%s", hash, code, out, errOut)
	}
	if code, _, _ := e.run(t, "", "set-status", "prod/db", "active", "--yes", "--expect-sha256", hash); code != 3 {
		t.Errorf("stale pin: exit %d, want 3", code)
	}
}

func TestConfirmOnTerminal(t *testing.T) {
	e := newRepairEnv(t)
	for _, tt := range []struct {
		answer string
		code   int
		status string
	}{{"\n", 3, stores.StatusActive}, {"n\n", 3, stores.StatusActive}, {"yes\n", 0, stores.StatusDestroyed}} {
		var out, errOut bytes.Buffer
		a := &app{in: strings.NewReader(tt.answer), out: &out, errOut: &errOut, now: time.Now, isTerminal: func() bool { return true }}
		root := a.rootCommand()
		root.SetArgs([]string{"--store", e.dir, "set-status", "prod/db", "destroyed"})
		err := root.Execute()
		var re refusedError
		if (tt.code == 3) != errors.As(err, &re) || (tt.code == 0) != (err == nil) {
			t.Errorf("answer %q: %v, want exit %d", tt.answer, err, tt.code)
		}
		if !strings.Contains(out.String(), "[y/N]") || !strings.Contains(out.String(), `"status": "destroyed"`) {
			t.Errorf("the question does not show the diff:\n%s", out.String())
		}
		if got := e.get(t, "prod/db").Status; got != tt.status {
			t.Errorf("answer %q: status %s, want %s", tt.answer, got, tt.status)
		}
	}
}

func TestRmCLI(t *testing.T) {
	e := newRepairEnv(t)
	before := e.files(t)
	code, _, errOut := e.run(t, "", "rm", "prod/db", "--yes")
	if code != 3 || !strings.Contains(errOut, "prod/app") {
		t.Fatalf("rm of a dependency: exit %d, %s", code, errOut)
	}
	e.nothingWritten(t, before)
	if code, out, _ := e.run(t, "", "rm", "prod/db", "--force", "--dry-run"); code != 0 || !strings.Contains(out, "forced") || !strings.Contains(out, "+++ deleted") {
		t.Fatalf("forced dry run: exit %d\n%s", code, out)
	}
	e.nothingWritten(t, before)
	if code, out, errOut := e.run(t, "", "rm", "prod/db", "--force", "--yes"); code != 0 {
		t.Fatalf("forced rm: exit %d %s%s", code, out, errOut)
	}
	if _, err := e.store.Get(context.Background(), "prod/db"); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("record still there: %v", err)
	}
	// The backup the delete took brings it back.
	code, out, _ := e.run(t, "", "restore", "prod/db", "--list")
	if code != 0 || !strings.Contains(out, "delete") {
		t.Fatalf("restore --list: exit %d\n%s", code, out)
	}
	if code, out, errOut := e.run(t, "", "restore", "prod/db", "--yes"); code != 0 || !strings.Contains(out, "absent now") {
		t.Fatalf("restore: exit %d\n%s%s", code, out, errOut)
	}
	if got := e.get(t, "prod/db"); got.Outputs["password"] != cliSecrets[0] {
		t.Errorf("restored record lost its outputs: %v", got.Outputs)
	}
}

func TestRestoreCLI(t *testing.T) {
	e := newRepairEnv(t)
	orig := e.get(t, "prod/app")
	if code, _, errOut := e.run(t, "", "restore", "prod/app", "--yes"); code != 1 || !strings.Contains(errOut, "no backups") {
		t.Errorf("restore without backups: exit %d %s", code, errOut)
	}
	for _, status := range []string{"planned", "destroyed"} {
		if code, _, errOut := e.run(t, "", "set-status", "prod/app", status, "--yes"); code != 0 {
			t.Fatalf("set-status: %s", errOut)
		}
	}
	_, out, _ := e.run(t, "", "restore", "prod/app", "--list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("restore --list: want a header, 2 backups and the directory:\n%s", out)
	}
	oldest := strings.Fields(lines[2])[len(strings.Fields(lines[2]))-1]
	code, out, errOut := e.run(t, "", "restore", "prod/app", "--backup", oldest, "--dry-run")
	if code != 0 || !strings.Contains(out, `-  "status": "destroyed"`) || !strings.Contains(out, `+  "status": "active"`) {
		t.Fatalf("restore dry run: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := e.run(t, "", "restore", "prod/app", "--backup", oldest, "--yes"); code != 0 {
		t.Fatalf("restore: %s", errOut)
	}
	if got := e.get(t, "prod/app"); got.Status != orig.Status || got.UpdatedAt != orig.UpdatedAt {
		t.Errorf("restored %s %s, want %s %s", got.Status, got.UpdatedAt, orig.Status, orig.UpdatedAt)
	}
	if code, out, _ := e.run(t, "", "restore", "prod/app", "--backup", oldest, "--yes"); code != 0 || !strings.Contains(out, "already matches") {
		t.Errorf("restoring again: exit %d %s", code, out)
	}
	if code, _, _ := e.run(t, "", "restore", "prod/app", "--backup", "nope.json", "--yes"); code != 1 {
		t.Errorf("unknown backup: exit %d, want 1", code)
	}
}

func TestExportImportCLI(t *testing.T) {
	src := newRepairEnv(t)
	snap := filepath.Join(t.TempDir(), "snap.json")
	if code, _, errOut := src.run(t, "", "export", "-o", snap); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	if fi, err := os.Stat(snap); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot file mode: %v", err)
	}
	if code, _, _ := src.run(t, "", "export", "-o", snap); code != 1 {
		t.Errorf("export over an existing snapshot: exit %d, want 1", code)
	}
	code, out, _ := src.run(t, "", "export")
	var doc map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc["source"] != "file://"+src.dir || doc["tool"] != "statescope "+version {
		t.Fatalf("export to stdout: exit %d, %v", code, doc)
	}

	dst := t.TempDir()
	dstRun := func(args ...string) (int, string, string) {
		var o, eo bytes.Buffer
		c := run(context.Background(), append([]string{"--store", dst}, args...), strings.NewReader(""), &o, &eo)
		return c, o.String(), eo.String()
	}
	if code, out, _ := dstRun("import", snap, "--dry-run"); code != 0 || !strings.Contains(out, "dry run") {
		t.Fatalf("import dry run: exit %d\n%s", code, out)
	}
	if entries, _ := os.ReadDir(dst); len(entries) != 0 {
		t.Fatal("a dry-run import wrote files")
	}
	if code, out, errOut := dstRun("import", snap); code != 3 || !strings.Contains(errOut, "--yes") {
		t.Fatalf("import without a terminal: exit %d %s%s", code, out, errOut)
	}
	if code, out, errOut := dstRun("import", snap, "--yes"); code != 0 || !strings.Contains(out, "2 imported, 0 skipped of 2") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	dstStore, _ := filesystem.Open(dst)
	for _, id := range []string{"prod/db", "prod/app"} {
		got, err := dstStore.Get(context.Background(), id)
		if err != nil || got.UpdatedAt != src.get(t, id).UpdatedAt {
			t.Errorf("imported %s: %v", id, err)
		}
	}
	if code, out, _ := dstRun("import", snap, "--yes"); code != 0 || !strings.Contains(out, "skipped prod/db: identical") {
		t.Errorf("import again: exit %d\n%s", code, out)
	}
	// The destination moves on; the old snapshot must not overwrite it.
	if code, _, errOut := dstRun("set-status", "prod/db", "destroyed", "--yes"); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := dstRun("import", snap, "--yes")
	if code != 3 || !strings.Contains(out, "skipped prod/db: newer in the store") || !strings.Contains(errOut, "skipped for safety") {
		t.Fatalf("import over a newer record: exit %d\n%s%s", code, out, errOut)
	}
	if got, _ := dstStore.Get(context.Background(), "prod/db"); got.Status != stores.StatusDestroyed {
		t.Error("the newer record was overwritten")
	}
	if code, out, errOut := dstRun("import", snap, "--yes", "--force"); code != 0 || !strings.Contains(out, "forced") {
		t.Fatalf("forced import: exit %d\n%s%s", code, out, errOut)
	}
	if got, _ := dstStore.Get(context.Background(), "prod/db"); got.Status != stores.StatusActive {
		t.Error("the forced import did not overwrite")
	}
	if code, _, errOut := dstRun("import", filepath.Join(src.dir, "prod_app.json"), "--yes"); code != 1 || !strings.Contains(errOut, "not a statescope snapshot") {
		t.Errorf("import of a non-snapshot: exit %d %s", code, errOut)
	}
}

func TestEditCLI(t *testing.T) {
	e := newRepairEnv(t)
	orig := e.get(t, "prod/db")
	valid := orig.Clone()
	valid.Status = stores.StatusDestroyed
	valid.Outputs["password"] = cliSecrets[3]
	validJSON, _ := stores.EncodeState(valid)
	invalid := strings.Replace(string(validJSON), `"status": "destroyed"`, `"status": "gone"`, 1)
	cmd, shown := repairtest.EditorScript(t, invalid, "# the user's note\n"+string(validJSON))
	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", cmd)
	code, out, errOut := e.run(t, "", "edit", "prod/db", "--yes")
	if code != 0 {
		t.Fatalf("edit: exit %d\n%s%s", code, out, errOut)
	}
	got := e.get(t, "prod/db")
	if got.Status != stores.StatusDestroyed || got.Outputs["password"] != cliSecrets[3] || got.UpdatedAt == orig.UpdatedAt {
		t.Errorf("edited record: %s %v %s", got.Status, got.Outputs["password"], got.UpdatedAt)
	}
	rounds, _ := os.ReadFile(shown)
	if !strings.Contains(string(rounds), `# ERROR: status "gone" is not one of`) || !strings.Contains(string(rounds), `"status": "gone"`) {
		t.Errorf("the second round does not show the error above the user's text:\n%s", rounds)
	}
	for _, s := range cliSecrets {
		if strings.Contains(out+errOut, s) {
			t.Errorf("edit printed secret %q", s)
		}
	}
	if !strings.Contains(out, "(changed)") {
		t.Errorf("the diff hides the changed secret:\n%s", out)
	}

	// An unchanged save cancels and writes nothing.
	before := e.files(t)
	cmd, _ = repairtest.EditorScript(t)
	t.Setenv("EDITOR", cmd)
	if code, out, _ := e.run(t, "", "edit", "prod/db", "--yes"); code != 0 || !strings.Contains(out, "cancelled") {
		t.Errorf("unchanged edit: exit %d %s", code, out)
	}
	if after := e.files(t); after["prod_db.json"] != before["prod_db.json"] {
		t.Error("a cancelled edit wrote the record")
	}
}

func TestReadOnlyRefusesEveryMutation(t *testing.T) {
	e := newRepairEnv(t)
	if err := stores.LockFor(context.Background(), e.store, "prod/app", "apply"); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(t.TempDir(), "snap.json")
	if code, _, _ := e.run(t, "", "export", "-o", snap); code != 0 {
		t.Fatal("export failed")
	}
	cmd, ran := repairtest.EditorScript(t, "{}")
	t.Setenv("EDITOR", cmd)
	before := e.files(t)
	for _, args := range [][]string{
		{"set-status", "prod/db", "active", "--yes"},
		{"edit", "prod/db", "--yes"},
		{"rm", "prod/db", "--yes", "--force"},
		{"restore", "prod/db", "--yes"},
		{"import", snap, "--yes", "--force"},
		{"unlock", "prod/app", "--yes"},
		{"unlock", "prod/app", "--token", "x"},
	} {
		code, out, errOut := e.run(t, "", append([]string{"--readonly"}, args...)...)
		if code != 3 || !strings.Contains(errOut, "read-only") {
			t.Errorf("%v: exit %d, want 3 with one read-only message:\n%s%s", args, code, out, errOut)
		}
	}
	e.nothingWritten(t, before)
	if _, err := os.Stat(ran); err == nil {
		t.Error("the editor was opened on a read-only store")
	}
}

func TestUnlockThroughSafetyPath(t *testing.T) {
	e := newRepairEnv(t)
	if err := stores.LockFor(context.Background(), e.store, "prod/db", "apply"); err != nil {
		t.Fatal(err)
	}
	locks, _ := e.store.Locks(context.Background())
	token := locks[0].Token
	if code, out, _ := e.run(t, "", "unlock", "prod/db", "--token", token, "--dry-run"); code != 0 || !strings.Contains(out, "dry run") {
		t.Fatalf("dry-run unlock: exit %d %s", code, out)
	}
	if l, _ := e.store.Locks(context.Background()); len(l) != 1 {
		t.Fatal("a dry run released the lock")
	}
	// Nothing else can write while the lock is held.
	code, _, errOut := e.run(t, "", "set-status", "prod/db", "active", "--yes")
	if code != 3 || !strings.Contains(errOut, "locked by") || !strings.Contains(errOut, "(apply)") {
		t.Fatalf("set-status under a lock: exit %d %s", code, errOut)
	}
	code, out, errOut := e.run(t, "", "unlock", "prod/db", "--token", token)
	if code != 0 || !strings.Contains(out, "backup of the lock") {
		t.Fatalf("unlock: exit %d %s%s", code, out, errOut)
	}
	entries := e.auditEntries(t)
	last := entries[len(entries)-1]
	if last.Action != "force-unlock" || last.Result != audit.ResultApplied || last.Backup == "" {
		t.Errorf("audit of the release: %+v", last)
	}
	if data, err := os.ReadFile(last.Backup); err != nil || !strings.Contains(string(data), `"operation":"apply"`) {
		t.Errorf("lock backup: %q %v", data, err)
	}
}

func TestAuditCLI(t *testing.T) {
	e := newRepairEnv(t)
	if code, out, _ := e.run(t, "", "audit"); code != 0 || !strings.Contains(out, "no audit entries") {
		t.Errorf("empty audit: %d %s", code, out)
	}
	e.run(t, "", "set-status", "prod/db", "destroyed", "--yes")
	e.run(t, "", "rm", "prod/db", "--yes") // refused: prod/app depends on it
	code, out, _ := e.run(t, "", "audit", "-o", "json")
	var entries []audit.Entry
	if code != 0 || json.Unmarshal([]byte(out), &entries) != nil || len(entries) != 1 {
		t.Fatalf("audit -o json: exit %d\n%s", code, out)
	}
	if entries[0].Action != "set-status" || entries[0].Before == "" || entries[0].After == "" || !strings.Contains(entries[0].Actor, "@") {
		t.Errorf("entry %+v", entries[0])
	}
	code, out, _ = e.run(t, "", "audit")
	if code != 0 || !strings.Contains(out, "set-status") || !strings.Contains(out, "prod/db") || !strings.Contains(out, "applied") {
		t.Errorf("audit table: exit %d\n%s", code, out)
	}
	if code, _, _ := e.run(t, "", "audit", "-o", "xml"); code != 2 {
		t.Errorf("bad output format: exit %d", code)
	}
}

// TestSecretsStayOut takes a record with secret outputs through every
// action and checks no secret reaches stdout, stderr or the audit log, and
// that backups are private.
func TestSecretsStayOut(t *testing.T) {
	e := newRepairEnv(t)
	snap := filepath.Join(t.TempDir(), "snap.json")
	cmd, _ := repairtest.EditorScript(t, strings.Replace(mustEncode(t, e.get(t, "prod/db")), cliSecrets[0], cliSecrets[3], 1))
	t.Setenv("EDITOR", cmd)
	var said strings.Builder
	for _, args := range [][]string{
		{"set-status", "prod/db", "error", "--reason", "boom", "--dry-run"},
		{"set-status", "prod/db", "error", "--reason", "boom", "--yes"},
		{"edit", "prod/db", "--yes"},
		{"rm", "prod/db", "--force", "--yes"},
		{"restore", "prod/db", "--list"},
		{"restore", "prod/db", "--yes"},
		{"export", "-o", snap},
		{"rm", "prod/db", "--force", "--yes"},
		{"import", snap, "--yes"},
		{"audit"},
		{"audit", "-o", "json"},
	} {
		code, out, errOut := e.run(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		said.WriteString(out + errOut)
	}
	logData, err := os.ReadFile(filepath.Join(e.state, "statescope", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	said.Write(logData)
	for _, s := range cliSecrets {
		if strings.Contains(said.String(), s) {
			t.Errorf("secret %q reached the output or the audit log", s)
		}
	}
	root := filepath.Join(e.state, "statescope")
	n := 0
	filepath.WalkDir(filepath.Join(root, "backups"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			n++
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
		return nil
	})
	if n == 0 {
		t.Error("no backups were written")
	}
}

func mustEncode(t *testing.T, s *stores.State) string {
	t.Helper()
	b, err := stores.EncodeState(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestUnreadableCLI(t *testing.T) {
	e := newRepairEnv(t)
	if code, _, errOut := e.run(t, "", "set-status", "prod/db", "destroyed", "--yes"); code != 0 {
		t.Fatal(errOut)
	}
	garbage := []byte("{\"resource_id\": \"prod/db\", truncated")
	if err := os.WriteFile(filepath.Join(e.dir, "prod_db.json"), garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := e.run(t, "", "set-status", "prod/db", "active", "--yes"); code != 1 || !strings.Contains(errOut, "unreadable") {
		t.Errorf("set-status on an unreadable record: exit %d %s", code, errOut)
	}
	code, out, errOut := e.run(t, "", "restore", "prod/db", "--yes")
	if code != 0 || !strings.Contains(out, "unreadable") {
		t.Fatalf("restore over an unreadable record: exit %d\n%s%s", code, out, errOut)
	}
	if got := e.get(t, "prod/db"); got.Status != stores.StatusActive {
		t.Errorf("restored status %s", got.Status)
	}
	_, out, _ = e.run(t, "", "restore", "prod/db", "--list")
	if !strings.Contains(out, "restore") {
		t.Errorf("the unreadable bytes were not backed up:\n%s", out)
	}
}

// TestEditUnreadableCLI: edit on a record a crash truncated opens its
// stored bytes, where the parse fails marked; a valid save replaces them
// exactly as saved after the corrupt bytes are backed up; an invalid one
// writes nothing.
func TestEditUnreadableCLI(t *testing.T) {
	e := newRepairEnv(t)
	file := filepath.Join(e.dir, "prod_db.json")
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	truncated := good[:bytes.Index(good, []byte(`"password"`))+5]
	if err := os.WriteFile(file, truncated, 0o600); err != nil {
		t.Fatal(err)
	}
	fixed := strings.Replace(string(good), `"status": "active"`, `"status": "destroyed"`, 1) + "\n"

	cmd, _ := repairtest.EditorScript(t, `{"resource_id": "prod/db", "status": "active"}`)
	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", cmd)
	if code, out, errOut := e.run(t, "", "edit", "prod/db", "--yes"); code != 1 || !strings.Contains(errOut, "abandoned") {
		t.Errorf("an invalid save: exit %d\n%s%s", code, out, errOut)
	}
	if got, _ := os.ReadFile(file); !bytes.Equal(got, truncated) {
		t.Fatalf("an invalid save wrote:\n%s", got)
	}

	cmd, shown := repairtest.EditorScript(t, fixed)
	t.Setenv("EDITOR", cmd)
	code, out, errOut := e.run(t, "", "edit", "prod/db", "--yes")
	if code != 0 || !strings.Contains(out, "unreadable") {
		t.Fatalf("edit of the truncated record: exit %d\n%s%s", code, out, errOut)
	}
	if s, _ := os.ReadFile(shown); !bytes.Contains(s, truncated) || !strings.Contains(string(s), "does not parse: line 21, column 10") {
		t.Errorf("the editor was not shown the stored bytes and where they break:\n%s", s)
	}
	if got, _ := os.ReadFile(file); string(got) != fixed {
		t.Errorf("written:\n%s\nwant the saved text exactly:\n%s", got, fixed)
	}
	for _, s := range cliSecrets {
		if strings.Contains(out+errOut, s) {
			t.Errorf("edit printed secret %q", s)
		}
	}
	_, backupPath, _ := strings.Cut(out, "backup of the previous version: ")
	if data, err := os.ReadFile(strings.TrimSpace(backupPath)); err != nil || !bytes.Equal(data, truncated) {
		t.Errorf("backup %s: %q, %v; want the truncated bytes", backupPath, data, err)
	}
	if a := e.auditEntries(t); len(a) == 0 || a[len(a)-1].Action != "edit" || a[len(a)-1].Result != "applied" {
		t.Errorf("audit: %+v", a)
	}

	// A link named like a record is never read: there are no bytes to
	// edit, and edit says so without opening the editor.
	if err := os.Symlink(file, filepath.Join(e.dir, "linked.json")); err != nil {
		t.Fatal(err)
	}
	cmd, shown = repairtest.EditorScript(t, fixed)
	t.Setenv("EDITOR", cmd)
	if code, _, errOut := e.run(t, "", "edit", "linked", "--yes"); code != 1 || !strings.Contains(errOut, "cannot be edited as text") || !strings.Contains(errOut, "put a regular file in its place") {
		t.Errorf("edit of a link: exit %d %s", code, errOut)
	}
	if _, err := os.Stat(shown); err == nil {
		t.Error("the editor was opened on a link")
	}
}

// TestEditConflictKeepsText: the record changes while the editor is open;
// the edit is refused with the three-way difference and the user's text
// is kept.
func TestEditConflictKeepsText(t *testing.T) {
	e := newRepairEnv(t)
	orig := e.get(t, "prod/app")
	mine := orig.Clone()
	mine.ProviderID = "edited-by-me"
	theirs := orig.Clone()
	theirs.Status = stores.StatusProvisioning
	theirsJSON := mustEncode(t, theirs)
	// The editor saves the user's version, and meanwhile "workflow" writes.
	dir := t.TempDir()
	mineFile, theirsFile := filepath.Join(dir, "mine"), filepath.Join(dir, "theirs")
	os.WriteFile(mineFile, []byte(mustEncode(t, mine)), 0o600)
	os.WriteFile(theirsFile, []byte(theirsJSON), 0o600)
	script := filepath.Join(dir, "ed.sh")
	os.WriteFile(script, []byte("#!/bin/sh\ncp "+mineFile+" \"$1\"\ncp "+theirsFile+" "+filepath.Join(e.dir, "prod_app.json")+"\n"), 0o700)
	t.Setenv("EDITOR", script)
	code, out, errOut := e.run(t, "", "edit", "prod/app", "--yes")
	if code != 3 || !strings.Contains(errOut, "what is there now") || !strings.Contains(errOut, "what you wanted") {
		t.Fatalf("edit over a concurrent change: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Count(errOut, "Someone else changed it") != 1 {
		t.Errorf("the three-way difference is not printed exactly once:\n%s", errOut)
	}
	if got := e.get(t, "prod/app"); got.Status != stores.StatusProvisioning || got.ProviderID == "edited-by-me" {
		t.Errorf("the concurrent change was overwritten: %+v", got)
	}
	_, kept, ok := strings.Cut(errOut, "it is kept in ")
	if !ok {
		t.Fatalf("the edited text was not kept:\n%s", errOut)
	}
	keptPath, _, _ := strings.Cut(strings.SplitN(kept, "\n", 2)[0], "; ")
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(keptPath)) })
	data, err := os.ReadFile(keptPath)
	if err != nil || !strings.Contains(string(data), "edited-by-me") {
		t.Errorf("kept text: %q, %v", data, err)
	}
}
