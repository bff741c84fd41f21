package postgres

import (
	"reflect"
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

// ListSkeletons is List with the maps left out: the same entries, the
// same unreadable ones with the same reasons.
func TestListSkeletons(t *testing.T) {
	s, pg, db := openDB(t)
	plantOddRows(t, pg, db)
	ctx := testCtx(t)
	full, err := s.List(ctx, stores.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	skel, err := s.ListSkeletons(ctx, stores.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != 6 {
		t.Fatalf("List: %d entries, want 6", len(full))
	}
	for i := range full {
		if full[i].State != nil {
			st := *full[i].State
			st.Outputs, st.Config = nil, nil
			full[i].State = &st
		}
	}
	if !reflect.DeepEqual(skel, full) {
		t.Errorf("ListSkeletons:\n%+v\nList without maps:\n%+v", skel, full)
	}
	for _, e := range skel {
		if e.State != nil && (e.State.Outputs != nil || e.State.Config != nil) {
			t.Errorf("%s: maps read", e.ID)
		}
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
