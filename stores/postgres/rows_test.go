package postgres

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"statescope/stores"
)

// plantOddRows writes rows of every shape a listing must read: null and
// empty maps, JSON that is not an object, unreadable timestamps, names
// that need quoting inside an array, microsecond timestamps.
func plantOddRows(t *testing.T, pg interface {
	MustExec(testing.TB, string, string) string
}, db string) {
	t.Helper()
	pg.MustExec(t, db, createTable)
	pg.MustExec(t, db, `INSERT INTO iac_resources (name, type, provider, status, applied_config, outputs, dependencies, created_at, updated_at) VALUES
		('vpc', 'infra.vpc', 'aws', 'active', 'null', 'null', '{}', '2026-01-02 03:04:05.123456+00', '2026-01-02 03:04:05+00'),
		('db', 'infra.database', 'aws', 'provisioning', '{"size": 10}', '{"port": 5432}', '{vpc,"a,b","q\"uote","NULL"," sp "}', NOW(), NOW()),
		('list', '', '', 'active', '{}', '[1, 2]', '{}', NOW(), NOW()),
		('str', '', '', 'active', '"x"', '{}', '{}', NOW(), NOW()),
		('forever', '', '', 'active', '{}', '{}', '{}', 'infinity', '12000-01-01'),
		('ancient', '', '', 'active', '{}', '{}', '{}', '0044-03-15 BC', NOW())`)
}

// ListRows reads the rows List reads: the same records, the same
// unreadable ones with the same reasons (timestamps with no RFC 3339
// form, JSON columns that are not objects), without the maps.
func TestListRowsMatchList(t *testing.T) {
	s, pg, db := openDB(t)
	plantOddRows(t, pg, db)
	ctx := testCtx(t)
	full, err := s.List(ctx, stores.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != 6 {
		t.Fatalf("List: %d entries, want 6", len(full))
	}
	var rows []stores.Row
	if err := s.ListRows(ctx, stores.Filter{}, nil, func(batch []stores.Row) error {
		rows = append(rows, batch...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(rows, func(a, b stores.Row) int { return strings.Compare(a.ID, b.ID) })
	want := make([]stores.Row, len(full))
	for i, e := range full {
		want[i] = stores.RowOf(e, "")
		rows[i].Version = ""
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("ListRows:\n%+v\nList's rows:\n%+v", rows, want)
	}
}

// What a row reads as does not depend on the database's or the role's
// DateStyle and TimeZone, whatever form results come back in.
func TestSessionSettingsDoNotChangeReads(t *testing.T) {
	s, pg, db := openDB(t)
	plantOddRows(t, pg, db)
	ctx := testCtx(t)
	want, err := s.List(ctx, stores.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	pg.MustExec(t, db, `ALTER DATABASE `+db+` SET DateStyle = 'German, DMY'; ALTER DATABASE `+db+` SET TimeZone = 'Asia/Kolkata'`)
	other := openAs(t, pg.SuperuserDSN(db))
	if got := pg.MustExec(t, db, "SHOW DateStyle"); got != "German, DMY" {
		t.Fatalf("the database's DateStyle is %q", got)
	}
	got, err := other.List(ctx, stores.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("under German dates and Asia/Kolkata:\n%+v\nwant\n%+v", got, want)
	}
	for _, id := range []string{"vpc", "db"} {
		v1, err1 := s.GetVersioned(ctx, id)
		v2, err2 := other.GetVersioned(ctx, id)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(v1, v2) {
			t.Errorf("%s: %+v, %v vs %+v, %v", id, v1, err1, v2, err2)
		}
	}
}
