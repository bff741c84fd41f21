package repair_test

import (
	"strings"
	"testing"

	"statescope/stores"
	"statescope/stores/memory"
	"statescope/stores/repair"
)

// A restore plan says what the confirmation must not hide — the record
// is gone and will be recreated, the backup came from another store —
// and nothing when neither is so.
func TestRestorePlanNotes(t *testing.T) {
	ctx, dir := t.Context(), t.TempDir()
	s := memory.New()
	if err := s.Save(ctx, &stores.State{ResourceID: "db", Status: stores.StatusActive}); err != nil {
		t.Fatal(err)
	}
	eng := repair.New(s, "mem://a", dir)
	p, err := eng.PlanSetStatus(ctx, "db", stores.StatusError, "broken")
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Apply(ctx, p)
	if err != nil || res.Backup == "" {
		t.Fatalf("set-status: backup %q, %v", res.Backup, err)
	}
	notes := func(eng *repair.Engine, path string) string {
		t.Helper()
		p, _, err := eng.PlanRestore(ctx, "db", path)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(p.Notes, "\n")
	}

	if got := notes(eng, ""); got != "" {
		t.Errorf("restore over the record, from this store: notes %q, want none", got)
	}
	if got := notes(repair.New(s, "mem://b", dir), res.Backup); !strings.Contains(got, "taken from another store, mem://a") || strings.Contains(got, "does not exist") {
		t.Errorf("restore of another store's backup: notes %q", got)
	}
	if err := s.Delete(ctx, "db"); err != nil {
		t.Fatal(err)
	}
	if got := notes(eng, res.Backup); !strings.Contains(got, "db does not exist now; the restore recreates it") || strings.Contains(got, "another store") {
		t.Errorf("restore of a deleted record: notes %q", got)
	}
}

// Pin compares the whole hash: "sha256:" with nothing after it pins a hash
// no record has, even an absent one (whose hash is "").
func TestPinEmptyHashAfterPrefix(t *testing.T) {
	absent := repair.Observed{ID: "db"}
	if err := absent.Pin("sha256:"); err == nil {
		t.Error(`Pin("sha256:") accepted an absent record`)
	}
	present := repair.Observed{ID: "db", Exists: true, SHA256: strings.Repeat("a", 64)}
	if err := present.Pin("sha256:" + present.SHA256); err != nil {
		t.Errorf("the record's own hash with the prefix: %v", err)
	}
	if err := present.Pin(present.SHA256[:12]); err == nil {
		t.Error("a shortened hash pinned the record")
	}
}

// Masked diffs compare lists element by element: a secret rotated inside
// a list of objects is marked changed, and lists of different lengths are
// masked whole rather than paired.
func TestDiffMasksInsideLists(t *testing.T) {
	users := func(pw ...string) []any {
		out := []any{}
		for _, p := range pw {
			out = append(out, map[string]any{"name": "app", "password": p})
		}
		return out
	}
	before := &stores.State{ResourceID: "db", Status: "active", Outputs: map[string]any{"users": users("old-secret-1")}}
	after := &stores.State{ResourceID: "db", Status: "active", Outputs: map[string]any{"users": users("new-secret-2")}}
	diff := repair.Diff("a", "b", before, after)
	if strings.Contains(diff, "secret-") || !strings.Contains(diff, "(changed)") {
		t.Errorf("a password rotated inside a list:\n%s", diff)
	}

	grown := &stores.State{ResourceID: "db", Status: "active", Outputs: map[string]any{"users": users("old-secret-1", "new-secret-2")}}
	for _, pair := range [][2]*stores.State{{before, grown}, {grown, before}} {
		diff := repair.Diff("a", "b", pair[0], pair[1])
		if strings.Contains(diff, "secret-") || !strings.Contains(diff, `"name": "app"`) {
			t.Errorf("a list that changes length:\n%s", diff)
		}
	}
}
