package repair_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/memory"
	"statescope/stores/repair"
	"statescope/stores/repair/audit"
	"statescope/stores/repair/backup"
	"statescope/stores/repair/editor"
	"statescope/stores/repair/repairtest"
)

// truncated is a record a crash cut off mid-write, a secret included.
const truncated = `{
  "resource_id": "prod/cache",
  "resource_type": "infra.cache",
  "provider": "aws",
  "status": "active",
  "outputs": {
    "endpoint": "cache.example.com",
    "auth_tok`

// fixed is truncated completed by hand, with a field statescope does not
// know that the corrupt text already had.
const fixed = `{
  "resource_id": "prod/cache",
  "resource_type": "infra.cache",
  "provider": "aws",
  "status": "active",
  "outputs": {
    "endpoint": "cache.example.com",
    "auth_token": "s3cr3t"
  },
  "config": {},
  "created_at": "2026-01-01T00:00:00Z",
  "updated_at": "2026-01-02T00:00:00Z"
}
`

// TestEditUnreadable: `edit` on a record that does not parse opens its
// stored bytes as text; a valid save replaces them exactly as saved,
// after backing up the corrupt bytes; anything else writes nothing.
func TestEditUnreadable(t *testing.T) {
	const id, file = "prod/cache", "prod_cache.json"
	tests := []struct {
		name  string
		saves []string
		// meanwhile runs after the record is read and before it is applied.
		meanwhile string
		wantErr   error  // from the editor loop or Apply; nil: applied
		wantMsg   string // in the error
	}{
		{name: "fixed", saves: []string{fixed}},
		{name: "fixed on the second try", saves: []string{strings.Replace(fixed, `"active"`, `"running"`, 1), fixed}},
		{name: "still truncated", saves: []string{truncated + `"`}, wantErr: editor.ErrAbandoned, wantMsg: "line 8"},
		{name: "renamed", saves: []string{strings.Replace(fixed, `"prod/cache"`, `"prod/other"`, 1)}, wantErr: editor.ErrAbandoned, wantMsg: `resource_id must stay "prod/cache"`},
		{name: "trailing garbage", saves: []string{fixed + "}"}, wantErr: editor.ErrAbandoned, wantMsg: "invalid JSON"},
		{name: "a typo becomes a field", saves: []string{strings.Replace(fixed, `"config"`, `"confg"`, 1)}, wantErr: editor.ErrAbandoned, wantMsg: "unknown keys confg"},
		{name: "unchanged", saves: nil, wantErr: editor.ErrCancelled},
		{name: "changed underneath", saves: []string{fixed}, meanwhile: truncated + "\n", wantErr: repair.ErrRefused, wantMsg: "changed since it was read"},
		{name: "fixed underneath", saves: []string{fixed}, meanwhile: strings.Replace(fixed, `"active"`, `"destroyed"`, 1), wantErr: repair.ErrRefused, wantMsg: "changed since it was read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			path := filepath.Join(dir, file)
			if err := os.WriteFile(path, []byte(truncated), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := filesystem.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			eng := repair.New(s, "file://"+dir, t.TempDir())
			seen, err := eng.ObserveEdit(ctx, id)
			if err != nil {
				t.Fatalf("observe for edit: %v", err)
			}
			if seen.Corrupt == "" || string(seen.Raw) != truncated {
				t.Fatalf("observed %+v, want the corrupt bytes", seen)
			}
			cmd, shown := repairtest.EditorScript(t, tt.saves...)
			var out bytes.Buffer
			edited, err := eng.EditRecord(ctx, cmd, strings.NewReader(""), &out, &out, seen)
			if err == nil {
				if tt.meanwhile != "" {
					if err := os.WriteFile(path, []byte(tt.meanwhile), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				var p *repair.Plan
				if p, err = eng.PlanEdit(seen, edited); err == nil {
					var res repair.Result
					res, err = eng.Apply(ctx, p)
					if err == nil {
						checkBackupOf(t, res.Backup, truncated)
					}
				}
			}
			if got, _ := os.ReadFile(shown); !strings.Contains(string(got), truncated) || !strings.Contains(string(got), "line 8, column 14") {
				t.Errorf("the editor was not shown the stored bytes and where they break:\n%s", got)
			}
			want := tt.meanwhile
			if want == "" {
				want = truncated
			}
			if tt.wantErr == nil {
				want = fixed
				if err != nil {
					t.Fatalf("edit: %v", err)
				}
				entries, _ := eng.Audit.Read()
				if last := entries[len(entries)-1]; last.Action != string(repair.ActionEdit) || last.Result != audit.ResultApplied || last.Before != backup.SHA256([]byte(truncated)) {
					t.Errorf("audit: %+v", last)
				}
			} else if !errors.Is(err, tt.wantErr) || !strings.Contains(fmtErr(err), tt.wantMsg) {
				t.Fatalf("edit: %v, want %v with %q", err, tt.wantErr, tt.wantMsg)
			}
			if ce := (*repair.ConflictError)(nil); errors.As(err, &ce) {
				if ex := ce.Explain(); strings.Contains(ex, "no differences") || !strings.Contains(ex, "what you saw: unreadable") {
					t.Errorf("the refusal does not say what changed:\n%s", ex)
				}
			}
			if got, _ := os.ReadFile(path); string(got) != want {
				t.Errorf("file after the edit:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func checkBackupOf(t *testing.T, path, want string) {
	t.Helper()
	_, data, err := backup.Read(path)
	if err != nil || string(data) != want {
		t.Errorf("backup %s holds %q (%v), want the exact corrupt bytes", path, data, err)
	}
}

// TestEditUnreadableWithoutBytes: a store that hands out no bytes of an
// unreadable record refuses to edit it and says why.
func TestEditUnreadableWithoutBytes(t *testing.T) {
	s := memory.New()
	s.PutRaw("x", []byte("{oops"))
	eng := repair.New(repairtest.EmulateCAS(s), "mem://", t.TempDir())
	_, err := eng.ObserveEdit(context.Background(), "x")
	if !errors.Is(err, stores.ErrCorrupt) || !strings.Contains(fmtErr(err), "no bytes") || !strings.Contains(fmtErr(err), "PostgreSQL") {
		t.Errorf("edit of an unreadable record without bytes: %v", err)
	}
}

func TestDiagnose(t *testing.T) {
	tests := []struct {
		name, raw    string
		offset       int
		line, column int
		reason       string
	}{
		{"truncated in a key", truncated, len(truncated), 8, 14, "unexpected end"},
		{"empty", "", 0, 1, 1, "unexpected end"},
		{"a trailing comma", "{\n  \"a\": 1,\n}", 12, 3, 1, "invalid character '}'"},
		{"a control byte", "{\"resource_id\": \"x\x01\"}", 18, 1, 19, `invalid character '\x01'`},
		{"garbage", "\x00garbage{", 0, 1, 1, `invalid character '\x00'`},
		{"after the record", "{\"resource_id\": \"x\"}}", 20, 1, 21, "after top-level value"},
		{"a non-ASCII line", "{\"n\": \"é\", ?}", 12, 1, 12, "invalid character '?'"},
		{"outputs a list", "{\"resource_id\": \"x\", \"outputs\": [1]}", 32, 1, 33, "outputs is an array"},
		{"no resource_id", `{"status": "active"}`, -1, 0, 0, "no resource_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := repair.Diagnose([]byte(tt.raw))
			if p.Offset != tt.offset || p.Line != tt.line || p.Column != tt.column || !strings.Contains(p.Reason, tt.reason) {
				t.Errorf("Diagnose: %+v, want offset %d at %d:%d with %q", p, tt.offset, tt.line, tt.column, tt.reason)
			}
		})
	}
}
