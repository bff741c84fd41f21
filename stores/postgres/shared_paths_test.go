package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"statescope/stores"
	"statescope/stores/storetest/testserver"
)

var errWrongStore = errors.New("another store's record")

// ownIDs fails unless every ID belongs to the store named prefix.
func ownIDs(prefix string, ids ...string) error {
	for _, id := range ids {
		if !strings.HasPrefix(id, prefix+"-") {
			return fmt.Errorf("store %s sees %q: %w", prefix, id, errWrongStore)
		}
	}
	return nil
}

// everyPath runs each of the store's pooled queries once (round r) and
// checks that each read sees only the store's own records. Errors from a
// cancelled ctx come back as they are.
func everyPath(ctx context.Context, s *Store, name string, r int) error {
	id, extra := fmt.Sprintf("%s-%d", name, r), fmt.Sprintf("%s-%d-if", name, r)
	if err := s.Save(ctx, &stores.State{ResourceID: id, Status: "active"}); err != nil {
		return err
	}
	v, err := s.GetVersioned(ctx, id)
	if err != nil {
		return err
	}
	if err := ownIDs(name, v.State.ResourceID); err != nil {
		return err
	}
	if err := s.SaveIf(ctx, &stores.State{ResourceID: id, Status: "updated"}, v.Version); err != nil {
		return err
	}
	if err := s.SaveIf(ctx, &stores.State{ResourceID: extra, Status: "active"}, ""); err != nil {
		return err
	}
	entries, err := s.List(ctx, stores.Filter{})
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := ownIDs(name, e.ID); err != nil {
			return err
		}
	}
	err = s.ListRows(ctx, stores.Filter{}, nil, func(rows []stores.Row) error {
		for _, row := range rows {
			if err := ownIDs(name, row.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	bad, err := s.UnreadableTimes(ctx)
	if err != nil {
		return err
	}
	for _, u := range bad {
		if err := ownIDs(name, u.Name); err != nil {
			return err
		}
	}
	names, err := s.namesByKey(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := ownIDs(name, n); err != nil {
			return err
		}
	}
	if _, err := s.Locks(ctx); err != nil {
		return err
	}
	v, err = s.GetVersioned(ctx, extra)
	if err != nil {
		return err
	}
	if err := s.DeleteIf(ctx, extra, v.Version); err != nil {
		return err
	}
	return s.Delete(ctx, id)
}

// sharedSchemas opens n stores on schemas s0… of one database through
// one DSN with extra settings; odd schemas start with a table holding an
// unreadable row, even ones have none until the store's first write.
func sharedSchemas(t *testing.T, n int, extra string) (*testserver.PG, string, []*Store) {
	pg := testserver.Postgres(t)
	db := pg.NewDatabase(t, "")
	dsn := pg.SuperuserDSN(db) + extra
	var all []*Store
	for i := range n {
		schema := fmt.Sprintf("s%d", i)
		pg.MustExec(t, db, "CREATE SCHEMA "+schema)
		if i%2 == 1 {
			pg.MustExec(t, db, "SET search_path = "+schema+"; "+createTable+
				fmt.Sprintf("; INSERT INTO iac_resources (name, updated_at) VALUES ('%s-inf', 'infinity')", schema))
		}
		all = append(all, openReader(t, schemaDSN(dsn, schema)))
	}
	return pg, db, all
}

// checkSchemas fails unless every schema holds only its own store's rows.
func checkSchemas(t *testing.T, pg *testserver.PG, db string, n int) {
	t.Helper()
	for i := range n {
		schema := fmt.Sprintf("s%d", i)
		got := pg.MustExec(t, db, "SELECT coalesce(string_agg(name, ','), '') FROM "+schema+".iac_resources")
		if got == "" {
			continue
		}
		if err := ownIDs(schema, strings.Split(got, ",")...); err != nil {
			t.Errorf("schema %s: %v", schema, err)
		}
	}
}

// Every pooled query of every store runs under the store's search_path
// while stores take turns on one or two connections, some of them
// abandoning their queries at random points (cancelled with the path sent,
// mid-query, mid-listing) for the others to reuse.
func TestEverySharedQueryRunsUnderItsStoresPath(t *testing.T) {
	for _, conns := range []int{1, 2} {
		t.Run(fmt.Sprintf("pool_max_conns=%d", conns), func(t *testing.T) {
			const n = 4
			pg, db, all := sharedSchemas(t, n, fmt.Sprintf("&pool_max_conns=%d", conns))
			ctx := testCtx(t)
			var wg sync.WaitGroup
			for i, s := range all {
				name := fmt.Sprintf("s%d", i)
				wg.Go(func() {
					for r := range 15 {
						if err := everyPath(ctx, s, name, r); err != nil {
							t.Errorf("round %d: %v", r, err)
							return
						}
					}
				})
				wg.Go(func() { // abandons its queries at random points
					for r := range 60 {
						c, cancel := context.WithTimeout(ctx, time.Duration(rand.IntN(3000))*time.Microsecond)
						err := everyPath(c, s, name, 100+r)
						cancel()
						if errors.Is(err, errWrongStore) || err != nil && c.Err() == nil && !errors.Is(err, stores.ErrNotFound) && !errors.Is(err, stores.ErrConflict) {
							t.Errorf("round %d: %v", r, err)
							return
						}
					}
				})
			}
			wg.Wait()
			checkSchemas(t, pg, db, n)
		})
	}
}

// Two stores share a pool only when nothing but the search_path tells
// their DSNs apart; either way each writes and reads only where its own
// DSN points, on a new connection and on one the other store used.
func TestSharingFollowsTheDSN(t *testing.T) {
	pg := testserver.Postgres(t)
	db := pg.NewDatabase(t, "")
	pg.MustExec(t, db, `CREATE SCHEMA a; CREATE SCHEMA b; CREATE SCHEMA postgres; CREATE SCHEMA "a,b"; CREATE SCHEMA "x y"`)
	// A table on the server's default path that no store below names.
	pg.MustExec(t, db, "SET search_path = public; "+createTable+"; INSERT INTO public.iac_resources (name) VALUES ('public-x')")
	url := pg.SuperuserDSN(db) + "&pool_max_conns=1"
	kw := fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable pool_max_conns=1", pg.Host, pg.Port, db)
	for _, tt := range []struct {
		name             string
		dsnA, dsnB       string
		schemaA, schemaB string // "" for a path with no schema: nothing is read or written
		shared           bool
	}{
		{"URL, other path", url + "&search_path=a", url + "&search_path=b", "a", "b", true},
		{"URL, settings reordered", url + "&search_path=a", strings.Replace(url, "?sslmode=disable&", "?search_path=b&", 1) + "&sslmode=disable", "a", "b", true},
		{"URL, percent-encoded key", url + "&search%5Fpath=a", url + "&search_path=b", "a", "b", true},
		{"URL, $user", url + "&search_path=%24user", url + "&search_path=b", "postgres", "b", true},
		{"URL, quoted names", url + "&search_path=%22a%2Cb%22", url + "&search_path=%22x%20y%22", "a,b", "x y", true},
		{"URL, empty path", url + "&search_path=", url + "&search_path=b", "", "b", true},
		{"URL, path in options", url + "&options=-csearch_path%3Da", url + "&search_path=b", "a", "b", false},
		{"URL, other password", strings.Replace(url, "postgres@", "postgres:one@", 1) + "&search_path=a", strings.Replace(url, "postgres@", "postgres:two@", 1) + "&search_path=b", "a", "b", false},
		{"URL, other sslmode", url + "&search_path=a", strings.Replace(url, "sslmode=disable", "sslmode=prefer", 1) + "&search_path=b", "a", "b", false},
		{"URL, pool size unset", url + "&search_path=a", pg.SuperuserDSN(db) + "&search_path=b", "a", "b", false},
		{"keyword, other path", kw + " search_path=a", kw + " search_path=b", "a", "b", false},
		{"keyword, same DSN", kw + " search_path=a", kw + " search_path=a", "a", "a", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range []string{"a", "b", "postgres", `"a,b"`, `"x y"`} {
				pg.MustExec(t, db, "DROP TABLE IF EXISTS "+s+".iac_resources")
			}
			ctx := testCtx(t)
			a, b := openReader(t, tt.dsnA), openReader(t, tt.dsnB)
			if got := a.pool.shared == b.pool.shared; got != tt.shared {
				t.Errorf("shared = %v, want %v", got, tt.shared)
			}
			for round := range 2 { // a new connection, then one the other store used
				for _, st := range []struct {
					s      *Store
					name   string
					schema string
				}{{a, "A", tt.schemaA}, {b, "B", tt.schemaB}} {
					id := fmt.Sprintf("%s-%d", st.name, round)
					err := st.s.Save(ctx, &stores.State{ResourceID: id})
					if st.schema == "" {
						if err == nil {
							t.Errorf("%s saved under an empty search_path", id)
						}
					} else if err != nil {
						t.Fatal(err)
					}
					got, err := st.s.List(ctx, stores.Filter{})
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range got {
						if e.ID == "public-x" || (st.schema != tt.schemaA || st.schema != tt.schemaB) && !strings.HasPrefix(e.ID, st.name+"-") {
							t.Errorf("%s's store lists %s", st.name, e.ID)
						}
					}
				}
			}
			for _, st := range []struct{ name, schema string }{{"A", tt.schemaA}, {"B", tt.schemaB}} {
				if st.schema == "" {
					continue
				}
				q := pgxIdent(st.schema) + ".iac_resources"
				if got := pg.MustExec(t, db, "SELECT count(*) FROM "+q+" WHERE name LIKE '"+st.name+"-%'"); got != "2" {
					t.Errorf("%s holds %s of %s's records, want 2", q, got, st.name)
				}
			}
			if got := pg.MustExec(t, db, "SELECT string_agg(name, ',') FROM public.iac_resources"); got != "public-x" {
				t.Errorf("public holds %s", got)
			}
		})
	}
}

func pgxIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// A DSN leaves settings to the PG* environment variables: stores opened
// under different ones connect as each was told, never on the other's
// pool (here, as another role).
func TestSharingFollowsTheEnvironment(t *testing.T) {
	pg := testserver.Postgres(t)
	role := pg.NewRole(t)
	db := pg.NewDatabase(t, role)
	dsn := fmt.Sprintf("postgres://%s:%d/%s?sslmode=disable&search_path=", pg.Host, pg.Port, db)
	t.Setenv("PGUSER", "postgres")
	a := openReader(t, dsn+"a")
	t.Setenv("PGUSER", role)
	b := openReader(t, dsn+"b")
	for s, want := range map[*Store]string{a: "postgres", b: role} {
		var user string
		if err := s.pool.QueryRow(testCtx(t), "SELECT current_user").Scan(&user); err != nil {
			t.Fatal(err)
		}
		if user != want {
			t.Errorf("%s connects as %s, want %s", s.Describe(), user, want)
		}
	}
}

// refs is how many stores hold the pool s shares.
func refs(s *Store) int {
	pools.Lock()
	defer pools.Unlock()
	if pools.byKey[s.pool.shared.key] != s.pool.shared {
		return 0
	}
	return s.pool.shared.refs
}

// Stores open and close at once, some failing to open, some closed while
// another store lists on the same pool: no open fails for another's sake,
// every failed open gives its share back, and once all are closed no pool,
// goroutine or session is left.
func TestSharedPoolsOpenAndCloseCleanly(t *testing.T) {
	pg := testserver.Postgres(t)
	db := pg.NewDatabase(t, "")
	pg.MustExec(t, db, `CREATE SCHEMA a; CREATE SCHEMA b`)
	dsn := pg.SuperuserDSN(db)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := testCtx(t)

	a, err := OpenReader(ctx, schemaDSN(dsn, "a"))
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := OpenReader(cancelled, schemaDSN(dsn, "b")); err == nil {
		t.Fatal("opened with a cancelled context")
	}
	if n := refs(a); n != 1 {
		t.Fatalf("after a failed open the pool has %d shares, want 1", n)
	}

	// b closes, twice, while a's listing holds the only connection.
	pg.MustExec(t, db, "SET search_path = a; "+createTable+"; INSERT INTO iac_resources (name) SELECT 'a-' || i FROM generate_series(1, 600) i")
	b, err := OpenReader(ctx, schemaDSN(dsn, "b")+"&pool_max_conns=16")
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	b, err = OpenReader(ctx, schemaDSN(dsn, "b"))
	if err != nil {
		t.Fatal(err)
	}
	listed := 0
	err = a.ListRows(ctx, stores.Filter{}, nil, func(rows []stores.Row) error {
		if listed == 0 {
			b.Close()
			b.Close()
		}
		listed += len(rows)
		return nil
	})
	if err != nil || listed != 600 {
		t.Fatalf("a listed %d rows (%v) while b closed", listed, err)
	}

	var wg sync.WaitGroup
	for i := range 24 {
		wg.Go(func() {
			path := []string{"a", "b", `"unclosed`}[i%3]
			c, cancel := context.WithTimeout(ctx, time.Duration(rand.IntN(20))*time.Millisecond)
			defer cancel()
			s, err := OpenReader(c, schemaDSN(dsn, path))
			if err != nil {
				if path != `"unclosed` && c.Err() == nil {
					t.Error(err)
				}
				return
			}
			defer s.Close()
			if _, err := s.List(c, stores.Filter{}); err != nil && c.Err() == nil && path != `"unclosed` {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := refs(a); n != 1 {
		t.Errorf("after every other store closed the pool has %d shares, want 1", n)
	}
	a.Close()
	pools.Lock()
	for key := range pools.byKey {
		if strings.HasPrefix(key, dsn) {
			t.Errorf("pool %q is open after every store closed", key)
		}
	}
	pools.Unlock()
	if got := pg.MustExec(t, db, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`); got != "0" {
		t.Errorf("%s sessions after every store closed", got)
	}
}

// A session the server ends (an administrator's pg_terminate_backend, a
// restart) fails no query of another store that would have used it: a
// statement whose path finds it gone takes another connection. The store and the
// others sharing the pool work on, each under its own path.
func TestSharedSessionKilled(t *testing.T) {
	const n = 2
	pg, db, all := sharedSchemas(t, n, "&pool_max_conns=1")
	ctx := testCtx(t)
	for r := range 4 {
		for i, s := range all { // each round's session was the other store's
			pg.MustExec(t, db, "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'statescope'")
			if err := everyPath(ctx, s, fmt.Sprintf("s%d", i), r); err != nil {
				t.Fatalf("round %d, after the other store's session was ended: %v", r, err)
			}
		}
	}
	checkSchemas(t, pg, db, n)
}

// A held lock's connection is the store's own, set up from the store's
// DSN whole: its search_path too, which the shared pool's settings lack.
func TestLockConnectionKeepsItsSearchPath(t *testing.T) {
	_, _, all := sharedSchemas(t, 2, "")
	for i, s := range all {
		want := fmt.Sprintf("s%d", i)
		if got := s.lockCfg.RuntimeParams["search_path"]; got != want {
			t.Errorf("lock connections use search_path %q, want %q", got, want)
		}
		if err := s.Lock(testCtx(t), "x"+want); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := s.held["x"+want].conn.QueryRow(testCtx(t), "SHOW search_path").Scan(&got); err != nil || got != want {
			t.Errorf("a lock connection runs under %q (%v), want %q", got, err, want)
		}
	}
	if _, ok := all[0].pool.shared.pool.Config().ConnConfig.RuntimeParams["search_path"]; ok {
		t.Error("the shared pool connects with a search_path of its own")
	}
}

// A shared pool holds up to 16 sessions unless the DSN sets its size, in
// whatever spelling pgx reads.
func TestSharedPoolSize(t *testing.T) {
	pg := testserver.Postgres(t)
	db := pg.NewDatabase(t, "")
	url := pg.SuperuserDSN(db) + "&search_path=a"
	kw := fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable search_path=a", pg.Host, pg.Port, db)
	for dsn, want := range map[string]int32{
		url:                         sharedMaxConns,
		url + "&pool_max_conns=3":   3,
		url + "&pool%5Fmax_conns=5": 5,
		kw:                          sharedMaxConns,
		kw + " pool_max_conns = 6":  6,
		kw + " pool_max_conns='7'":  7,
	} {
		if got := openReader(t, dsn).pool.shared.pool.Config().MaxConns; got != want {
			t.Errorf("%s: pool of %d sessions, want %d", dsn, got, want)
		}
	}
}
