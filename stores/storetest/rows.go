package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"statescope/stores"
)

// rowsMatchList: the rows a store lists are its entries' rows, filtered
// alike, each with the version GetVersioned reports for the record.
func rowsMatchList(t *testing.T, h Harness) {
	s, c := open(t, h), ctx(t)
	for i := range 30 {
		r := Record(fmt.Sprintf("r%02d", i))
		r.Status = stores.Statuses[i%len(stores.Statuses)]
		if err := s.Save(c, r); err != nil {
			t.Fatal(err)
		}
	}
	if h.Corrupt != nil {
		h.Corrupt(t, s, "broken")
	}
	for _, f := range []stores.Filter{{}, {Status: stores.StatusError}} {
		entries, err := s.List(c, f)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]stores.Row, len(entries))
		for i, e := range entries {
			want[i] = stores.RowOf(e, "")
		}
		rows := listRows(t, s, f, nil)
		cs, versioned := s.(stores.ConditionalStore)
		for i, r := range rows {
			if r.Version != "" && versioned && !r.Corrupt() {
				if v, err := cs.GetVersioned(c, r.ID); err != nil || v.Version != r.Version {
					t.Errorf("%s: listed version %q, GetVersioned %q (%v)", r.ID, r.Version, v.Version, err)
				}
			}
			rows[i].Version = ""
		}
		if !reflect.DeepEqual(rows, sortRows(want)) {
			t.Errorf("filter %+v: rows\n%+v\nwant the entries' rows\n%+v", f, rows, want)
		}
	}
}

// refreshFetchesChanged: given the rows of the last listing, a RowLister
// re-reads only the records whose version changed since.
func refreshFetchesChanged(t *testing.T, h Harness) {
	h.Capabilities.Need(t, RowVersions)
	s, c := open(t, h), ctx(t)
	for i := range 20 {
		if err := s.Save(c, Record(fmt.Sprintf("r%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	last := map[string]stores.Row{}
	for _, r := range listRows(t, s, stores.Filter{}, nil) {
		last[r.Source] = r
	}
	var hits atomic.Int32
	known := func(source, version string) (stores.Row, bool) {
		r, ok := last[source]
		if !ok || r.Version != version {
			return stores.Row{}, false
		}
		hits.Add(1)
		return r, true
	}
	if rows := listRows(t, s, stores.Filter{}, known); len(rows) != 20 || hits.Load() != 20 {
		t.Fatalf("unchanged store: %d rows, %d of them reused; want 20 and 20", len(rows), hits.Load())
	}
	changed := Record("r03")
	changed.Status = stores.StatusError
	if err := s.Save(c, changed); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(c, "r04"); err != nil {
		t.Fatal(err)
	}
	hits.Store(0)
	rows := listRows(t, s, stores.Filter{}, known)
	if len(rows) != 19 || hits.Load() != 18 {
		t.Fatalf("one changed, one deleted: %d rows, %d reused; want 19 and 18", len(rows), hits.Load())
	}
	if i := slices.IndexFunc(rows, func(r stores.Row) bool { return r.ID == "r03" }); i < 0 || rows[i].Status != stores.StatusError {
		t.Errorf("the changed record was not read again: %+v", rows)
	}
}

func listRows(t *testing.T, s stores.Store, f stores.Filter, known func(source, version string) (stores.Row, bool)) []stores.Row {
	t.Helper()
	var rows []stores.Row
	err := stores.ListRows(ctx(t), s, f, known, func(batch []stores.Row) error {
		rows = append(rows, batch...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sortRows(rows)
}

func sortRows(rows []stores.Row) []stores.Row {
	slices.SortFunc(rows, func(a, b stores.Row) int {
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return strings.Compare(a.Source, b.Source)
	})
	return rows
}
