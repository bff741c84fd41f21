package repair_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/memory"
	"statescope/stores/repair"
	"statescope/stores/repair/backup"
	"statescope/stores/repair/snapshot"
)

// exported is the snapshot record exported from source, by file name.
func exported(t *testing.T, doc *snapshot.Document, name string) snapshot.Record {
	t.Helper()
	for _, r := range doc.Records {
		if filepath.Base(r.Source) == name {
			return r
		}
	}
	t.Fatalf("no record from %s exported: %+v", name, doc.Records)
	return snapshot.Record{}
}

// An export keeps an unreadable record's bytes with their hash where the
// store has them, and where it has none (a FIFO, never read; a backend
// that cannot hand them out) says why, with no hash of nothing.
func TestExportUnreadableRecords(t *testing.T) {
	dir := t.TempDir()
	garbled := []byte(`{"resource_id": "broken", `)
	if err := os.WriteFile(filepath.Join(dir, "broken.json"), garbled, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs, err := filesystem.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := repair.New(fs, "file://"+dir, t.TempDir()).Export(t.Context(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if r := exported(t, doc, "broken.json"); string(r.Raw) != string(garbled) || r.SHA256 != backup.SHA256(garbled) || r.RawMissing != "" {
		t.Errorf("a garbled file: raw %q, sha %q, missing %q", r.Raw, r.SHA256, r.RawMissing)
	}
	if r := exported(t, doc, "pipe.json"); r.Raw != nil || r.SHA256 != "" || !strings.HasPrefix(r.RawMissing, "reading "+filepath.Join(dir, "pipe.json")+": ") {
		t.Errorf("a FIFO: raw %q, sha %q, missing %q", r.Raw, r.SHA256, r.RawMissing)
	}

	mem := memory.New()
	mem.PutRaw("ghost", []byte("{"))
	doc, err = repair.New(mem, "mem://", t.TempDir()).Export(t.Context(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Records) != 1 || doc.Records[0].SHA256 != "" || !strings.Contains(doc.Records[0].RawMissing, "does not hand out the bytes") {
		t.Errorf("a backend without the bytes: %+v", doc.Records)
	}
}

// A snapshot naming a record twice imports the first, as the skip says.
func TestImportDuplicateTakesTheFirst(t *testing.T) {
	doc := &snapshot.Document{Records: []snapshot.Record{
		{ResourceID: "db", State: &stores.State{ResourceID: "db", Status: stores.StatusActive}},
		{ResourceID: "db", State: &stores.State{ResourceID: "db", Status: stores.StatusError, Error: "second"}},
	}}
	plans, skips, err := repair.New(memory.New(), "mem://", t.TempDir()).PlanImport(t.Context(), doc, false)
	if err != nil || len(plans) != 1 || len(skips) != 1 {
		t.Fatalf("plans %v, skips %v, %v", plans, skips, err)
	}
	if plans[0].Want.Status != stores.StatusActive || !strings.Contains(skips[0].Reason, "only the first is imported") {
		t.Errorf("imported %+v, skipped %q", plans[0].Want, skips[0].Reason)
	}
}

// An edited record may leave out outputs and config altogether.
func TestParseEditedWithoutOutputsOrConfig(t *testing.T) {
	orig := &stores.State{ResourceID: "db", Status: stores.StatusActive, UpdatedAt: "2026-01-01T00:00:00Z"}
	st, err := repair.ParseEdited(orig, []byte(`{"resource_id": "db", "status": "active", "updated_at": "2026-01-01T00:00:00Z"}`))
	if err != nil || st.ResourceID != "db" {
		t.Errorf("got %+v, %v", st, err)
	}
}

// A syntax error names the line and column of the offending character,
// or of the end of the input when it stops short.
func TestParseEditedNamesWhere(t *testing.T) {
	orig := &stores.State{ResourceID: "db"}
	for data, want := range map[string]string{
		"":                               "invalid JSON at line 1, column 1: unexpected end",
		`{"a": x}`:                       "invalid JSON at line 1, column 7: invalid character 'x'",
		"{\n  \"status\": x\n}":          "invalid JSON at line 2, column 13: invalid character 'x'",
		"{\n  \"status\": \"active\",\n": "invalid JSON at line 3, column 1: unexpected end",
	} {
		if _, err := repair.ParseEdited(orig, []byte(data)); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: %v, want %s…", data, err, want)
		}
	}
}
