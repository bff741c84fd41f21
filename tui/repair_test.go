package tui

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"go.uber.org/goleak"

	"statescope/stores"
	"statescope/stores/demo"
	"statescope/stores/filesystem"
	"statescope/stores/repair"
	"statescope/stores/repair/audit"
	"statescope/stores/repair/backup"
	"statescope/stores/repair/repairtest"
)

// backends are the stores every repair flow is checked on.
var backends = []struct {
	name string
	open func(t *testing.T) stores.Store
}{
	{"memory", func(t *testing.T) stores.Store { return newGoldenStore(t) }},
	{"filesystem", func(t *testing.T) stores.Store { return demoDir(t) }},
}

// demoDir is the demo state in a filesystem store, lock files included.
func demoDir(t *testing.T) *filesystem.Store {
	t.Helper()
	dir := t.TempDir()
	if err := demo.Materialize(os.DirFS(filepath.Join("..", "testdata", "demo")), dir, clock); err != nil {
		t.Fatal(err)
	}
	s, err := filesystem.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// repairHarness is a UI on s whose backups and audit log go to a fresh
// directory and whose editor runs inline instead of suspending a terminal.
type repairHarness struct {
	*syncHarness
	store    stores.Store
	stateDir string
}

func newRepairHarness(t *testing.T, s stores.Store, readOnly bool) *repairHarness {
	t.Helper()
	if readOnly {
		s = stores.ReadOnly(s)
	}
	dir := t.TempDir()
	h := newSyncHarness(t, Options{Session: Session{Store: s, Name: "demo", ReadOnly: readOnly}, StateDir: dir})
	h.m.env.exec = func(c tea.ExecCommand, fn tea.ExecCallback) tea.Cmd {
		return func() tea.Msg { return fn(c.Run()) }
	}
	return &repairHarness{syncHarness: h, store: s, stateDir: dir}
}

// open shows one record's detail from the filtered table.
func (h *repairHarness) open(id string) {
	h.keys("/")
	h.typeText(id)
	h.keys("enter", "enter")
}

func (h *repairHarness) get(id string) *stores.State {
	h.t.Helper()
	s, err := h.store.Get(context.Background(), id)
	if err != nil {
		h.t.Fatalf("get %s: %v", id, err)
	}
	return s
}

func (h *repairHarness) gone(id string) {
	h.t.Helper()
	if _, err := h.store.Get(context.Background(), id); !errors.Is(err, stores.ErrNotFound) {
		h.t.Fatalf("%s is still there: %v", id, err)
	}
}

func (h *repairHarness) expectScreen(want ...string) {
	h.t.Helper()
	s := h.screen()
	for _, w := range want {
		if !strings.Contains(s, w) {
			h.t.Fatalf("screen lacks %q:\n%s", w, s)
		}
	}
}

// audit is the audit log as written.
func (h *repairHarness) audit() []audit.Entry {
	h.t.Helper()
	entries, err := repair.AuditLog(h.stateDir).Read()
	if err != nil {
		h.t.Fatal(err)
	}
	return entries
}

// backups are the backup files written, each checked to be private.
func (h *repairHarness) backups() []string {
	h.t.Helper()
	var files []string
	filepath.WalkDir(filepath.Join(h.stateDir, "backups"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") && !strings.HasSuffix(path, ".meta.json") {
			if fi, _ := d.Info(); fi.Mode().Perm() != 0o600 {
				h.t.Errorf("backup %s has mode %v", path, fi.Mode().Perm())
			}
			files = append(files, path)
		}
		return nil
	})
	return files
}

// pickStatus selects status in the picker.
func (h *repairHarness) pickStatus(status string) {
	h.t.Helper()
	for range stores.Statuses {
		if v, ok := h.m.top().(*statusView); ok && stores.Statuses[v.choice] == status {
			return
		}
		h.keys("down")
	}
	h.t.Fatalf("status %s not in the picker", status)
}

func TestSetStatus(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			h := newRepairHarness(t, b.open(t), false)
			h.open("staging/db/orders")
			h.keys("S")
			h.expectScreen("SET STATUS of staging/db/orders  (now active)")
			h.pickStatus(stores.StatusError)
			h.keys("enter")
			h.expectScreen("setting error needs a reason")
			h.typeText("disk full")
			h.keys("enter")
			h.expectScreen(`-  "status": "active",`, `+  "status": "error",`, `+  "error": "disk full"`, "enter/y applies")
			h.keys("y")
			h.expectScreen("set-status staging/db/orders: done; backed up as 20260101T000000.000000000Z-set-status.json")
			if got := h.get("staging/db/orders"); got.Status != stores.StatusError || got.Error != "disk full" {
				t.Fatalf("record now %s %q", got.Status, got.Error)
			}
			if _, ok := h.m.top().(*detailView); !ok {
				t.Fatalf("the confirmation stayed open: %T", h.m.top())
			}
			h.expectScreen("status        error")
			if n := len(h.backups()); n != 1 {
				t.Fatalf("%d backups, want 1", n)
			}
			if a := h.audit(); len(a) != 1 || a[0].Action != "set-status" || a[0].Result != audit.ResultApplied {
				t.Fatalf("audit %+v", a)
			}
		})
	}
}

// TestCancelChangesNothing: esc on each confirmation leaves the store,
// the backups and the audit log as they were.
func TestCancelChangesNothing(t *testing.T) {
	tests := []struct {
		name  string
		steps func(h *repairHarness)
	}{
		{"set status", func(h *repairHarness) { h.open("staging/db/orders"); h.keys("S", "down", "enter") }},
		{"status picker", func(h *repairHarness) { h.open("staging/db/orders"); h.keys("S", "down") }},
		{"delete", func(h *repairHarness) { h.open("staging/db/orders"); h.keys("ctrl+d") }},
		{"delete anyway", func(h *repairHarness) {
			h.open("prod/vpc/aws")
			h.keys("ctrl+d", "f")
			h.typeText("prod/vpc/aws")
			h.keys("enter")
		}},
		{"force release", func(h *repairHarness) { h.keys("L", "F") }},
	}
	for _, b := range backends {
		for _, tt := range tests {
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				h := newRepairHarness(t, b.open(t), false)
				before := records(t, h.store)
				tt.steps(h)
				h.keys("esc")
				h.expectScreen("cancelled; nothing changed")
				if !reflect.DeepEqual(records(t, h.store), before) || len(h.backups()) > 0 || len(h.audit()) > 0 {
					t.Fatal("a cancelled repair wrote something")
				}
			})
		}
	}
}

// records is every record's encoding, to prove nothing changed.
func records(t *testing.T, s stores.Store) map[string]string {
	t.Helper()
	entries, err := s.List(context.Background(), stores.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, en := range entries {
		var raw []byte
		if en.State != nil { // nil: corrupt, its problem says why
			raw, _ = stores.EncodeState(en.State)
		}
		out[en.ID] = string(raw) + en.Problem
	}
	if ll, ok := s.(stores.LockLister); ok {
		locks, _ := ll.Locks(context.Background())
		for _, l := range locks {
			out["lock "+l.ResourceID] = l.Token
		}
	}
	return out
}

// TestConflictIsRefused: the record changes between the diff and the
// confirmation, so nothing is written and the three-way story is shown.
func TestConflictIsRefused(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			h := newRepairHarness(t, b.open(t), false)
			h.open("staging/db/orders")
			h.keys("S")
			h.pickStatus(stores.StatusDestroyed)
			h.keys("enter")
			other := h.get("staging/db/orders")
			other.Status = stores.StatusDestroying
			if err := h.store.Save(context.Background(), other); err != nil {
				t.Fatal(err)
			}
			h.keys("y")
			h.expectScreen("Someone else changed it", `+  "status": "destroying",`, "Your change, not applied", "set-status staging/db/orders refused: staging/db/orders changed since it was read")
			if got := h.get("staging/db/orders"); got.Status != stores.StatusDestroying {
				t.Fatalf("status %s: the other writer's change was overwritten", got.Status)
			}
			if a := h.audit(); len(a) != 1 || a[0].Result != audit.ResultRefused {
				t.Fatalf("audit %+v", a)
			}
		})
	}
}

func TestEdit(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			s := b.open(t)
			rec, err := s.Get(context.Background(), "staging/db/orders")
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := stores.EncodeState(rec)
			valid := strings.Replace(string(raw), `"status": "active"`, `"status": "destroyed"`, 1)
			cmd, shown := repairtest.EditorScript(t, `{"resource_id": "staging/db/orders", "status": "bogus"}`, valid)
			t.Setenv("VISUAL", cmd)
			h := newRepairHarness(t, s, false)
			h.open("staging/db/orders")
			h.keys("e")
			h.expectScreen("EDIT staging/db/orders", `+  "status": "destroyed",`)
			if text, _ := os.ReadFile(shown); !strings.Contains(string(text), "# ERROR: ") {
				t.Fatalf("the invalid save did not reopen the editor with the error:\n%s", text)
			}
			h.keys("enter")
			h.expectScreen("edit staging/db/orders: done")
			if got := h.get("staging/db/orders"); got.Status != stores.StatusDestroyed {
				t.Fatalf("status %s", got.Status)
			}
			if len(h.backups()) != 1 || len(h.audit()) != 1 {
				t.Fatal("no backup or audit entry")
			}
		})
	}
}

// TestEditNotAppliedIsKept: cancelling the confirmation of an edit keeps
// the edited text in a private file; an unchanged save changes nothing.
func TestEditNotAppliedIsKept(t *testing.T) {
	h := newRepairHarness(t, newGoldenStore(t), false)
	before := records(t, h.store)
	t.Setenv("VISUAL", "true") // saves the file unchanged
	h.open("staging/db/orders")
	h.keys("e")
	h.expectScreen("edit cancelled; nothing was changed")

	t.Setenv("VISUAL", `sed -i 's/"active"/"bogus"/'`) // invalid, and saved so again
	h.keys("e")
	h.expectScreen("your text is kept in /")
	cleanKept(t, h.screen())

	t.Setenv("VISUAL", `sed -i 's/"active"/"planned"/'`)
	h.keys("e", "esc")
	if text := cleanKept(t, h.screen()); !strings.Contains(text, `"status": "planned"`) {
		t.Fatalf("kept file:\n%s", text)
	}

	h.keys("e", "R") // leaving by another way keeps it too
	cleanKept(t, h.screen())
	if !reflect.DeepEqual(records(t, h.store), before) {
		t.Fatal("the store changed")
	}
}

// TestEditConflictKeepsText: an edit refused because the record changed
// meanwhile keeps the edited text and shows the three-way explanation.
func TestEditConflictKeepsText(t *testing.T) {
	h := newRepairHarness(t, newGoldenStore(t), false)
	t.Setenv("VISUAL", `sed -i 's/"active"/"planned"/'`)
	h.open("staging/db/orders")
	h.keys("e")
	other := h.get("staging/db/orders")
	other.Config["instance_class"] = "db.r6g.2xlarge"
	if err := h.store.Save(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	h.keys("y")
	h.expectScreen("Someone else changed it", " is kept in ")
	if text := cleanKept(t, h.screen()); !strings.Contains(text, `"status": "planned"`) {
		t.Fatalf("kept file:\n%s", text)
	}
	// The status line is longer than the screen: ! opens it whole (its
	// wrapping depends on the temporary path, so the text is read from
	// the dialog rather than the screen).
	h.keys("!")
	if d, ok := h.m.dialog.(*textDialog); !ok || !strings.Contains(d.text, "edit staging/db/orders refused") {
		t.Fatalf("! does not open the refusal: %#v", h.m.dialog)
	}
	if got := h.get("staging/db/orders"); got.Status != stores.StatusActive {
		t.Fatal("the refused edit was written")
	}
}

// cleanKept reads the file the screen says keeps the user's text, then
// removes it.
func cleanKept(t *testing.T, screen string) string {
	t.Helper()
	_, path, ok := strings.Cut(screen, " is kept in ")
	if !ok {
		t.Fatalf("no kept file named:\n%s", screen)
	}
	path = strings.Fields(path)[0]
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Dir(path))
	return string(text)
}

func TestDelete(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			h := newRepairHarness(t, b.open(t), false)
			h.keys("/")
			h.typeText("staging/db/orders")
			h.keys("enter", "ctrl+d")
			h.expectScreen("DELETE staging/db/orders", "+++ deleted")
			h.keys("enter")
			h.expectScreen("delete staging/db/orders: done")
			h.gone("staging/db/orders")
		})
	}
}

// TestDeleteWithDependents refuses, lists who depends on it, and deletes
// only after the ID is typed back and the diff confirmed.
func TestDeleteWithDependents(t *testing.T) {
	h := newRepairHarness(t, newGoldenStore(t), false)
	h.open("prod/vpc/aws")
	h.keys("ctrl+d")
	h.expectScreen("delete refused: prod/vpc/aws is listed in the dependencies of:", "  prod/db/users", "f deletes it anyway")
	h.keys("y")
	h.get("prod/vpc/aws")
	h.keys("f")
	h.typeText("prod/vpc/aw")
	h.keys("enter")
	h.expectScreen("the typed ID does not match prod/vpc/aws")
	h.typeText("s")
	h.keys("enter")
	h.expectScreen("note: forced: ", "+++ deleted")
	h.get("prod/vpc/aws")
	h.keys("y")
	h.gone("prod/vpc/aws")
}

// TestRestoreUndoes: a status change is undone from the backups list.
func TestRestoreUndoes(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			h := newRepairHarness(t, b.open(t), false)
			orig := h.get("staging/db/orders")
			h.open("staging/db/orders")
			h.keys("S")
			h.pickStatus(stores.StatusPlanned)
			h.keys("enter", "y", "b")
			h.expectScreen("backups of staging/db/orders", "2026-01-01 00:00:00Z  set-status")
			h.keys("enter")
			h.expectScreen("RESTORE staging/db/orders", "from the backup taken before set-status", `+  "status": "active",`)
			h.keys("y")
			h.expectScreen("restore staging/db/orders: done")
			if got := h.get("staging/db/orders"); !reflect.DeepEqual(got, orig) {
				t.Fatalf("restored %+v, want %+v", got, orig)
			}
			if len(h.backups()) != 2 {
				t.Fatal("the restore did not back up what it replaced")
			}
		})
	}
}

// TestRestoreRecreatesADeletedRecord: the detail of a deleted record still
// lists its backups, and restoring one brings it back.
func TestRestoreRecreatesADeletedRecord(t *testing.T) {
	h := newRepairHarness(t, newGoldenStore(t), false)
	orig := h.get("staging/db/orders")
	h.open("staging/db/orders")
	h.keys("ctrl+d", "y")
	h.gone("staging/db/orders")
	h.expectScreen("there is no record staging/db/orders")
	h.keys("b", "enter")
	h.expectScreen("note: staging/db/orders does not exist now; the restore recreates it")
	h.keys("y")
	if got := h.get("staging/db/orders"); !reflect.DeepEqual(got, orig) {
		t.Fatalf("restored %+v, want %+v", got, orig)
	}
}

// TestDeleteUnreadable: a corrupt record can be deleted where the engine
// can read its bytes (the filesystem); they are backed up first.
func TestDeleteUnreadable(t *testing.T) {
	h := newRepairHarness(t, demoDir(t), false)
	h.open("prod/cache/sessions")
	h.keys("ctrl+d")
	h.expectScreen("The current record is unreadable")
	h.keys("x") // nothing to reveal: the note stays
	h.expectScreen("The current record is unreadable")
	h.keys("y")
	h.gone("prod/cache/sessions")
	if len(h.backups()) != 1 {
		t.Fatal("the unreadable bytes were not backed up")
	}
}

// TestForceReleaseGoesThroughTheEngine: the lock is backed up and the
// release audited.
func TestForceReleaseGoesThroughTheEngine(t *testing.T) {
	h := newRepairHarness(t, newGoldenStore(t), false)
	h.keys("L", "F")
	h.typeText("prod/db/orders")
	h.keys("enter")
	h.expectScreen("released the lock on prod/db/orders; backed up as")
	list, err := backup.Dir{Root: filepath.Join(h.stateDir, "backups")}.List("demo", "prod/db/orders")
	if err != nil || len(list) != 1 || list[0].Meta.Kind != backup.KindLock || list[0].Meta.Version != "tok-orders" {
		t.Fatalf("lock backup %+v, %v", list, err)
	}
	if a := h.audit(); len(a) != 1 || a[0].Action != "force-unlock" || a[0].Result != audit.ResultApplied {
		t.Fatalf("audit %+v", a)
	}
}

// TestReadOnlyRefusesEveryRepair: each action, reached by its key, says
// it is disabled and writes nothing (no record, lock, backup or audit).
func TestReadOnlyRefusesEveryRepair(t *testing.T) {
	tests := []struct {
		name, what string
		steps      func(h *repairHarness)
	}{
		{"set status", "set status", func(h *repairHarness) { h.open("staging/db/orders"); h.keys("S") }},
		{"edit", "edit", func(h *repairHarness) { h.open("staging/db/orders"); h.keys("e") }},
		{"delete from the table", "delete", func(h *repairHarness) { h.keys("ctrl+d") }},
		{"delete from the detail", "delete", func(h *repairHarness) { h.open("staging/db/orders"); h.keys("ctrl+d") }},
		{"restore", "restore", func(h *repairHarness) { h.open("staging/db/orders"); h.keys("b", "enter") }},
		{"force release", "force release", func(h *repairHarness) { h.keys("L", "F") }},
	}
	for _, b := range backends {
		for _, tt := range tests {
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				t.Setenv("VISUAL", `sed -i 's/"active"/"planned"/'`)
				h := newRepairHarness(t, b.open(t), true)
				before := records(t, h.store)
				tt.steps(h)
				h.expectScreen(tt.what + " is disabled: the store is opened read-only")
				h.keys("enter", "y") // what would confirm a dialog, had one opened
				if !reflect.DeepEqual(records(t, h.store), before) {
					t.Fatal("the store changed")
				}
				if _, err := os.Stat(filepath.Join(h.stateDir, "backups")); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("a backup was written: %v", err)
				}
				if len(h.audit()) > 0 {
					t.Fatal("an audit entry was written")
				}
			})
		}
	}
}

func TestReadOnlyHelpShowsRepairsDisabled(t *testing.T) {
	h := newRepairHarness(t, newGoldenStore(t), true)
	h.open("staging/db/orders")
	h.keys("?")
	s := h.screen()
	for _, line := range []string{"S             set status", "e             edit", "ctrl+d        delete"} {
		if !strings.Contains(s, line+"  disabled: read-only") {
			t.Errorf("help lacks %q as disabled:\n%s", line, s)
		}
	}
	if strings.Contains(s, "b             backups  disabled") {
		t.Error("listing backups only reads; it must stay enabled")
	}
}

// writeAudit fills the audit log with fixed entries, oldest first.
func writeAudit(t testing.TB, stateDir string) {
	t.Helper()
	log := repair.AuditLog(stateDir)
	for i, e := range []audit.Entry{
		{Action: "force-unlock", Resource: "prod/db/orders", Result: audit.ResultApplied},
		{Action: "edit", Resource: "prod/db/orders", Result: audit.ResultRefused, Error: "prod/db/orders changed since it was read"},
		{Action: "set-status", Resource: "prod/db/orders", Result: audit.ResultApplied},
		{Action: "delete", Resource: "staging/db/orders", Result: audit.ResultFailed, Error: "write failed: disk full"},
	} {
		e.Time, e.Actor, e.Target = clock.Add(time.Duration(i)*time.Minute), "ops@bastion", "file:///state"
		if err := log.Append(e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditView(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	h := newRepairHarness(t, newGoldenStore(t), false)
	writeAudit(t, h.stateDir)
	h.keys(":")
	h.typeText("audit")
	h.keys("enter")
	v, ok := h.m.top().(*auditView)
	if !ok {
		t.Fatalf("top is %T", h.m.top())
	}
	if first, _ := v.grid.Selected(); v.grid.Len() != 4 || first.Action != "delete" {
		t.Fatalf("%d rows, first %+v: want 4, newest first", v.grid.Len(), first)
	}
	h.expectScreen("4 audit entries", "2026-01-01 00:03:00Z  ops@bastion")
	h.keys("/")
	h.typeText("prod/db/orders applied")
	h.keys("enter")
	if v.grid.Visible() != 2 {
		t.Fatalf("filter left %d rows, want 2", v.grid.Visible())
	}
	h.keys("esc")
	if v.grid.Visible() != 4 {
		t.Fatal("esc did not clear the filter")
	}
	// A repair made meanwhile shows up.
	h.keys("esc", "L", "F")
	h.typeText("prod/db/orders")
	h.keys("enter", ":")
	h.typeText("audit")
	h.keys("enter")
	h.expectScreen("5 audit entries")
}

// sessionsFixed is the demo's truncated prod/cache/sessions completed.
const sessionsFixed = `{
  "resource_id": "prod/cache/sessions",
  "resource_type": "infra.cache",
  "provider": "aws",
  "status": "active",
  "outputs": {
    "primary_endpoint": "sessions.abc123.ng.0001.euw1.cache.amazonaws.com",
    "auth_token": "tok-fixed-by-hand"
  },
  "config": {},
  "created_at": "2026-01-01T00:00:00Z",
  "updated_at": "2026-01-01T00:00:00Z"
}
`

// TestEditUnreadable: detail shows a corrupt record's bytes with where
// they break; e edits them as text through the engine: the corrupt bytes
// are backed up, the fixed text written exactly as saved.
func TestEditUnreadable(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			truncated, err := os.ReadFile(filepath.Join("..", "testdata", "demo", "prod_cache_sessions.json"))
			if err != nil {
				t.Fatal(err)
			}
			cmd, shown := repairtest.EditorScript(t, sessionsFixed)
			t.Setenv("VISUAL", cmd)
			h := newRepairHarness(t, s, false)
			h.open("prod/cache/sessions")
			h.expectScreen("CORRUPT RECORD", "line 8, column 14", `"auth_tok`, "^ unexpected end of JSON input")
			h.keys("e")
			h.expectScreen("EDIT prod/cache/sessions", "The current record is unreadable", `+  "resource_id": "prod/cache/sessions",`)
			if text, _ := os.ReadFile(shown); !bytes.Contains(text, truncated) {
				t.Fatalf("the editor was not shown the stored bytes:\n%s", text)
			}
			if strings.Contains(h.screen(), "tok-fixed-by-hand") {
				t.Fatal("the confirmation shows the secret before x")
			}
			h.keys("y")
			h.expectScreen("edit prod/cache/sessions: done")
			raw, err := repair.New(s, "", t.TempDir()).Observe(context.Background(), "prod/cache/sessions")
			if err != nil || string(raw.Raw) != sessionsFixed {
				t.Fatalf("stored after the edit: %q, %v", raw.Raw, err)
			}
			files := h.backups()
			if len(files) != 1 {
				t.Fatalf("backups: %v", files)
			}
			if _, data, err := backup.Read(files[0]); err != nil || !bytes.Equal(data, truncated) {
				t.Fatalf("backup holds %q, %v; want the truncated bytes", data, err)
			}
			if a := h.audit(); len(a) != 1 || a[0].Action != "edit" || a[0].Result != audit.ResultApplied {
				t.Fatalf("audit: %+v", a)
			}
		})
	}
}

// TestEditUnreadableChangedSinceShown: the corrupt bytes on screen are
// what the edit is checked against; changed meanwhile, e says so and
// shows them again instead of opening the editor.
func TestEditUnreadableChangedSinceShown(t *testing.T) {
	s := newGoldenStore(t)
	cmd, shown := repairtest.EditorScript(t, sessionsFixed)
	t.Setenv("VISUAL", cmd)
	h := newRepairHarness(t, s, false)
	h.open("prod/cache/sessions")
	h.expectScreen("CORRUPT RECORD")
	s.PutRaw("prod/cache/sessions", []byte(`{"resource_id": "prod/cache/sessions", "status": `))
	h.keys("e")
	h.expectScreen("changed since it was shown", "line 1, column 50")
	if _, err := os.Stat(shown); err == nil {
		t.Fatal("the editor was opened on bytes the operator has not seen")
	}
}

// TestFindingRepairsUnreadable: x on a corrupt-record finding opens the
// editor on the record's stored bytes straight away (it shows them, with
// where they break), and the fix goes through the same confirmation.
func TestFindingRepairsUnreadable(t *testing.T) {
	cmd, shown := repairtest.EditorScript(t, sessionsFixed)
	t.Setenv("VISUAL", cmd)
	h := newRepairHarness(t, demoDir(t), false)
	h.findFinding("corrupt-record")
	h.keys("x")
	h.expectScreen("EDIT prod/cache/sessions", "The current record is unreadable")
	if text, _ := os.ReadFile(shown); !strings.Contains(string(text), "It does not parse: line 8, column 14") {
		t.Fatalf("the editor was not shown where the bytes break:\n%s", text)
	}
	h.keys("y")
	h.expectScreen("edit prod/cache/sessions: done")
	if got := h.get("prod/cache/sessions"); got.Outputs["auth_token"] != "tok-fixed-by-hand" {
		t.Fatalf("record after the fix: %+v", got)
	}
}

// TestEditUnreadableWithoutBytes: on a store that hands out no bytes of a
// corrupt record (PostgreSQL, a remote plugin), e says why it cannot
// edit it and opens no editor.
func TestEditUnreadableWithoutBytes(t *testing.T) {
	cmd, shown := repairtest.EditorScript(t, sessionsFixed)
	t.Setenv("VISUAL", cmd)
	h := newRepairHarness(t, plainStore{newGoldenStore(t)}, false)
	h.open("prod/cache/sessions")
	h.keys("e")
	h.expectScreen("cannot edit: ")
	if _, err := os.Stat(shown); err == nil {
		t.Fatal("the editor was opened")
	}
	h.keys("!")
	h.expectScreen("it cannot be edited as text: the store hands out no bytes of it (PostgreSQL keeps columns")
}
