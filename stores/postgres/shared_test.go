package postgres

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"statescope/stores"
	"statescope/stores/storetest/testserver"
)

// Stores that may write never share across search_paths: each keeps its
// own path from its first packet, as the engine's connections do; only the
// very same DSN shares.
func TestWritersDoNotShareAcrossSearchPaths(t *testing.T) {
	pg := testserver.Postgres(t)
	db := pg.NewDatabase(t, "")
	pg.MustExec(t, db, `CREATE SCHEMA a; CREATE SCHEMA b`)
	dsn := pg.SuperuserDSN(db)
	a, b, reader := openAs(t, schemaDSN(dsn, "a")), openAs(t, schemaDSN(dsn, "b")), openReader(t, schemaDSN(dsn, "a"))
	if a.pool.shared == b.pool.shared || a.pool.shared == reader.pool.shared {
		t.Fatal("a store that may write shares a pool with another search_path's store")
	}
	if again := openAs(t, schemaDSN(dsn, "a")); again.pool.shared != a.pool.shared {
		t.Error("two writers with the very same DSN do not share")
	}
	for name, s := range map[string]*Store{"a": a, "b": b} {
		if err := s.Save(testCtx(t), &stores.State{ResourceID: "in-" + name, Status: "active"}); err != nil {
			t.Fatal(err)
		}
		if got := pg.MustExec(t, db, `SELECT string_agg(name, ',') FROM `+name+`.iac_resources`); got != "in-"+name {
			t.Errorf("schema %s holds %q", name, got)
		}
	}
}

// schemaDSN is dsn (which has a query already) with a search_path added.
func schemaDSN(dsn, path string) string { return dsn + "&search_path=" + path }

// sessions counts the database's statescope pool sessions.
func sessions(t *testing.T, s *Store, db string) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(testCtx(t), `SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'statescope'`, db).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func ids(t *testing.T, s *Store) []string {
	t.Helper()
	entries, err := s.List(testCtx(t), stores.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.State == nil {
			t.Fatalf("unreadable %s: %s", e.Source, e.Problem)
		}
		out = append(out, e.State.ResourceID)
	}
	slices.Sort(out)
	return out
}

// Contexts that are schemas of one database share sessions while they are
// open, and each still reads and writes only its own table.
func TestStoresOnOneServerShareSessions(t *testing.T) {
	pg := testserver.Postgres(t)
	db := pg.NewDatabase(t, "")
	pg.MustExec(t, db, `CREATE SCHEMA a; CREATE SCHEMA b`)
	dsn := pg.SuperuserDSN(db)
	a, b := openReader(t, schemaDSN(dsn, "a")), openReader(t, schemaDSN(dsn, "b"))
	for _, s := range []*Store{a, b} {
		if len(ids(t, s)) != 0 {
			t.Fatal("a new schema lists records")
		}
	}
	if n := sessions(t, a, db); n != 1 {
		t.Fatalf("two stores used one at a time hold %d sessions, want 1", n)
	}
}

// One connection serves stores on different search_paths and one on the
// server's default in turn: every read and write lands in the store's own
// schema, tables are created where the engine would create them, and a
// search_path the server refuses fails its store's statements alone.
func TestSharedSessionKeepsEachStoresSearchPath(t *testing.T) {
	pg := testserver.Postgres(t)
	db := pg.NewDatabase(t, "")
	pg.MustExec(t, db, `CREATE SCHEMA a; CREATE SCHEMA b; CREATE SCHEMA c`)
	dsn := pg.SuperuserDSN(db) + "&pool_max_conns=1"
	stores3 := map[string]*Store{
		"a":       openReader(t, schemaDSN(dsn, "a")),
		"b":       openReader(t, schemaDSN(dsn, "c,b")), // c first: the table is created in c
		"default": openReader(t, dsn),
	}
	ctx := testCtx(t)
	for round := range 3 {
		for name, s := range stores3 {
			st := &stores.State{ResourceID: fmt.Sprintf("%s-%d", name, round), Status: "active"}
			if err := s.Save(ctx, st); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, s := range stores3 {
		want := []string{name + "-0", name + "-1", name + "-2"}
		if got := ids(t, s); !slices.Equal(got, want) {
			t.Errorf("%s lists %v, want %v", name, got, want)
		}
		if _, err := s.Get(ctx, name+"-1"); err != nil {
			t.Error(err)
		}
	}
	for schema, want := range map[string]string{"a": "a-0,a-1,a-2", "c": "b-0,b-1,b-2", "public": "default-0,default-1,default-2"} {
		got := pg.MustExec(t, db, `SELECT string_agg(name, ',' ORDER BY name) FROM `+schema+`.iac_resources`)
		if got != want {
			t.Errorf("schema %s holds %s, want %s", schema, got, want)
		}
	}
	if got := pg.MustExec(t, db, `SELECT to_regclass('b.iac_resources') IS NULL`); got != "t" {
		t.Error("a table was created in b, the second schema on the path")
	}
	// pool_max_conns=1: the three share one session, and it is left on the
	// server's default path (each path ends with its statement's
	// transaction).
	if n := sessions(t, stores3["a"], db); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
	var left string
	if err := stores3["a"].pool.shared.pool.QueryRow(ctx, "SHOW search_path").Scan(&left); err != nil || left != `"$user", public` {
		t.Errorf("the shared session is left on search_path %q (%v), want the server's default", left, err)
	}

	refused := openReader(t, schemaDSN(dsn, `"unclosed`))
	if _, err := refused.List(ctx, stores.Filter{}); err == nil || !strings.Contains(err.Error(), "search_path") {
		t.Errorf("a search_path the server refuses: %v", err)
	}
	if got := ids(t, stores3["a"]); len(got) != 3 {
		t.Errorf("after a refused search_path, a lists %v", got)
	}
}

// Stores taking turns on one connection, at once, each see only
// their own records (run with -race).
func TestSharedSessionUnderConcurrency(t *testing.T) {
	pg := testserver.Postgres(t)
	db := pg.NewDatabase(t, "")
	dsn := pg.SuperuserDSN(db) + "&pool_max_conns=2"
	var all []*Store
	for i := range 6 {
		pg.MustExec(t, db, fmt.Sprintf(`CREATE SCHEMA s%d`, i))
		s := openReader(t, schemaDSN(dsn, fmt.Sprintf("s%d", i)))
		if err := s.Save(testCtx(t), &stores.State{ResourceID: fmt.Sprintf("only-%d", i), Status: "active"}); err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
	}
	var wg sync.WaitGroup
	for i, s := range all {
		wg.Go(func() {
			for range 20 {
				if got := ids(t, s); len(got) != 1 || got[0] != fmt.Sprintf("only-%d", i) {
					t.Errorf("store %d lists %v", i, got)
					return
				}
			}
		})
	}
	wg.Wait()
}

// The last store to close closes the pool and its sessions; the next one
// opens a new pool.
func TestLastCloseEndsTheSharedPool(t *testing.T) {
	pg := testserver.Postgres(t)
	db := pg.NewDatabase(t, "")
	dsn := pg.SuperuserDSN(db)
	a, err := OpenReader(testCtx(t), schemaDSN(dsn, "public"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenReader(testCtx(t), schemaDSN(dsn, "pg_catalog,public"))
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	a.Close() // a second Close must not give back b's share
	if len(ids(t, b)) != 0 {
		t.Fatal("records in a new database")
	}
	b.Close()
	pools.Lock()
	for _, p := range pools.byKey {
		if strings.HasPrefix(p.key, dsn) {
			t.Errorf("pool %q is open after every store closed (%d shares)", p.key, p.refs)
		}
	}
	pools.Unlock()
	if got := pg.MustExec(t, db, `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'statescope'`); got != "0" {
		t.Errorf("%s statescope sessions after every store closed", got)
	}
	c := openReader(t, dsn)
	if len(ids(t, c)) != 0 {
		t.Fatal("records in a new database")
	}
}
