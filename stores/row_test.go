package stores

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// rowCases are records DecodeRow must judge exactly as DecodeState does.
var rowCases = []string{
	`{"resource_id":"a","resource_type":"t","provider":"p","status":"active","outputs":null,"config":{},"created_at":"","updated_at":"2024-01-02T03:04:05Z"}`,
	`{"resource_id":"x/y","outputs":{"n":12345678901234567890,"big":1e999,"s":"<&>"},"dependencies":["a",null],"error":"boom"}`,
	`{"config":{"k":[1,{"z":null}]},"outputs":{},"resource_id":"a"}`,
	`{"RESOURCE_ID":"case","Status":"planned"}`,
	`{"resource_id":"a"} `,
	`{"resource_id":"a"}]`,
	`{"resource_id":"a"}{}`,
	`{"resource_id":"a","resource_id":""}`,
	`{"resource_id": 5}`,
	`{"resource_id":"a","outputs":[]}`,
	`{"resource_id":"a","config":"x"}`,
	`{"resource_id":"a","dependencies":[1]}`,
	`{"resource_id":"a","dependencies":{}}`,
	`{"resource_id":"a","provider_ref":7}`,
	`{"resource_id":"a","error":{}}`,
	`{"resource_id":"a","created_at":true}`,
	`{"resource_id":"a","outputs":{"a":}}`,
	`{"resource_id":"a","unknown":[{"x":1}]}`,
	`{"status":"active"}`,
	`[]`, `null`, `"a"`, ``, `{`,
}

func TestDecodeRowMatchesDecodeState(t *testing.T) {
	for _, c := range rowCases {
		checkRow(t, []byte(c))
	}
}

func FuzzDecodeRow(f *testing.F) {
	for _, c := range rowCases {
		f.Add([]byte(c))
	}
	// The state decoder's corpus too: what it found interesting.
	seeds, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzDecodeState", "*"))
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(checkRow)
}

func checkRow(t *testing.T, data []byte) {
	t.Helper()
	row, rerr := DecodeRow(data)
	st, serr := DecodeState(data)
	switch {
	case (rerr == nil) != (serr == nil):
		t.Fatalf("%q: DecodeRow error %v, DecodeState error %v", data, rerr, serr)
	case serr != nil:
		if rerr.Error() != serr.Error() {
			t.Fatalf("%q: DecodeRow says %q, DecodeState %q", data, rerr, serr)
		}
		return
	}
	want := RowOf(Entry{ID: st.ResourceID, State: st}, "")
	if !reflect.DeepEqual(row, want) {
		t.Fatalf("%q: row %+v, want %+v", data, row, want)
	}
}

func TestFilterMatchRow(t *testing.T) {
	f := Filter{ResourceType: "t", Status: "active"}
	for _, tc := range []struct {
		row  Row
		want bool
	}{
		{Row{Readable: true, ResourceType: "t", Status: "active"}, true},
		{Row{Readable: true, ResourceType: "t", Status: "error"}, false},
		{Row{Readable: true, ResourceType: "u", Status: "active"}, false},
		{Row{Readable: true, ResourceType: "u", Status: "active", Problem: "also claimed"}, false}, // a conflict reads fine
		{Row{Problem: "invalid JSON"}, true},                                                       // corrupt rows cannot be excluded honestly
	} {
		if got := f.MatchRow(tc.row); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.row, got, tc.want)
		}
	}
}

// rowStore is a RowLister that reports being reached.
type rowStore struct {
	fakeStore
	reached bool
}

func (r *rowStore) ListRows(_ context.Context, _ Filter, _ func(string, string) (Row, bool), yield func([]Row) error) error {
	r.reached = true
	return yield([]Row{{ID: "x"}})
}

// A read-only session keeps the store's row listing (and its refresh).
func TestReadOnlyPassesListRows(t *testing.T) {
	inner := &rowStore{}
	var got []Row
	err := ListRows(context.Background(), ReadOnly(inner), Filter{}, nil, func(b []Row) error {
		got = append(got, b...)
		return nil
	})
	if err != nil || !inner.reached || len(got) != 1 {
		t.Errorf("ListRows through ReadOnly: reached %v, rows %v, err %v", inner.reached, got, err)
	}
}

// A row passes a filter exactly when its entry does: unreadable ones
// always, readable ones (a conflict too) by their fields.
func TestMatchRowIsMatch(t *testing.T) {
	good := &State{ResourceID: "a", ResourceType: "db", Provider: "aws", Status: StatusActive}
	entries := []Entry{
		{ID: "a", State: good},
		{ID: "a", State: good, Problem: "resource_id \"a\" is also claimed by b.json"},
		{ID: "x", Problem: "invalid JSON"},
	}
	for _, f := range []Filter{{}, {Status: StatusActive}, {Status: StatusError}, {ResourceType: "db"}, {Provider: "gcp"}} {
		for _, e := range entries {
			if got, want := f.MatchRow(RowOf(e, "")), f.Match(e); got != want {
				t.Errorf("filter %+v, entry %+v: MatchRow %t, Match %t", f, e, got, want)
			}
		}
	}
}
