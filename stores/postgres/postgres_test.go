package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"statescope/stores"
	"statescope/stores/repair/repairtest"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

// holderEnv makes the test binary act as a second statescope process that
// takes a lock and holds it until stdin closes (TestStatescopeHolder).
const holderEnv = "STATESCOPE_TEST_PG_HOLDER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(holderEnv); spec != "" {
		os.Exit(runHolder(spec))
	}
	testserver.Main(m)
}

// runHolder takes the lock named in spec ("<dsn> <id>", the DSN has no spaces) as operation
// "apply", says "locked" and waits.
func runHolder(spec string) int {
	dsn, id, _ := strings.Cut(spec, " ")
	ctx := context.Background()
	s, err := Open(ctx, dsn)
	if err == nil {
		err = s.LockAs(ctx, id, stores.NewHolder("apply"))
	}
	if err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openDB opens a store on a fresh database as the superuser.
func openDB(t testing.TB) (*Store, *testserver.PG, string) {
	t.Helper()
	pg := testserver.Postgres(t)
	db := pg.NewDatabase(t, "")
	return openAs(t, pg.SuperuserDSN(db)), pg, db
}

func openAs(t testing.TB, dsn string) *Store { t.Helper(); return openWith(t, Open, dsn) }

// openReader opens a store to read (OpenReader).
func openReader(t testing.TB, dsn string) *Store { t.Helper(); return openWith(t, OpenReader, dsn) }

// openWith opens a store with open, closed when the test ends.
func openWith(t testing.TB, open func(context.Context, string) (*Store, error), dsn string) *Store {
	t.Helper()
	s, err := open(testCtx(t), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the suite as the superuser and as an ordinary role
// that owns its database, the usual way an application connects.
func TestConformance(t *testing.T) {
	for _, tt := range []struct {
		name    string
		asOwner bool
	}{{"superuser", false}, {"database-owner", true}} {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, storetest.Harness{
				New: func(t *testing.T) stores.Store {
					pg := testserver.Postgres(t)
					user, owner := "postgres", ""
					if tt.asOwner {
						user = pg.NewRole(t)
						owner = user
					}
					s, err := Open(testCtx(t), pg.DSN(user, pg.NewDatabase(t, owner)))
					if err != nil {
						t.Fatal(err)
					}
					return s
				},
				Corrupt:          corruptRow,
				ServerTimestamps: true,
				NoErrorField:     true,
				Capabilities:     storetest.AllCapabilities,
			})
		})
	}
}

// corruptRow makes the row for id (new or existing) one whose outputs are
// not a JSON object.
func corruptRow(t *testing.T, s stores.Store, id string) {
	const q = `INSERT INTO iac_resources (name, outputs) VALUES ($1, '"garbage"')
		ON CONFLICT (name) DO UPDATE SET outputs = excluded.outputs`
	if _, err := s.(*Store).pool.Exec(testCtx(t), q, id); err != nil {
		t.Fatal(err)
	}
}

// Every repair through the safety path, with updated_at as the
// compare-and-swap version. The table sets the timestamps and has no error
// column, so comparisons leave those out.
func TestRepairs(t *testing.T) {
	repairtest.Run(t, repairtest.Harness{
		New: func(t *testing.T) stores.Store {
			pg := testserver.Postgres(t)
			s, err := Open(testCtx(t), pg.SuperuserDSN(pg.NewDatabase(t, "")))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Corrupt:      corruptRow,
		Capabilities: storetest.AllCapabilities,
		Normalise: func(st *stores.State) *stores.State {
			c := st.Clone()
			c.CreatedAt, c.UpdatedAt, c.Error = "", "", ""
			return c
		},
		ServerTimestamps: true,
	})
}

func TestKey(t *testing.T) {
	tests := []struct {
		id            string
		key           int64
		classid, objd uint32
	}{
		{"my-db", 3882885587528754728, 904054750, 2485298728},
		{"example", 4830977581527752769, 4830977581527752769 >> 32, 4830977581527752769 & 0xFFFFFFFF},
	}
	for _, tt := range tests {
		key := Key(tt.id)
		if key != tt.key {
			t.Errorf("Key(%q) = %d, want %d", tt.id, key, tt.key)
		}
		if c, o := SplitKey(key); c != tt.classid || o != tt.objd {
			t.Errorf("SplitKey(%d) = %d, %d; want %d, %d", key, c, o, tt.classid, tt.objd)
		}
	}
}

// TestKeyInPgLocks checks the split against what the server shows.
func TestKeyInPgLocks(t *testing.T) {
	s, _, _ := openDB(t)
	ctx := testCtx(t)
	if err := s.Lock(ctx, "my-db"); err != nil {
		t.Fatal(err)
	}
	var classid, objid uint32
	err := s.pool.QueryRow(ctx, `SELECT classid::bigint, objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1`).Scan(&classid, &objid)
	if err != nil {
		t.Fatal(err)
	}
	if classid != 904054750 || objid != 2485298728 {
		t.Errorf("pg_locks shows classid %d objid %d, want 904054750 2485298728", classid, objid)
	}
}

func TestAppName(t *testing.T) {
	h := &stores.Holder{PID: 4242, Host: "build box", User: "ci", Operation: "repair"}
	tests := []struct {
		name, app  string
		want       *stores.Holder
		id         string
		statescope bool
	}{
		{"round trip", appName(h, "db/main"), &stores.Holder{Tool: "statescope", PID: 4242, Host: "build_box", User: "ci", Operation: "repair"}, "db/main", true},
		{"truncated inside a field", appName(&stores.Holder{PID: 4242, Host: "host-with-a-rather-long-name.example", User: "ci", Operation: "repair"}, "db")[:maxAppName],
			&stores.Holder{Tool: "statescope", PID: 4242, Host: "host-with-a-rather-long-name.example"}, "", true},
		{"foreign", "psql", nil, "", false},
	}
	for _, tt := range tests {
		got, id, ok := parseAppName(tt.app)
		if ok != tt.statescope || id != tt.id || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: parseAppName(%q) = %+v, %q, %v; want %+v, %q, %v", tt.name, tt.app, got, id, ok, tt.want, tt.id, tt.statescope)
		}
	}
}

// TestUpstreamRows reads rows written the way the engine writes them.
func TestUpstreamRows(t *testing.T) {
	s, pg, db := openDB(t)
	ctx := testCtx(t)
	if err := s.ensureTable(ctx); err != nil {
		t.Fatal(err)
	}
	pg.MustExec(t, db, `INSERT INTO iac_resources (name, type, provider, status, config_hash, applied_config, outputs, dependencies, created_at, updated_at)
		VALUES ('vpc', 'infra.vpc', 'aws', 'active', '', 'null', 'null', '{}', NOW(), NOW()),
		       ('db', 'infra.database', 'aws', 'active', 'abc', '{"size": 10}', '{"port": 5432, "big": 9007199254740993}', '{vpc}', NOW(), NOW())`)
	now := time.Now().UTC()
	vpc, err := s.Get(ctx, "vpc")
	if err != nil {
		t.Fatal(err)
	}
	if vpc.Outputs != nil || vpc.Config != nil || vpc.Dependencies != nil {
		t.Errorf("null maps and empty deps read as %+v", vpc)
	}
	created, ok := stores.ParseTime(vpc.CreatedAt)
	if !ok || vpc.CreatedAt != stores.FormatTime(created) || now.Sub(created).Abs() > time.Minute {
		t.Errorf("created_at %q is not an RFC 3339 second-precision time near now", vpc.CreatedAt)
	}
	dbRec, err := s.Get(ctx, "db")
	if err != nil {
		t.Fatal(err)
	}
	if got := dbRec.Outputs["big"]; got != json.Number("9007199254740993") {
		t.Errorf("big number read as %#v", got)
	}
	if !reflect.DeepEqual(dbRec.Dependencies, []string{"vpc"}) {
		t.Errorf("dependencies %v", dbRec.Dependencies)
	}
	// Writing back keeps created_at, stores null maps as null and deps as '{}'.
	vpc.Status = stores.StatusDestroyed
	if err := s.Save(ctx, vpc); err != nil {
		t.Fatal(err)
	}
	got := pg.MustExec(t, db, `SELECT outputs::text || ' ' || applied_config::text || ' ' || dependencies::text || ' ' || (created_at < updated_at) FROM iac_resources WHERE name = 'vpc'`)
	if got != "null null {} true" {
		t.Errorf("saved row columns: %q", got)
	}
}

// TestOpenCreatesNothing: reading a database without the table works and
// leaves it without one; the first write creates it with upstream's DDL.
func TestOpenCreatesNothing(t *testing.T) {
	s, pg, db := openDB(t)
	ctx := testCtx(t)
	if entries, err := s.List(ctx, stores.Filter{}); err != nil || len(entries) != 0 {
		t.Fatalf("list without table: %v, %v", entries, err)
	}
	if _, err := s.Get(ctx, "x"); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("get without table: %v", err)
	}
	if err := s.Delete(ctx, "x"); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("delete without table: %v", err)
	}
	if got := pg.MustExec(t, db, "SELECT to_regclass('iac_resources') IS NULL"); got != "t" {
		t.Fatal("reading created the table")
	}
	if err := s.Save(ctx, storetest.Record("x")); err != nil {
		t.Fatal(err)
	}
	cols := pg.MustExec(t, db, `SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '-'), ', ' ORDER BY ordinal_position)
		FROM information_schema.columns WHERE table_name = 'iac_resources'`)
	want := "name text NO -, type text NO ''::text, provider text NO ''::text, provider_ref text NO ''::text, provider_id text NO ''::text, " +
		"status text NO ''::text, config_hash text NO ''::text, applied_config jsonb NO '{}'::jsonb, outputs jsonb NO '{}'::jsonb, " +
		"dependencies ARRAY NO '{}'::text[], created_at timestamp with time zone NO now(), updated_at timestamp with time zone NO now()"
	if cols != want {
		t.Errorf("table columns:\n got %s\nwant %s", cols, want)
	}
}

func TestCredentialsNeverShown(t *testing.T) {
	pg := testserver.Postgres(t)
	port, err := testserver.FreePort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	for _, dsn := range []string{
		fmt.Sprintf("postgres://app:s3cret-pw@127.0.0.1:%d/db?sslmode=disable&connect_timeout=2", port),
		fmt.Sprintf("host=127.0.0.1 port=%d user=app password=s3cret-pw dbname=db sslmode=disable connect_timeout=2", port),
	} {
		_, err := Open(ctx, dsn)
		if err == nil || strings.Contains(err.Error(), "s3cret-pw") || !strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("open of an unreachable server: %v", err)
		}
	}
	for _, dsn := range []string{
		"postgres://u:s3cret-pw@h:badport/db",
		"host=h password = s3cret-pw port=x",
		`host=h password='s3cret-pw\' x' sslmode=bogus`,
		"host=h password=s3cret-pw bad",
	} {
		_, err := Open(ctx, dsn)
		if err == nil || strings.Contains(err.Error(), "s3cret-pw") || !strings.Contains(err.Error(), "invalid DSN") {
			t.Errorf("open of a malformed DSN: %v", err)
		}
	}
	// A working store with a password in its DSN (trust ignores it).
	db := pg.NewDatabase(t, "")
	s := openAs(t, fmt.Sprintf("postgres://postgres:s3cret-pw@%s:%d/%s?sslmode=disable", pg.Host, pg.Port, db))
	_, err = s.Get(ctx, "missing")
	for _, text := range []string{s.Describe(), err.Error()} {
		if strings.Contains(text, "s3cret-pw") || !strings.Contains(text, "@127.0.0.1:") {
			t.Errorf("shows credentials or no target: %q", text)
		}
	}
	if !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("get missing: %v", err)
	}
}

func TestConditional(t *testing.T) {
	s, _, _ := openDB(t)
	ctx := testCtx(t)
	rec := storetest.Record("cas")
	if err := s.SaveIf(ctx, rec, ""); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := s.SaveIf(ctx, rec, ""); !errors.Is(err, stores.ErrConflict) {
		t.Errorf("create over an existing record: %v", err)
	}
	v1, err := s.GetVersioned(ctx, "cas")
	if err != nil {
		t.Fatal(err)
	}
	// Two quick writes still give distinct versions.
	if err := s.SaveIf(ctx, rec, v1.Version); err != nil {
		t.Fatalf("save with current version: %v", err)
	}
	if err := s.SaveIf(ctx, rec, v1.Version); !errors.Is(err, stores.ErrConflict) {
		t.Errorf("save with stale version: %v", err)
	}
	if err := s.DeleteIf(ctx, "cas", v1.Version); !errors.Is(err, stores.ErrConflict) {
		t.Errorf("delete with stale version: %v", err)
	}
	v2, _ := s.GetVersioned(ctx, "cas")
	if v2.Version == v1.Version {
		t.Fatal("version did not change on write")
	}
	if err := s.DeleteIf(ctx, "cas", v2.Version); err != nil {
		t.Errorf("delete with current version: %v", err)
	}
	if _, err := s.Get(ctx, "cas"); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("after conditional delete: %v", err)
	}
	// A corrupt row has a version, so a repair can replace it conditionally.
	if _, err := s.pool.Exec(ctx, `INSERT INTO iac_resources (name, outputs) VALUES ('bad', '[1]')`); err != nil {
		t.Fatal(err)
	}
	vb, err := s.GetVersioned(ctx, "bad")
	if !errors.Is(err, stores.ErrCorrupt) || vb.Version == "" || !strings.Contains(err.Error(), "outputs is a JSON array") {
		t.Fatalf("corrupt row: %+v, %v", vb, err)
	}
	if err := s.SaveIf(ctx, storetest.Record("bad"), vb.Version); err != nil {
		t.Errorf("repairing the corrupt row: %v", err)
	}
}

func TestRegisteredSchemes(t *testing.T) {
	pg := testserver.Postgres(t)
	db := pg.NewDatabase(t, "")
	for _, scheme := range []string{"postgres", "postgresql"} {
		st, err := stores.Open(testCtx(t), fmt.Sprintf("%s://postgres@%s:%d/%s?sslmode=disable", scheme, pg.Host, pg.Port, db))
		if err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		if _, ok := st.(*Store); !ok {
			t.Errorf("%s opened a %T", scheme, st)
		}
		stores.Close(st)
	}
}

func TestLimitations(t *testing.T) {
	var s stores.Limiter = &Store{}
	if l := s.Limitations(); len(l) != 1 || !strings.Contains(l[0], "error") {
		t.Errorf("limitations: %v", l)
	}
}

// pgErrCode returns the SQLSTATE wrapped in err, if any.
func pgErrCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// TestObjectDecoder runs values through one shared decoder, as a listing
// does: a bad value must not disturb the ones after it.
func TestObjectDecoder(t *testing.T) {
	var dec objectDecoder
	tests := []struct {
		in      string
		want    map[string]any
		problem string
	}{
		{`{"n": 9007199254740993, "s": "x"}`, map[string]any{"n": json.Number("9007199254740993"), "s": "x"}, ""},
		{`null`, nil, ""},
		{`{}`, map[string]any{}, ""},
		{`"garbage"`, nil, "outputs is a JSON string, not an object"},
		{`[1, 2]`, nil, "outputs is a JSON array, not an object"},
		{`5`, nil, "outputs is a JSON number, not an object"},
		{`{"a": `, nil, "outputs is unreadable: unexpected EOF"},
		{`{"after": "errors"}`, map[string]any{"after": "errors"}, ""},
	}
	for _, tt := range tests {
		got, problem := dec.decode("outputs", []byte(tt.in))
		if problem != tt.problem || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("decode(%s) = %#v, %q; want %#v, %q", tt.in, got, problem, tt.want, tt.problem)
		}
	}
}
