package filesystem

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"statescope/stores"
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// TestRewrittenWhereItLives: a record under a name other than its ID's
// canonical one is rewritten in that file, by Save and by SaveIf, and
// deleted from it; no second file appears.
func TestRewrittenWhereItLives(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	ctx := context.Background()
	write(t, dir, "hand-written.json", `{"resource_id":"x/y","status":"active"}`)
	if err := s.Save(ctx, &stores.State{ResourceID: "x/y", Status: "error"}); err != nil {
		t.Fatal(err)
	}
	v, err := s.GetVersioned(ctx, "x/y")
	if err != nil || v.State.Status != "error" {
		t.Fatalf("get: %+v %v", v, err)
	}
	if err := s.SaveIf(ctx, &stores.State{ResourceID: "x/y", Status: "active"}, v.Version); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); len(got) != 1 || got[0] != "hand-written.json" {
		t.Fatalf("files %v, want only hand-written.json", got)
	}
	if err := s.SaveIf(ctx, &stores.State{ResourceID: "x/y"}, v.Version); !errors.Is(err, stores.ErrConflict) {
		t.Errorf("stale version: %v, want ErrConflict", err)
	}
	v, _ = s.GetVersioned(ctx, "x/y")
	if err := s.DeleteIf(ctx, "x/y", v.Version); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); len(got) != 0 {
		t.Errorf("files %v after delete", got)
	}
}

// TestConflictingClaims: two files claiming one resource ID, or one file
// with two resource_id keys, show the conflict on every entry, and writes
// to that ID are refused naming both files.
func TestConflictingClaims(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		id    string
		// claimants are the files every refusal and entry must name.
		claimants []string
	}{
		{"two files", map[string]string{
			"db.json":      `{"resource_id":"db","status":"active"}`,
			"db-copy.json": `{"resource_id":"db","status":"error"}`,
		}, "db", []string{"db.json", "db-copy.json"}},
		{"engine and wfctl names", map[string]string{
			"a:b.json": `{"resource_id":"a:b","status":"active"}`,
			"a_b.json": `{"resource_id":"a:b","status":"active"}`,
		}, "a:b", []string{"a:b.json", "a_b.json"}},
		{"duplicate keys", map[string]string{
			"db.json": `{"resource_id":"other","status":"active","resource_id":"db"}`,
		}, "db", []string{"db.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, body := range tt.files {
				write(t, dir, n, body)
			}
			s, _ := Open(dir)
			ctx := context.Background()
			entries, err := s.List(ctx, stores.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != len(tt.files) {
				t.Fatalf("entries %+v", entries)
			}
			for _, e := range entries {
				if !e.Corrupt() {
					t.Errorf("%s shows no conflict", e.Source)
				}
				for _, c := range tt.claimants {
					if filepath.Base(e.Source) != c && !strings.Contains(e.Problem, c) {
						t.Errorf("%s does not name %s: %s", e.Source, c, e.Problem)
					}
				}
			}
			// A streamed listing marks at least the later claimant, naming both.
			marked := 0
			err = s.ListRows(ctx, stores.Filter{}, nil, func(rows []stores.Row) error {
				for _, r := range rows {
					if r.Corrupt() {
						marked++
					}
				}
				return nil
			})
			if err != nil || marked == 0 {
				t.Errorf("rows: %d marked, %v", marked, err)
			}
			_, err = s.GetVersioned(ctx, tt.id)
			if !errors.Is(err, stores.ErrAmbiguous) {
				t.Fatalf("get versioned: %v, want ErrAmbiguous", err)
			}
			for _, c := range tt.claimants {
				if !strings.Contains(err.Error(), c) {
					t.Errorf("refusal does not name %s: %v", c, err)
				}
			}
			if err := s.Save(ctx, &stores.State{ResourceID: tt.id}); !errors.Is(err, stores.ErrAmbiguous) {
				t.Errorf("save: %v, want ErrAmbiguous", err)
			}
			if err := s.Delete(ctx, tt.id); !errors.Is(err, stores.ErrAmbiguous) {
				t.Errorf("delete: %v, want ErrAmbiguous", err)
			}
			for n, body := range tt.files {
				if data, _ := os.ReadFile(filepath.Join(dir, n)); string(data) != body {
					t.Errorf("%s changed", n)
				}
			}
		})
	}
}

// TestWfctlDirectoryWrites: in a directory wfctl wrote, a record
// statescope creates gets wfctl's file name and key order, and a record
// rewritten anywhere keeps the key order it had.
func TestWfctlDirectoryWrites(t *testing.T) {
	ctx := context.Background()
	rec := func(id string) *stores.State {
		return &stores.State{ResourceID: id, Status: "active", Config: map[string]any{"c": "1"}, Outputs: map[string]any{"o": "2"}}
	}
	configFirst := func(data []byte) bool {
		return strings.Index(string(data), `"config"`) < strings.Index(string(data), `"outputs"`)
	}
	wf := t.TempDir()
	write(t, wf, "metadata.json", `{"generator_metadata":{"wfctl_version":"0.51.10","plugins":[]}}`)
	s, _ := Open(wf)
	withUnknown := rec("legacy:db*new")
	withUnknown.Unknown = []stores.Field{{Key: "future_field", Value: []byte(`{"kept":true}`)}}
	if err := s.Save(ctx, withUnknown); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(wf, "legacy_db_new.json"))
	if err != nil || !configFirst(data) || !strings.Contains(string(data), `"future_field"`) {
		t.Fatalf("new record in a wfctl directory: %v %s (files %v)", err, data, names(t, wf))
	}
	engine := t.TempDir()
	s, _ = Open(engine)
	write(t, engine, "w.json", `{"resource_id":"w","status":"active","config":{"c":"1"},"outputs":{}}`)
	if err := s.Save(ctx, rec("w")); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, rec("e:1")); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(engine, "w.json")); !configFirst(data) {
		t.Errorf("rewritten wfctl record lost its key order: %s", data)
	}
	if data, err := os.ReadFile(filepath.Join(engine, "e:1.json")); err != nil || configFirst(data) {
		t.Errorf("new record in an engine directory: %v %s", err, data)
	}
}

// TestStreamBatches: the store streams, in batches as they are read, the
// same entries List returns; a yield error stops it.
func TestStreamBatches(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	ctx := context.Background()
	for i := range 500 {
		if err := s.Save(ctx, &stores.State{ResourceID: fmt.Sprintf("r/%03d", i), Status: "active"}); err != nil {
			t.Fatal(err)
		}
	}
	write(t, dir, "bad.json", "{")
	seen := map[string]bool{}
	batches := 0
	err := stores.Stream(ctx, s, stores.Filter{}, func(b []stores.Entry) error {
		batches++
		for _, e := range b {
			if seen[e.Source] {
				t.Errorf("%s delivered twice", e.Source)
			}
			seen[e.Source] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	list, _ := s.List(ctx, stores.Filter{})
	if len(seen) != 501 || len(list) != 501 || batches < 2 {
		t.Errorf("streamed %d entries in %d batches, listed %d", len(seen), batches, len(list))
	}
	for _, e := range list {
		if !seen[e.Source] {
			t.Errorf("%s listed but not streamed", e.Source)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err = s.Stream(ctx, stores.Filter{Status: "active"}, func([]stores.Entry) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("stream after a yield error: %v, %d calls", err, calls)
	}
}
