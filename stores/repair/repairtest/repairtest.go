// Package repairtest runs every repair action through the safety engine
// against a store backend, the same checks for memory, the filesystem and
// each real server, so a backend proves that repairs on it are safe.
package repairtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"statescope/stores"
	"statescope/stores/repair"
	"statescope/stores/repair/audit"
	"statescope/stores/repair/backup"
	"statescope/stores/repair/snapshot"
	"statescope/stores/storetest"
)

// Harness describes a backend under test.
type Harness struct {
	// New returns a fresh, empty store; the suite closes it.
	New func(t *testing.T) stores.Store
	// Corrupt plants an unreadable record under id. Set exactly when
	// Capabilities has storetest.CorruptRecords.
	Corrupt func(t *testing.T, s stores.Store, id string)
	// Capabilities the store has; Run fails when they differ from the
	// store's, so no check is skipped unless the backend lacks its feature.
	Capabilities storetest.Capabilities
	// CorruptRaw: export can recover an unreadable record's bytes here.
	CorruptRaw bool
	// Plant stores exactly raw as the record id, behind the store's back,
	// for the byte-preservation check; nil skips it (a backend that keeps
	// no bytes, such as PostgreSQL's columns).
	Plant func(t *testing.T, s stores.Store, id string, raw []byte)
	// Normalise adjusts a record to what the backend keeps of it, for
	// comparisons (PostgreSQL sets the timestamps itself and drops the
	// error field); nil keeps it.
	Normalise func(*stores.State) *stores.State
	// ServerTimestamps: the backend sets updated_at itself, so checks that
	// plant a particular updated_at (import's newer/older rule) or expect
	// a restored record to match its backup byte for byte are skipped.
	ServerTimestamps bool
}

// Run runs every check as a subtest. On a backend without
// compare-and-swap the write checks run twice: as it is (re-check before
// writing) and under EmulateCAS (the SaveIf/DeleteIf path).
func Run(t *testing.T, h Harness) {
	checks := []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"SetStatus", setStatus},
		{"Edit", edit},
		{"Delete", deleteRecord},
		{"Restore", restore},
		{"RestoreDeleted", restoreDeleted},
		{"ExportImport", exportImport},
		{"ChangedBeforeApply", changedBeforeApply},
		{"ChangedDuringApply", changedDuringApply},
		{"Locked", locked},
		{"ForceRelease", forceRelease},
		{"ReadOnly", readOnly},
		{"Secrets", secrets},
		{"ExportCorrupt", exportCorrupt},
		{"Unreadable", unreadable},
		{"EditUnreadable", editUnreadable},
		{"KeepsBytes", keepsBytes},
	}
	modes := []struct {
		name string
		wrap func(stores.Store) stores.Store
	}{{"native", func(s stores.Store) stores.Store { return s }}}
	probe := h.New(t)
	h.Capabilities.Check(t, probe, h.Corrupt != nil)
	if !h.Capabilities.Has(storetest.CompareAndSwap) {
		modes = append(modes, struct {
			name string
			wrap func(stores.Store) stores.Store
		}{"emulated-cas", EmulateCAS})
	}
	stores.Close(probe)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			for _, c := range checks {
				t.Run(c.name, func(t *testing.T) { c.fn(t, newEnv(t, h, m.wrap)) })
			}
		})
	}
}

// env is one check's store and engine.
type env struct {
	h      Harness
	raw    stores.Store // as the backend made it, for Corrupt
	store  stores.Store
	eng    *repair.Engine
	dir    string
	ctx    context.Context
	wrap   func(stores.Store) stores.Store
	target string
}

func newEnv(t *testing.T, h Harness, wrap func(stores.Store) stores.Store) *env {
	raw := h.New(t)
	t.Cleanup(func() { stores.Close(raw) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	dir := t.TempDir()
	s := wrap(raw)
	target := "test://" + strings.ReplaceAll(t.Name(), "/", "_")
	return &env{h: h, raw: raw, store: s, eng: repair.New(s, target, dir), dir: dir, ctx: ctx, wrap: wrap, target: target}
}

// engineOn is an engine sharing this env's backups and audit log.
func (e *env) engineOn(s stores.Store) *repair.Engine {
	return repair.New(s, e.target, e.dir)
}

func (e *env) norm(s *stores.State) *stores.State {
	c := s.Clone()
	if len(c.Dependencies) == 0 {
		c.Dependencies = nil
	}
	if e.h.Normalise != nil {
		c = e.h.Normalise(c)
	}
	return c
}

func (e *env) put(t *testing.T, s *stores.State) {
	t.Helper()
	if err := e.raw.Save(e.ctx, s); err != nil {
		t.Fatalf("save %q: %v", s.ResourceID, err)
	}
}

func (e *env) get(t *testing.T, id string) *stores.State {
	t.Helper()
	s, err := e.raw.Get(e.ctx, id)
	if err != nil {
		t.Fatalf("get %q: %v", id, err)
	}
	return s
}

func (e *env) assertRecord(t *testing.T, want *stores.State) {
	t.Helper()
	got := e.get(t, want.ResourceID)
	if w, g := e.norm(want), e.norm(got); !w.Equal(g) {
		wj, _ := stores.EncodeState(w)
		gj, _ := stores.EncodeState(g)
		t.Errorf("record %q:\nwant %s\n got %s", want.ResourceID, wj, gj)
	}
}

func (e *env) assertAbsent(t *testing.T, id string) {
	t.Helper()
	if _, err := e.raw.Get(e.ctx, id); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("get %q: %v, want not found", id, err)
	}
}

func (e *env) auditLog(t *testing.T) []audit.Entry {
	t.Helper()
	entries, err := e.eng.Audit.Read()
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// lastAudit checks the newest audit entry's action, resource and result.
func (e *env) lastAudit(t *testing.T, action repair.Action, id, result string) audit.Entry {
	t.Helper()
	entries := e.auditLog(t)
	if len(entries) == 0 {
		t.Fatalf("audit log is empty, want a %s %s entry", action, result)
	}
	last := entries[len(entries)-1]
	if last.Action != string(action) || last.Resource != id || last.Result != result {
		t.Errorf("last audit entry %+v, want action %s resource %s result %s", last, action, id, result)
	}
	if last.Target != e.target || last.Actor == "" || last.Time.IsZero() {
		t.Errorf("audit entry lacks target, actor or time: %+v", last)
	}
	return last
}

func (e *env) noLock(t *testing.T, id string) {
	t.Helper()
	if err := e.raw.Lock(e.ctx, id); err != nil {
		t.Errorf("lock on %q left held: %v", id, err)
		return
	}
	_ = e.raw.Unlock(e.ctx, id)
}

// checkBackup verifies a backup holds the bytes seen, privately.
func (e *env) checkBackup(t *testing.T, path string, seen repair.Observed, action repair.Action) {
	t.Helper()
	b, data, err := backup.Read(path)
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if !bytes.Equal(data, seen.Raw) || b.Meta.SHA256 != seen.SHA256 {
		t.Errorf("backup %s holds sha %s, want the bytes seen (sha %s)", path, b.Meta.SHA256, seen.SHA256)
	}
	if b.Meta.ResourceID != seen.ID || b.Meta.Action != string(action) || b.Meta.Target != e.target || b.Meta.Version != seen.Version {
		t.Errorf("backup meta %+v does not describe %s of %s", b.Meta, action, seen.ID)
	}
	checkPrivate(t, e.dir, path)
}

// checkPrivate asserts path and its sidecar are 0600 and every directory
// from root/backups down to it is 0700.
func checkPrivate(t *testing.T, root, path string) {
	t.Helper()
	for _, f := range []string{path, strings.TrimSuffix(path, ".json") + ".meta.json"} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("backup file %s: mode %v, err %v; want 0600", f, modeOf(fi), err)
		}
	}
	top := filepath.Join(root, "backups")
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("backup dir %s: mode %v, err %v; want 0700", d, modeOf(fi), err)
		}
		if d == top || d == filepath.Dir(d) {
			break
		}
	}
}

func modeOf(fi fs.FileInfo) any {
	if fi == nil {
		return nil
	}
	return fi.Mode().Perm()
}

// Record is a full record with a fixed, old updated_at.
func Record(id string) *stores.State { return storetest.Record(id) }

func setStatus(t *testing.T, e *env) {
	orig := Record("db/main")
	e.put(t, orig)
	p, err := e.eng.PlanSetStatus(e.ctx, orig.ResourceID, stores.StatusError, "disk full")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Diff(), `"status": "error"`) {
		t.Errorf("plan diff does not show the new status:\n%s", p.Diff())
	}
	res, err := e.eng.Apply(e.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	got := e.get(t, orig.ResourceID)
	if got.Status != stores.StatusError || e.norm(got).Error != e.norm(&stores.State{Error: "disk full"}).Error || got.UpdatedAt == orig.UpdatedAt {
		t.Errorf("after set-status error: status %q error %q updated_at %q", got.Status, got.Error, got.UpdatedAt)
	}
	e.checkBackup(t, res.Backup, p.Seen, repair.ActionSetStatus)
	a := e.lastAudit(t, repair.ActionSetStatus, orig.ResourceID, audit.ResultApplied)
	if a.Before != p.Seen.SHA256 || a.After == "" || a.After == a.Before || a.Backup != res.Backup {
		t.Errorf("audit entry %+v does not record hashes and backup %s", a, res.Backup)
	}
	e.noLock(t, orig.ResourceID)

	p, err = e.eng.PlanSetStatus(e.ctx, orig.ResourceID, stores.StatusActive, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Apply(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, orig.ResourceID); got.Status != stores.StatusActive || got.Error != "" {
		t.Errorf("leaving error: status %q error %q, want active and no error", got.Status, got.Error)
	}

	for _, bad := range []struct{ status, reason string }{{"exploded", "x"}, {stores.StatusError, " "}} {
		if _, err := e.eng.PlanSetStatus(e.ctx, orig.ResourceID, bad.status, bad.reason); !errors.Is(err, repair.ErrInvalid) {
			t.Errorf("set-status %q reason %q: %v, want ErrInvalid", bad.status, bad.reason, err)
		}
	}
	if _, err := e.eng.PlanSetStatus(e.ctx, "missing", stores.StatusActive, ""); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("set-status of a missing record: %v, want ErrNotFound", err)
	}
}

func edit(t *testing.T, e *env) {
	orig := Record("svc")
	e.put(t, orig)
	seen, err := e.eng.Observe(e.ctx, orig.ResourceID)
	if err != nil {
		t.Fatal(err)
	}
	edited := seen.State.Clone()
	edited.Outputs["endpoint"] = "db2.example.com"
	edited.Dependencies = append(edited.Dependencies, "dns")
	p, err := e.eng.PlanEdit(seen, edited)
	if err != nil {
		t.Fatal(err)
	}
	if p.Want.UpdatedAt == orig.UpdatedAt {
		t.Error("an edit that left updated_at alone did not bump it")
	}
	res, err := e.eng.Apply(e.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	e.assertRecord(t, p.Want)
	e.checkBackup(t, res.Backup, seen, repair.ActionEdit)
	e.lastAudit(t, repair.ActionEdit, orig.ResourceID, audit.ResultApplied)

	if _, err := e.eng.PlanEdit(seen, seen.State.Clone()); !errors.Is(err, repair.ErrNoChange) {
		t.Errorf("unchanged edit: %v, want ErrNoChange", err)
	}
	renamed := seen.State.Clone()
	renamed.ResourceID = "other"
	if _, err := e.eng.PlanEdit(seen, renamed); !errors.Is(err, repair.ErrInvalid) {
		t.Errorf("edit changing resource_id: %v, want ErrInvalid", err)
	}
}

func deleteRecord(t *testing.T, e *env) {
	vpc, app := Record("vpc-main"), Record("app")
	app.Dependencies = []string{"vpc-main"}
	e.put(t, vpc)
	e.put(t, app)
	_, err := e.eng.PlanDelete(e.ctx, "vpc-main", false)
	var de *repair.DependentsError
	if !errors.As(err, &de) || !errors.Is(err, repair.ErrRefused) || !reflect.DeepEqual(de.Dependents, []string{"app"}) {
		t.Fatalf("delete of a depended-on record: %v, want a refusal naming app", err)
	}
	if !strings.Contains(err.Error(), "app") {
		t.Errorf("refusal does not say which record depends on it: %v", err)
	}
	p, err := e.eng.PlanDelete(e.ctx, "vpc-main", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Notes) == 0 {
		t.Error("a forced delete carries no note about its dependents")
	}
	res, err := e.eng.Apply(e.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	e.assertAbsent(t, "vpc-main")
	e.assertRecord(t, app)
	e.checkBackup(t, res.Backup, p.Seen, repair.ActionDelete)
	e.lastAudit(t, repair.ActionDelete, "vpc-main", audit.ResultApplied)
	e.noLock(t, "vpc-main")

	p, err = e.eng.PlanDelete(e.ctx, "app", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Apply(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	e.assertAbsent(t, "app")
	if _, err := e.eng.PlanDelete(e.ctx, "app", false); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("delete of a missing record: %v, want ErrNotFound", err)
	}
}

func restore(t *testing.T, e *env) {
	orig := Record("cache")
	e.put(t, orig)
	if _, _, err := e.eng.PlanRestore(e.ctx, orig.ResourceID, ""); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("restore without backups: %v, want ErrNotFound", err)
	}
	p, err := e.eng.PlanSetStatus(e.ctx, orig.ResourceID, stores.StatusDestroyed, "")
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.eng.Apply(e.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	rp, chosen, err := e.eng.PlanRestore(e.ctx, orig.ResourceID, "")
	if err != nil {
		t.Fatal(err)
	}
	if chosen.Path != first.Backup {
		t.Errorf("restore chose %s, want the newest backup %s", chosen.Path, first.Backup)
	}
	if !strings.Contains(rp.Diff(), "destroyed") {
		t.Errorf("restore diff does not show the status going back:\n%s", rp.Diff())
	}
	if _, err := e.eng.Apply(e.ctx, rp); err != nil {
		t.Fatal(err)
	}
	e.assertRecord(t, orig)
	e.lastAudit(t, repair.ActionRestore, orig.ResourceID, audit.ResultApplied)
	if _, _, err := e.eng.PlanRestore(e.ctx, orig.ResourceID, filepath.Base(first.Backup)); !e.h.ServerTimestamps && !errors.Is(err, repair.ErrNoChange) {
		t.Errorf("restoring the backup the record already equals: %v, want ErrNoChange", err)
	}

	// A deleted record comes back from the backup its delete took.
	dp, err := e.eng.PlanDelete(e.ctx, orig.ResourceID, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Apply(e.ctx, dp); err != nil {
		t.Fatal(err)
	}
	rp, _, err = e.eng.PlanRestore(e.ctx, orig.ResourceID, "")
	if err != nil {
		t.Fatal(err)
	}
	if res, err := e.eng.Apply(e.ctx, rp); err != nil || res.Backup != "" {
		t.Fatalf("restoring a deleted record: backup %q, %v", res.Backup, err)
	}
	e.assertRecord(t, orig)
	list, err := e.eng.RecordBackups(orig.ResourceID)
	if err != nil || len(list) != 3 {
		t.Errorf("backups: %d, %v; want 3 (set-status, restore, delete)", len(list), err)
	}
}

// planRestoreDeleted deletes id through the engine and plans bringing it
// back from the backup the delete took.
func planRestoreDeleted(t *testing.T, e *env, id string) *repair.Plan {
	t.Helper()
	dp, err := e.eng.PlanDelete(e.ctx, id, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Apply(e.ctx, dp); err != nil {
		t.Fatal(err)
	}
	p, _, err := e.eng.PlanRestore(e.ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Seen.Exists {
		t.Fatalf("%s still exists after its delete", id)
	}
	return p
}

// restoreDeleted: the store's backups list a deleted record as deleted
// and one still there as differing or the same as its newest backup; the
// deleted one comes back from its backup, created only where no record is.
func restoreDeleted(t *testing.T, e *env) {
	gone, kept := Record("gone"), Record("kept")
	e.put(t, gone)
	e.put(t, kept)
	sp, err := e.eng.PlanSetStatus(e.ctx, kept.ResourceID, stores.StatusDestroyed, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Apply(e.ctx, sp); err != nil {
		t.Fatal(err)
	}
	e.eng.Now = func() time.Time { return time.Now().Add(time.Second) } // the delete is the newest backup
	rp := planRestoreDeleted(t, e, gone.ResourceID)
	all, err := e.eng.StoreBackups(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]repair.RecordNow{}
	var order []string
	for _, b := range all {
		got[b.ID] = b.Now
		order = append(order, b.ID)
		if len(b.Backups) != 1 {
			t.Errorf("%s: %d backups, want 1", b.ID, len(b.Backups))
		}
	}
	if strings.Join(order, ",") != "gone,kept" || got["gone"] != repair.NowDeleted || got["kept"] != repair.NowDiffers {
		t.Fatalf("store backups %v %v, want gone deleted (newest first), then kept differs", order, got)
	}
	if !strings.Contains(rp.Diff(), "(absent)") {
		t.Errorf("the restore's diff does not say there is no record now:\n%s", rp.Diff())
	}
	res, err := e.eng.Apply(e.ctx, rp)
	if err != nil || res.Backup != "" {
		t.Fatalf("restoring a deleted record: backup %q, %v", res.Backup, err)
	}
	e.assertRecord(t, gone)
	e.lastAudit(t, repair.ActionRestore, gone.ResourceID, audit.ResultApplied)
	if e.h.ServerTimestamps {
		return
	}
	all, err = e.eng.StoreBackups(e.ctx)
	if err != nil || len(all) != 2 || all[0].Now != repair.NowSame {
		t.Errorf("after the restore: %+v, %v; want gone the same as its backup", all, err)
	}
}

func exportImport(t *testing.T, e *env) {
	recs := []*stores.State{Record("a"), Record("b/with/slashes"), Record("c")}
	recs[2].Outputs, recs[2].Config = nil, map[string]any{}
	for _, r := range recs {
		e.put(t, r)
	}
	doc, err := e.eng.Export(e.ctx, "statescope test")
	if err != nil {
		t.Fatal(err)
	}
	if doc.Source != e.target || doc.ExportedAt == "" || doc.Tool != "statescope test" || len(doc.Records) != len(recs) {
		t.Fatalf("snapshot metadata %q %q %q, %d records", doc.Source, doc.ExportedAt, doc.Tool, len(doc.Records))
	}

	// Into a fresh store: every record is created.
	dst := newEnv(t, e.h, e.wrap)
	plans, skips, err := dst.eng.PlanImport(dst.ctx, doc, false)
	if err != nil || len(plans) != len(recs) || len(skips) != 0 {
		t.Fatalf("import into an empty store: %d plans, skips %v, %v", len(plans), skips, err)
	}
	for _, p := range plans {
		if res, err := dst.eng.Apply(dst.ctx, p); err != nil || res.Backup != "" {
			t.Fatalf("import %s: backup %q, %v", p.ID, res.Backup, err)
		}
	}
	for _, r := range recs {
		dst.assertRecord(t, r)
	}
	dst.lastAudit(t, repair.ActionImport, "c", audit.ResultApplied)
	if e.h.ServerTimestamps {
		return
	}

	// Back into the source, where "a" is now newer and "c" older.
	newer := Record("a")
	newer.UpdatedAt, newer.Status = "2027-01-01T00:00:00Z", stores.StatusDestroyed
	older := Record("c")
	older.UpdatedAt, older.Status = "2020-01-01T00:00:00Z", stores.StatusPlanned
	e.put(t, newer)
	e.put(t, older)
	plans, skips, err = e.eng.PlanImport(e.ctx, doc, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 1 || plans[0].ID != "c" {
		t.Fatalf("import plans %v, want only c", planIDs(plans))
	}
	want := map[string]bool{"a": true, "b/with/slashes": false}
	if len(skips) != len(want) {
		t.Fatalf("skips %+v, want a (newer) and b (identical)", skips)
	}
	for _, s := range skips {
		if refused, ok := want[s.ID]; !ok || s.Refused != refused || s.Reason == "" {
			t.Errorf("skip %+v unexpected", s)
		}
	}
	if _, err := e.eng.Apply(e.ctx, plans[0]); err != nil {
		t.Fatal(err)
	}
	e.assertRecord(t, recs[2])
	e.assertRecord(t, newer)

	plans, _, err = e.eng.PlanImport(e.ctx, doc, true)
	if err != nil || len(plans) != 1 || plans[0].ID != "a" || len(plans[0].Notes) == 0 {
		t.Fatalf("forced import: plans %v, %v; want a with a note", planIDs(plans), err)
	}
	res, err := e.eng.Apply(e.ctx, plans[0])
	if err != nil {
		t.Fatal(err)
	}
	e.assertRecord(t, recs[0])
	if _, data, err := backup.Read(res.Backup); err != nil || !strings.Contains(string(data), "destroyed") {
		t.Errorf("the overwritten newer record is not in its backup: %v", err)
	}
}

func planIDs(ps []*repair.Plan) []string {
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}

// otherWriter is a concurrent writer's change to id.
func otherWriter(id string) *stores.State {
	s := Record(id)
	s.Status, s.UpdatedAt = stores.StatusProvisioning, "2026-06-01T00:00:00Z"
	s.Outputs["written_by"] = "workflow"
	return s
}

// plansFor makes one plan of each record-changing action on id.
func plansFor(t *testing.T, e *env, id string) map[string]*repair.Plan {
	t.Helper()
	ss, err := e.eng.PlanSetStatus(e.ctx, id, stores.StatusError, "x")
	if err != nil {
		t.Fatal(err)
	}
	edited := ss.Seen.State.Clone()
	edited.ProviderID = "edited"
	ed, err := e.eng.PlanEdit(ss.Seen, edited)
	if err != nil {
		t.Fatal(err)
	}
	del, err := e.eng.PlanDelete(e.ctx, id, false)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*repair.Plan{"set-status": ss, "edit": ed, "delete": del}
}

func assertConflict(t *testing.T, err error) {
	t.Helper()
	var ce *repair.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, repair.ErrRefused) || !errors.Is(err, stores.ErrConflict) {
		t.Fatalf("apply over a concurrent change: %v, want a ConflictError", err)
	}
	x := ce.Explain()
	for _, s := range []string{"what you saw", "what is there now", "what you wanted", "provisioning"} {
		if !strings.Contains(x, s) {
			t.Errorf("three-way explanation lacks %q:\n%s", s, x)
		}
	}
}

// changedBeforeApply: the record changes after the user saw it and before
// Apply starts; changedDuringApply: it changes between Apply's read and
// its write. Both must refuse and leave the other writer's change.
func changedBeforeApply(t *testing.T, e *env) { changed(t, e, false) }
func changedDuringApply(t *testing.T, e *env) { changed(t, e, true) }

func changed(t *testing.T, e *env, during bool) {
	for _, name := range []string{"set-status", "edit", "delete", "restore-deleted"} {
		t.Run(name, func(t *testing.T) {
			e.put(t, Record("r"))
			var p *repair.Plan
			if name == "restore-deleted" {
				p = planRestoreDeleted(t, e, "r")
			} else {
				p = plansFor(t, e, "r")[name]
			}
			theirs := otherWriter("r")
			eng := e.eng
			if during {
				eng = e.engineOn(Interfere(e.store, func(ctx context.Context) {
					if err := e.raw.Save(ctx, theirs); err != nil {
						t.Error(err)
					}
				}))
			} else {
				e.put(t, theirs)
			}
			res, err := eng.Apply(e.ctx, p)
			assertConflict(t, err)
			e.assertRecord(t, theirs)
			e.noLock(t, "r")
			if during && p.Seen.Exists && res.Backup == "" {
				t.Error("no backup of the record read before the refusal")
			}
			if !p.Seen.Exists && !strings.Contains(err.Error(), "was created") {
				t.Errorf("the refusal does not say the record was created meanwhile: %v", err)
			}
			e.lastAudit(t, p.Action, "r", audit.ResultRefused)
		})
	}
}

func locked(t *testing.T, e *env) {
	orig := Record("busy")
	e.put(t, orig)
	p, err := e.eng.PlanSetStatus(e.ctx, orig.ResourceID, stores.StatusActive, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := stores.LockFor(e.ctx, e.raw, orig.ResourceID, "apply"); err != nil {
		t.Fatal(err)
	}
	_, err = e.eng.Apply(e.ctx, p)
	var le *repair.LockedError
	if !errors.As(err, &le) || !errors.Is(err, repair.ErrRefused) || !errors.Is(err, stores.ErrLocked) {
		t.Fatalf("apply while locked: %v, want a LockedError", err)
	}
	if e.h.Capabilities.Has(storetest.LockInventory) && (le.Lock == nil || le.Lock.Holder == nil) {
		t.Errorf("refusal does not show the holder from the inventory: %v", err)
	}
	// The operation is known only where the store records who locks
	// (workflow's Lock RPC carries just the resource ID).
	if e.h.Capabilities.Has(storetest.LockHolders) && !strings.Contains(err.Error(), "(apply)") {
		t.Errorf("refusal does not name the holder's operation: %v", err)
	}
	e.assertRecord(t, orig)
	e.lastAudit(t, repair.ActionSetStatus, orig.ResourceID, audit.ResultRefused)
	if err := e.raw.Unlock(e.ctx, orig.ResourceID); err != nil {
		t.Errorf("the holder's lock was disturbed: %v", err)
	}
}

func forceRelease(t *testing.T, e *env) {
	e.h.Capabilities.Need(t, storetest.LockInventory)
	const id = "stuck"
	e.put(t, Record(id))
	if err := stores.LockFor(e.ctx, e.raw, id, "apply"); err != nil {
		t.Fatal(err)
	}
	p, err := e.eng.PlanRelease(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// The lock changes hands between showing it and releasing it.
	if err := e.raw.Unlock(e.ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := stores.LockFor(e.ctx, e.raw, id, "destroy"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.ApplyRelease(e.ctx, p); !errors.Is(err, stores.ErrLockChanged) || !errors.Is(err, repair.ErrRefused) {
		t.Fatalf("release of a lock that changed hands: %v, want ErrLockChanged", err)
	}
	e.lastAudit(t, repair.ActionRelease, id, audit.ResultRefused)
	if err := e.raw.Lock(e.ctx, id); !errors.Is(err, stores.ErrLocked) {
		t.Fatalf("the new holder's lock was released: %v", err)
	}

	p, err = e.eng.PlanRelease(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.eng.ApplyRelease(e.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	e.noLock(t, id)
	b, data, err := backup.Read(res.Backup)
	if err != nil || b.Meta.Kind != backup.KindLock || !bytes.Equal(data, repair.LockBytes(p.Lock)) {
		t.Errorf("lock backup %+v, %v", b.Meta, err)
	}
	checkPrivate(t, e.dir, res.Backup)
	e.lastAudit(t, repair.ActionRelease, id, audit.ResultApplied)
	if _, err := e.eng.ApplyRelease(e.ctx, p); !errors.Is(err, stores.ErrNotLocked) {
		t.Errorf("releasing a released lock: %v, want ErrNotLocked", err)
	}
	if _, err := e.eng.PlanRelease(e.ctx, id); !errors.Is(err, stores.ErrNotLocked) {
		t.Errorf("planning to release no lock: %v, want ErrNotLocked", err)
	}
	e.assertRecord(t, Record(id))
}

func readOnly(t *testing.T, e *env) {
	const id = "ro"
	e.put(t, Record(id))
	// A backup to restore from, written directly so nothing is audited.
	raw, err := stores.EncodeState(Record(id))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Backups.Write(backup.Meta{Target: e.target, ResourceID: id, Kind: backup.KindRecord, Action: "set-status", Time: time.Now()}, raw); err != nil {
		t.Fatal(err)
	}
	now := Record(id)
	now.Status = stores.StatusDestroyed
	e.put(t, now)
	plans := plansFor(t, e, id)
	rp, _, err := e.eng.PlanRestore(e.ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	ip, _, err := e.eng.PlanImport(e.ctx, &snapshot.Document{Records: []snapshot.Record{{ResourceID: "ro-new", State: Record("ro-new")}}}, false)
	if err != nil || len(ip) != 1 {
		t.Fatalf("import plan: %v", err)
	}
	plans["restore"], plans["import"] = rp, ip[0]
	if err := e.raw.Lock(e.ctx, "held"); err != nil {
		t.Fatal(err)
	}
	backupsBefore := countFiles(t, filepath.Join(e.dir, "backups"))

	ro := e.engineOn(stores.ReadOnly(e.store))
	for name, p := range plans {
		if _, err := ro.Apply(e.ctx, p); !errors.Is(err, stores.ErrReadOnly) {
			t.Errorf("%s on a read-only store: %v, want ErrReadOnly", name, err)
		}
	}
	if _, err := ro.ApplyRelease(e.ctx, &repair.ReleasePlan{Lock: stores.LockInfo{ResourceID: "held", Token: "t"}}); !errors.Is(err, stores.ErrReadOnly) {
		t.Errorf("force release on a read-only store: %v, want ErrReadOnly", err)
	}
	e.assertRecord(t, now)
	e.assertAbsent(t, "ro-new")
	if err := e.raw.Unlock(e.ctx, "held"); err != nil {
		t.Errorf("read-only release touched the lock: %v", err)
	}
	if n := countFiles(t, filepath.Join(e.dir, "backups")); n != backupsBefore {
		t.Errorf("read-only attempts wrote %d backup files", n-backupsBefore)
	}
	if _, err := os.Stat(e.eng.Audit.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read-only attempts wrote the audit log (%v)", err)
	}
}

func countFiles(t *testing.T, root string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Secret values planted in a record; none may appear in any diff, message
// or audit line.
var secretValues = []string{"hunter2-output-secret", "s3cr3t-in-url", "cfg-api-key-value", "rotated-password-value"}

func secretRecord(id string) *stores.State {
	s := Record(id)
	s.Outputs["password"] = secretValues[0]
	s.Outputs["url"] = "postgres://app:" + secretValues[1] + "@db.internal:5432/app"
	s.Config["api_key"] = secretValues[2]
	return s
}

func secrets(t *testing.T, e *env) {
	const id = "secret-db"
	var said []string
	note := func(err error, texts ...string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		said = append(said, texts...)
	}
	e.put(t, secretRecord(id))
	p, err := e.eng.PlanSetStatus(e.ctx, id, stores.StatusError, "failed")
	note(err, p.Diff())
	res, err := e.eng.Apply(e.ctx, p)
	note(err)
	checkPrivate(t, e.dir, res.Backup)

	seen, err := e.eng.Observe(e.ctx, id)
	note(err)
	edited := seen.State.Clone()
	edited.Outputs["password"] = secretValues[3]
	p, err = e.eng.PlanEdit(seen, edited)
	note(err, p.Diff())
	if !strings.Contains(p.Diff(), "(changed)") {
		t.Errorf("the diff hides that a secret changes:\n%s", p.Diff())
	}
	_, err = e.eng.Apply(e.ctx, p)
	note(err)

	// A conflict's explanation masks secrets too.
	p, err = e.eng.PlanSetStatus(e.ctx, id, stores.StatusActive, "")
	note(err)
	e.put(t, secretRecord(id))
	_, err = e.eng.Apply(e.ctx, p)
	var ce *repair.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("want a conflict, got %v", err)
	}
	said = append(said, err.Error(), ce.Explain())

	rp, _, err := e.eng.PlanRestore(e.ctx, id, "")
	note(err, rp.Diff())
	_, err = e.eng.Apply(e.ctx, rp)
	note(err)

	doc, err := e.eng.Export(e.ctx, "test")
	note(err)
	dp, err := e.eng.PlanDelete(e.ctx, id, false)
	note(err, dp.Diff())
	_, err = e.eng.Apply(e.ctx, dp)
	note(err)
	plans, _, err := e.eng.PlanImport(e.ctx, doc, false)
	note(err)
	for _, p := range plans {
		_, err := e.eng.Apply(e.ctx, p)
		note(err, p.Diff())
	}

	logData, err := os.ReadFile(e.eng.Audit.Path)
	note(err)
	said = append(said, string(logData))
	for _, text := range said {
		for _, v := range secretValues {
			if strings.Contains(text, v) {
				t.Errorf("secret %q leaked into:\n%s", v, text)
			}
		}
	}
	fi, err := os.Stat(e.eng.Audit.Path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v, %v; want 0600", modeOf(fi), err)
	}
}

func exportCorrupt(t *testing.T, e *env) {
	e.h.Capabilities.Need(t, storetest.CorruptRecords)
	e.put(t, Record("good"))
	e.h.Corrupt(t, e.raw, "broken")
	doc, err := e.eng.Export(e.ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	var badRaw []byte
	found := false
	for _, r := range doc.Records {
		if r.ResourceID == "broken" {
			if r.Corrupt == "" || r.State != nil {
				t.Errorf("unreadable record exported as %+v", r)
			}
			if e.h.CorruptRaw && len(r.Raw) == 0 || !e.h.CorruptRaw && len(r.Raw) == 0 && r.RawMissing == "" {
				t.Errorf("unreadable record's bytes: raw %q, missing %q", r.Raw, r.RawMissing)
			}
			badRaw, found = r.Raw, true
		}
	}
	if !found {
		t.Fatalf("export dropped the unreadable record: %+v", doc.Records)
	}
	// The snapshot survives a round trip through JSON with the bytes intact.
	enc, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Records []struct {
			ResourceID string `json:"resource_id"`
			Raw        []byte `json:"raw_base64"`
		} `json:"records"`
	}
	if err := json.Unmarshal(enc, &back); err != nil {
		t.Fatal(err)
	}
	for _, r := range back.Records {
		if r.ResourceID == "broken" && !bytes.Equal(r.Raw, badRaw) {
			t.Errorf("raw bytes changed in the snapshot: %q vs %q", r.Raw, badRaw)
		}
	}
	dst := newEnv(t, e.h, e.wrap)
	plans, skips, err := dst.eng.PlanImport(dst.ctx, doc, true)
	if err != nil || len(plans) != 1 || len(skips) != 1 || skips[0].ID != "broken" || !skips[0].Refused {
		t.Errorf("import of a snapshot with an unreadable record: plans %v skips %+v, %v", planIDs(plans), skips, err)
	}
}

// unreadable: a record that cannot be decoded is never changed field by
// field; where the backend hands out its bytes it can be restored over or
// deleted after they are backed up, elsewhere every change refuses.
func unreadable(t *testing.T, e *env) {
	e.h.Capabilities.Need(t, storetest.CorruptRecords)
	const id = "broken"
	e.put(t, Record(id))
	p, err := e.eng.PlanSetStatus(e.ctx, id, stores.StatusDestroyed, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Apply(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	e.h.Corrupt(t, e.raw, id)
	if _, err := e.eng.PlanSetStatus(e.ctx, id, stores.StatusActive, ""); !errors.Is(err, stores.ErrCorrupt) {
		t.Errorf("set-status of an unreadable record: %v, want ErrCorrupt", err)
	}
	seen, err := e.eng.Observe(e.ctx, id)
	if err != nil {
		if !errors.Is(err, stores.ErrCorrupt) {
			t.Fatalf("observe an unreadable record: %v", err)
		}
		if _, err := e.eng.PlanDelete(e.ctx, id, false); !errors.Is(err, stores.ErrCorrupt) {
			t.Errorf("delete without its bytes to back up: %v, want ErrCorrupt", err)
		}
		if _, _, err := e.eng.PlanRestore(e.ctx, id, ""); !errors.Is(err, stores.ErrCorrupt) {
			t.Errorf("restore without its bytes to back up: %v, want ErrCorrupt", err)
		}
		return
	}
	if seen.Corrupt == "" || seen.State != nil || len(seen.Raw) == 0 || seen.Editable() == nil {
		t.Fatalf("observed unreadable record: %+v", seen)
	}
	rp, _, err := e.eng.PlanRestore(e.ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rp.Diff(), "unreadable") {
		t.Errorf("restore diff does not say it replaces an unreadable record:\n%s", rp.Diff())
	}
	res, err := e.eng.Apply(e.ctx, rp)
	if err != nil {
		t.Fatal(err)
	}
	e.assertRecord(t, Record(id))
	e.checkBackup(t, res.Backup, seen, repair.ActionRestore)

	e.h.Corrupt(t, e.raw, id)
	dp, err := e.eng.PlanDelete(e.ctx, id, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Apply(e.ctx, dp); err != nil {
		t.Fatal(err)
	}
	if entries, err := e.raw.List(e.ctx, stores.Filter{}); err != nil || len(entries) != 0 {
		t.Errorf("after deleting the unreadable record: %+v, %v", entries, err)
	}
}

// editUnreadable: where the backend hands out an unreadable record's
// bytes, edit opens them as text and writes the fixed text exactly as
// saved, after backing up the corrupt bytes; elsewhere it refuses and
// says why.
func editUnreadable(t *testing.T, e *env) {
	e.h.Capabilities.Need(t, storetest.CorruptRecords)
	const id = "broken"
	e.put(t, Record(id)) // PostgreSQL's table is made by the first save
	e.h.Corrupt(t, e.raw, id)
	seen, err := e.eng.ObserveEdit(e.ctx, id)
	if err != nil {
		if !errors.Is(err, stores.ErrCorrupt) || !strings.Contains(err.Error(), "cannot be edited") {
			t.Fatalf("edit of an unreadable record without its bytes: %v, want ErrCorrupt saying why", err)
		}
		if e.h.CorruptRaw {
			t.Errorf("the backend hands out the record's bytes, yet the edit is refused: %v", err)
		}
		return
	}
	if seen.Corrupt == "" || len(seen.Raw) == 0 {
		t.Fatalf("observed for edit: %+v, want the unreadable bytes", seen)
	}
	text, err := stores.EncodeState(Record(id))
	if err != nil {
		t.Fatal(err)
	}
	fixed := string(text) + "\n"
	cmd, shown := EditorScript(t, fixed)
	edited, err := e.eng.EditRecord(e.ctx, cmd, strings.NewReader(""), io.Discard, io.Discard, seen)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(shown); !bytes.Contains(got, seen.Raw) {
		t.Errorf("the editor was not shown the stored bytes %q:\n%s", seen.Raw, got)
	}
	p, err := e.eng.PlanEdit(seen, edited)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.eng.Apply(e.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	e.checkBackup(t, res.Backup, seen, repair.ActionEdit)
	e.lastAudit(t, repair.ActionEdit, id, audit.ResultApplied)
	e.assertRecord(t, Record(id))
	if after, err := e.eng.Observe(e.ctx, id); err != nil || string(after.Raw) != fixed {
		t.Errorf("stored after the edit: %q (%v), want the saved text exactly", after.Raw, err)
	}
}

// FutureRecord is a record for id laid out as wfctl writes it (config
// before outputs), with a field statescope does not know (holding a
// secret), a number written 1.50, a '<' the engine would escape, and a
// trailing newline: what a write must keep byte for byte.
func FutureRecord(id string) string {
	return `{
  "resource_id": "` + id + `",
  "resource_type": "infra.cache",
  "provider": "aws",
  "status": "provisioning",
  "config": {"size": 1.50, "note": "<b>"},
  "outputs": {"zeta": "z", "alpha": "a"},
  "future_field": {"nested": [1, 2.0], "rotation": "weekly", "api_key": "future-secret-1"},
  "created_at": "2026-01-01T00:00:00Z",
  "updated_at": "2026-01-02T00:00:00Z"
}
`
}

// keepsBytes: every write changes only the fields the action changes;
// backups, their hashes and restores are the stored bytes exactly.
func keepsBytes(t *testing.T, e *env) {
	if e.h.Plant == nil {
		t.Skip("this backend stores no record bytes")
	}
	keptRecord := FutureRecord("kept")
	e.h.Plant(t, e.raw, "kept", []byte(keptRecord))
	stored := func() string {
		t.Helper()
		o, err := e.eng.Observe(e.ctx, "kept")
		if err != nil || o.SHA256 != backup.SHA256(o.Raw) {
			t.Fatalf("observe: %v, sha %s", err, o.SHA256)
		}
		return string(o.Raw)
	}
	if got := stored(); got != keptRecord {
		t.Fatalf("read as\n%s", got)
	}
	e.eng.Now = func() time.Time { return time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC) }
	p, err := e.eng.PlanSetStatus(e.ctx, "kept", stores.StatusActive, "the deploy finished")
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.eng.Apply(e.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.NewReplacer(`"status": "provisioning"`, `"status": "active"`,
		`"updated_at": "2026-01-02T00:00:00Z"`, `"updated_at": "2026-03-03T00:00:00Z"`).Replace(keptRecord)
	if got := stored(); got != want {
		t.Errorf("set-status wrote\n%s\nwant\n%s", got, want)
	}
	_, data, err := backup.Read(res.Backup)
	if err != nil || string(data) != keptRecord || res.Before != backup.SHA256([]byte(keptRecord)) {
		t.Errorf("backup %q (%v), before %s: want the stored bytes and their sha256", data, err, res.Before)
	}
	if a := e.lastAudit(t, repair.ActionSetStatus, "kept", audit.ResultApplied); a.Before != backup.SHA256([]byte(keptRecord)) || a.Reason != "the deploy finished" {
		t.Errorf("audit entry %+v: want the stored bytes' sha256 and the reason", a)
	}

	seen, err := e.eng.Observe(e.ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(want, `"provider": "aws"`, `"provider": "aws", "provider_id": "c-1"`, 1)
	edited, err := repair.ParseEdited(seen.State, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	ep, err := e.eng.PlanEdit(seen, edited)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Apply(e.ctx, ep); err != nil {
		t.Fatal(err)
	}
	if got := stored(); got != strings.Replace(want, `"provider": "aws",`, `"provider": "aws",`+"\n  "+`"provider_id": "c-1",`, 1) {
		t.Errorf("edit wrote\n%s", got)
	}

	// Another writer lays the record out its own way; the restore still
	// puts the backup's bytes back.
	now, err := e.eng.Observe(e.ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	relaid, _ := json.Marshal(now.State.Outputs)
	e.h.Plant(t, e.raw, "kept", append(append([]byte(`{"outputs":`), relaid...), []byte(","+strings.TrimPrefix(stored(), "{"))...))
	rp, _, err := e.eng.PlanRestore(e.ctx, "kept", filepath.Base(res.Backup))
	if err != nil {
		t.Fatal(err)
	}
	rres, err := e.eng.Apply(e.ctx, rp)
	if err != nil {
		t.Fatal(err)
	}
	if got := stored(); got != keptRecord || rres.After != backup.SHA256([]byte(keptRecord)) {
		t.Errorf("restore wrote\n%s\n(sha256 %s): want the backup's bytes", got, rres.After)
	}
}
