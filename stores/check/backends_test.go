package check_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"

	"statescope/stores"
	"statescope/stores/check"
	"statescope/stores/postgres"
	_ "statescope/stores/s3"
	"statescope/stores/storetest/testserver"
)

func open(t *testing.T, target string) stores.Store {
	t.Helper()
	s, err := stores.Open(testCtx(t), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stores.Close(s) })
	return s
}

func TestPostgresFindsEveryKind(t *testing.T) {
	pg := testserver.Postgres(t)
	dsn := pg.SuperuserDSN(pg.NewDatabase(t, ""))
	s := open(t, dsn)
	p := planter{store: s, raw: func(t *testing.T, name, _ string) {
		// A row whose outputs is not a JSON object cannot be a record.
		pg.MustExec(t, dbOf(dsn), fmt.Sprintf(`INSERT INTO iac_resources (name, outputs) VALUES ('%s', '[1, 2]')`, name))
	}}
	want := plantCommon(t, p, false)
	// Locks are session advisory locks: an idle session, one idle in an
	// open transaction, and one on a key no row hashes to.
	hold := func(id string, inTx bool) {
		conn, err := pgx.Connect(testCtx(t), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		if inTx {
			if _, err := conn.Exec(testCtx(t), "BEGIN"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := conn.Exec(testCtx(t), "SELECT pg_advisory_lock($1)", postgres.Key(id)); err != nil {
			t.Fatal(err)
		}
	}
	hold("web", false)
	hold("db", true)
	hold("nothing-here", false)
	if err := s.Save(testCtx(t), rec("timeless", stores.StatusActive)); err != nil {
		t.Fatal(err)
	}
	pg.MustExec(t, dbOf(dsn), `UPDATE iac_resources SET created_at = 'infinity', updated_at = '12000-01-01' WHERE name = 'timeless'`)
	want = append(want, check.StaleLock, check.IdleTransactionLock, check.LockWithoutRecord, check.UnreadableTimestamp)

	// An hour from now every session is past the threshold and the
	// provisioning record (whose updated_at the database set) is stuck.
	rep, got := kinds(t, s, check.Options{Target: dsn, Now: time.Now().Add(time.Hour)})
	assertKinds(t, rep, got, want)
}

func TestPostgresCleanHasNoFindings(t *testing.T) {
	pg := testserver.Postgres(t)
	dsn := pg.SuperuserDSN(pg.NewDatabase(t, ""))
	s := open(t, dsn)
	for _, r := range []*stores.State{rec("db", stores.StatusActive), rec("web", stores.StatusActive, "db")} {
		if err := s.Save(testCtx(t), r); err != nil {
			t.Fatal(err)
		}
	}
	rep, got := kinds(t, s, check.Options{Target: dsn})
	assertKinds(t, rep, got, nil)
}

// A database the engine has not written to yet has no table: nothing
// to find, and nothing created by looking.
func TestPostgresWithoutTableHasNoFindings(t *testing.T) {
	pg := testserver.Postgres(t)
	db := pg.NewDatabase(t, "")
	dsn := pg.SuperuserDSN(db)
	rep, got := kinds(t, open(t, dsn), check.Options{Target: dsn})
	assertKinds(t, rep, got, nil)
	if n := pg.MustExec(t, db, "SELECT count(*) FROM pg_tables WHERE tablename = 'iac_resources'"); n != "0" {
		t.Errorf("the check created the table (%s)", n)
	}
}

func dbOf(dsn string) string {
	u, _ := url.Parse(dsn)
	return u.Path[1:]
}

// s3Store opens a fresh bucket on the shared versitygw through its target,
// with a raw writer behind the store's back.
func s3Store(t *testing.T) (planter, string) {
	gw, bucket := s3Bucket(t)
	target := s3Target(gw, bucket, gw.Endpoint)
	client := awss3.New(awss3.Options{Region: gw.Region, BaseEndpoint: aws.String(gw.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(gw.AccessKey, gw.SecretKey, "")})
	put := func(ext string) func(t *testing.T, name, body string) {
		return func(t *testing.T, name, body string) {
			_, err := client.PutObject(testCtx(t), &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("iac-state/" + name + ext), Body: bytes.NewReader([]byte(body))})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return planter{store: open(t, target), raw: put(".json"), lock: put(".lock")}, target
}

// s3Bucket makes a fresh bucket on the shared versitygw and gives the AWS
// default credential chain its keys, as an operator's environment would.
func s3Bucket(t testing.TB) (*testserver.VersityGW, string) {
	gw := testserver.SharedVersityGW(t)
	t.Setenv("AWS_ACCESS_KEY_ID", gw.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", gw.SecretKey)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return gw, gw.NewBucket(t)
}

// s3Target addresses bucket's default prefix through endpoint.
func s3Target(gw *testserver.VersityGW, bucket, endpoint string) string {
	return fmt.Sprintf("s3://%s/iac-state/?region=%s&endpoint=%s", bucket, gw.Region, url.QueryEscape(endpoint))
}

func TestS3FindsEveryKind(t *testing.T) {
	p, target := s3Store(t)
	want := plantCommon(t, p, true)
	p.raw(t, "db-copy", encode(t, rec("db", stores.StatusActive)))
	p.raw(t, "misnamed", encode(t, rec("properly-named", stores.StatusActive)))
	want = append(want, check.DuplicateID, check.NameMismatch)
	rep, got := kinds(t, p.store, check.Options{Target: target})
	assertKinds(t, rep, got, want)
}

func TestS3CleanHasNoFindings(t *testing.T) {
	p, target := s3Store(t)
	for _, r := range []*stores.State{rec("a/b", stores.StatusActive), rec("web", stores.StatusActive, "a/b")} {
		if err := p.store.Save(testCtx(t), r); err != nil {
			t.Fatal(err)
		}
	}
	rep, got := kinds(t, p.store, check.Options{Target: target})
	assertKinds(t, rep, got, nil)
}

// TestPostgresTimestampRepairRunsAsPrinted runs the printed repair of an
// unreadable timestamp in a shell with no PG* variables set: it must reach
// the store's own server, database and schema (the DSN's search_path), and
// afterwards the check finds nothing there.
func TestPostgresTimestampRepairRunsAsPrinted(t *testing.T) {
	pg := testserver.Postgres(t)
	db := pg.NewDatabase(t, "")
	pg.MustExec(t, db, `CREATE SCHEMA "team's"`)
	dsn := pg.SuperuserDSN(db) + "&search_path=" + url.QueryEscape(`"team's"`)
	s := open(t, dsn)
	if err := s.Save(testCtx(t), rec("timeless", stores.StatusActive)); err != nil {
		t.Fatal(err)
	}
	pg.MustExec(t, db, `UPDATE "team's".iac_resources SET created_at = 'infinity' WHERE name = 'timeless'`)
	repair := ""
	for _, f := range findingsOf(t, s, dsn) {
		if f.Kind == check.UnreadableTimestamp {
			repair = f.Repair
		}
	}
	if repair == "" {
		t.Fatal("no unreadable-timestamp finding with a repair")
	}
	cmd := exec.Command("bash", "-c", repair)
	cmd.Env = []string{"PATH=" + pg.BinDir + ":/usr/bin:/bin", "HOME=" + t.TempDir()}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", repair, err, out)
	}
	for _, f := range findingsOf(t, s, dsn) {
		if f.Kind == check.UnreadableTimestamp {
			t.Errorf("still unreadable after %s: %s", repair, f.Evidence)
		}
	}
}

func findingsOf(t *testing.T, s stores.Store, target string) []check.Finding {
	t.Helper()
	rep, err := check.Run(testCtx(t), s, check.Options{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	return rep.Findings
}
