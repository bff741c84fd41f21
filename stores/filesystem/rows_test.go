package filesystem

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"statescope/stores"
	"statescope/stores/storetest"
)

// ListRaw gives what Stream gives, undecoded: each entry's row (filtered
// alike, with the same problems, conflicts included) and, for a good
// record, the file's bytes, which decode to the streamed record.
func TestListRawMatchesStream(t *testing.T) {
	dir := t.TempDir()
	storetest.WriteRealistic(t, dir, 30)
	for name, body := range map[string]string{
		"broken.json":   `{"resource_id": 5}`,
		"a.json":        `{"resource_id":"twice","status":"active"}`,
		"b.json":        `{"resource_id":"twice","status":"active"}`,
		"dup.json":      `{"resource_id":"x","resource_id":"y"}`,
		"metadata.json": `{"version":"1","updated_at":"2026-01-01T00:00:00Z"}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, f := range []stores.Filter{{}, {Status: stores.StatusActive}} {
		var entries []stores.Entry
		if err := s.Stream(ctx, f, func(b []stores.Entry) error { entries = append(entries, b...); return nil }); err != nil {
			t.Fatal(err)
		}
		var raws []stores.RawRow
		if err := s.ListRaw(ctx, f, func(b []stores.RawRow) error { raws = append(raws, b...); return nil }); err != nil {
			t.Fatal(err)
		}
		bySource := func(a, b string) int { return strings.Compare(a, b) }
		slices.SortFunc(entries, func(a, b stores.Entry) int { return bySource(a.Source, b.Source) })
		slices.SortFunc(raws, func(a, b stores.RawRow) int { return cmp.Compare(a.Source, b.Source) })
		if len(raws) != len(entries) || len(entries) < 5 {
			t.Fatalf("filter %+v: %d raw rows, %d entries", f, len(raws), len(entries))
		}
		for i, r := range raws {
			e := entries[i]
			// Which of two claimants is marked depends on which came first.
			if strings.Contains(e.Problem, "also claimed") || strings.Contains(r.Problem, "also claimed") {
				continue
			}
			if want := stores.RowOf(e, ""); !reflect.DeepEqual(r.Row, want) {
				t.Errorf("row %+v, want the entry's %+v", r.Row, want)
			}
			if e.State == nil {
				if r.Data != nil {
					t.Errorf("%s: unreadable, with bytes", r.Source)
				}
				continue
			}
			st, err := stores.DecodeState(r.Data)
			if err != nil || !st.Equal(e.State) {
				t.Errorf("%s: bytes decode to %+v (%v), want %+v", r.Source, st, err, e.State)
			}
		}
	}
}
