package tui

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"statescope/stores"
	"statescope/stores/memory"
)

// bulkyStore lists n records with about 16 KB of nested outputs each,
// made afresh for every listing, so whatever stays in memory after a load
// is what the table kept.
type bulkyStore struct {
	plainStore
	n int
}

func (s bulkyStore) List(context.Context, stores.Filter) ([]stores.Entry, error) {
	out := make([]stores.Entry, s.n)
	for i := range out {
		id := fmt.Sprintf("team/svc-%05d", i)
		outputs := map[string]any{}
		for k := range 100 {
			outputs[fmt.Sprintf("key_%03d", k)] = map[string]any{"value": strings.Repeat("v", 120), "n": k}
		}
		out[i] = stores.Entry{ID: id, Source: "bulk/" + id, State: &stores.State{
			ResourceID: id, ResourceType: "infra.service", Provider: "aws", Status: stores.StatusActive,
			UpdatedAt: "2026-01-02T03:04:05Z", Outputs: outputs, Config: map[string]any{"size": "large"},
		}}
	}
	return out, nil
}

// The table keeps per record what it shows, not the record: the live heap
// a load leaves behind is a small fraction of the records' size.
func TestTableHoldsRowsNotRecords(t *testing.T) {
	const n, maxPerRow = 4000, 2048
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	h := newSyncHarness(t, Options{Session: Session{Store: bulkyStore{n: n}, Name: "bulk"}})
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := h.m.top().(*resourcesView).grid.Len(); got != n {
		t.Fatalf("loaded %d rows, want %d", got, n)
	}
	perRow := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	runtime.KeepAlive(h)
	if perRow > maxPerRow {
		t.Errorf("the loaded table keeps %d bytes per record (records are ~16 KB); want at most %d", perRow, maxPerRow)
	}
}

// rowLister is a store whose listing reports each record's version, and
// counts the records it had to read because known did not offer them.
type rowLister struct {
	plainStore
	rows []stores.Row
	read int
}

func (s *rowLister) ListRows(_ context.Context, _ stores.Filter, known func(string, string) (stores.Row, bool), yield func([]stores.Row) error) error {
	out := make([]stores.Row, 0, len(s.rows))
	for _, r := range s.rows {
		if known != nil {
			if k, ok := known(r.Source, r.Version); ok {
				out = append(out, k)
				continue
			}
		}
		s.read++
		out = append(out, r)
	}
	return yield(out)
}

// A refresh hands the store the rows it has, so only records whose
// version changed are read again, and shows what changed.
func TestRefreshReadsOnlyChanged(t *testing.T) {
	st := &rowLister{plainStore: plainStore{memory.New()}}
	for i := range 50 {
		id := fmt.Sprintf("r%02d", i)
		st.rows = append(st.rows, stores.Row{ID: id, Readable: true, Source: "src/" + id, Status: stores.StatusActive, Version: "v1"})
	}
	h := newSyncHarness(t, Options{Session: Session{Store: st, Name: "rows"}})
	if st.read != 50 {
		t.Fatalf("first load read %d records, want 50", st.read)
	}
	st.rows[7].Version, st.rows[7].Status = "v2", stores.StatusError
	st.read = 0
	h.keys("r")
	if st.read != 1 {
		t.Errorf("refresh read %d records, want only the changed one", st.read)
	}
	v := h.m.top().(*resourcesView)
	if v.grid.Len() != 50 || v.counts[stores.StatusError] != 1 {
		t.Errorf("after refresh: %d rows, %d in error; want 50 and 1", v.grid.Len(), v.counts[stores.StatusError])
	}
}
