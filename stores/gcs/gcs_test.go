package gcs_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"statescope/stores"
	"statescope/stores/gcs"
	"statescope/stores/objectstore/objectstoretest"
	"statescope/stores/repair/repairtest"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

// fixture is a store on a fresh bucket plus a raw client to plant and
// inspect objects behind its back.
type fixture struct {
	store  *gcs.Store
	raw    *storage.BucketHandle
	bucket string
}

func endpointOpts(endpoint string) []option.ClientOption {
	return []option.ClientOption{option.WithEndpoint(endpoint), option.WithoutAuthentication()}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func openAt(t testing.TB, endpoint, target string) *gcs.Store {
	t.Helper()
	tgt, err := stores.ParseTarget(target)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gcs.Open(ctx(t), tgt, endpointOpts(endpoint)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newFixture opens gs://<fresh bucket><path> on the shared server.
func newFixture(t testing.TB, path string) fixture {
	t.Helper()
	srv := testserver.SharedFakeGCS(t)
	bucket := srv.NewBucket(t)
	client, err := storage.NewClient(ctx(t), endpointOpts(srv.Endpoint)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return fixture{store: openAt(t, srv.Endpoint, "gs://"+bucket+path), raw: client.Bucket(bucket), bucket: bucket}
}

func (f fixture) put(t testing.TB, key, contentType, body string) int64 {
	t.Helper()
	w := f.raw.Object(key).NewWriter(ctx(t))
	w.ContentType = contentType
	if _, err := io.WriteString(w, body); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return w.Attrs().Generation
}

func (f fixture) exists(t testing.TB, key string) bool {
	t.Helper()
	_, err := f.raw.Object(key).Attrs(ctx(t))
	if err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func TestConformance(t *testing.T) {
	p := &objectstoretest.Planted{Harness: objectstoretest.Harness{Open: openFixture}}
	storetest.Run(t, storetest.Harness{New: p.New, Corrupt: p.Corrupt, Capabilities: storetest.AllCapabilities})
}

// Every repair through the safety path, with true compare-and-swap.
func TestRepairs(t *testing.T) {
	p := &objectstoretest.Planted{Harness: objectstoretest.Harness{Open: openFixture}}
	repairtest.Run(t, repairtest.Harness{New: p.New, Corrupt: p.Corrupt, CorruptRaw: true, Capabilities: storetest.AllCapabilities, Plant: p.Plant})
}

// Locks that workflow wrote are recognised, refused and releasable.
func TestUpstreamLocks(t *testing.T) {
	tests := []struct {
		name, body, contentType string
		wantAgeFromCreation     bool
		wantEvidence            string
	}{
		{"engine literal", "locked", "text/plain", true, `"locked"`},
		{"timestamp", "2026-01-02T03:04:05Z", "", false, "written by workflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFixture(t, ""), ctx(t)
			if err := f.store.Save(c, storetest.Record("team/db")); err != nil {
				t.Fatal(err)
			}
			gen := f.put(t, "iac-state/team_db.lock", tt.contentType, tt.body)
			if err := f.store.Lock(c, "team/db"); !errors.Is(err, stores.ErrLocked) {
				t.Fatalf("lock over an upstream lock: %v, want ErrLocked", err)
			}
			locks, err := f.store.Locks(c)
			if err != nil {
				t.Fatal(err)
			}
			if len(locks) != 1 {
				t.Fatalf("got %d locks, want 1: %+v", len(locks), locks)
			}
			l := locks[0]
			if l.ResourceID != "team/db" {
				t.Errorf("ResourceID = %q, want the record's ID team/db", l.ResourceID)
			}
			if l.Holder != nil {
				t.Errorf("upstream lock has a holder: %+v", l.Holder)
			}
			wantAt, _ := stores.ParseTime(tt.body)
			if tt.wantAgeFromCreation {
				wantAt = time.Now()
			}
			if d := l.AcquiredAt.Sub(wantAt).Abs(); d > time.Minute {
				t.Errorf("AcquiredAt = %v, want about %v", l.AcquiredAt, wantAt)
			}
			if got := strings.Contains(l.Evidence, "creation time"); got != tt.wantAgeFromCreation {
				t.Errorf("evidence %q: mentions creation time = %v, want %v", l.Evidence, got, tt.wantAgeFromCreation)
			}
			if !strings.Contains(l.Evidence, tt.wantEvidence) {
				t.Errorf("evidence %q lacks %q", l.Evidence, tt.wantEvidence)
			}
			wantRelease := "delete gs://" + f.bucket + "/iac-state/team_db.lock generation "
			if !strings.HasPrefix(l.Release, wantRelease) || l.Token == "" || !strings.HasSuffix(l.Release, l.Token) {
				t.Errorf("Release %q / Token %q do not name the generation (%d)", l.Release, l.Token, gen)
			}
			if string(l.Raw) != tt.body {
				t.Errorf("Raw = %q, want %q", l.Raw, tt.body)
			}
			// Unlock works from any process, as upstream's does.
			if err := f.store.Unlock(c, "team/db"); err != nil {
				t.Fatal(err)
			}
			if f.exists(t, "iac-state/team_db.lock") {
				t.Error("unlock left the lock object")
			}
		})
	}
}

// statescope's lock is an object workflow recognises: created only if
// absent, and it excludes a workflow-style create.
func TestLockObjectLayout(t *testing.T) {
	f, c := newFixture(t, ""), ctx(t)
	if err := f.store.LockAs(c, "db", stores.NewHolder("repair")); err != nil {
		t.Fatal(err)
	}
	attrs, err := f.raw.Object("iac-state/db.lock").Attrs(c)
	if err != nil {
		t.Fatal(err)
	}
	if attrs.ContentType != "text/plain" {
		t.Errorf("content type %q", attrs.ContentType)
	}
	w := f.raw.Object("iac-state/db.lock").If(storage.Conditions{DoesNotExist: true}).NewWriter(c)
	io.WriteString(w, "locked")
	if err := w.Close(); err == nil {
		t.Error("a workflow-style create succeeded over statescope's lock")
	}
	locks, err := f.store.Locks(c)
	if err != nil || len(locks) != 1 {
		t.Fatalf("locks: %v %+v", err, locks)
	}
	if h := locks[0].Holder; h == nil || h.Operation != "repair" || h.Tool != "statescope" {
		t.Errorf("holder = %+v", h)
	}
	if !strings.Contains(locks[0].Evidence, "no record with this name") {
		t.Errorf("evidence %q does not say the ID came from the name", locks[0].Evidence)
	}
}

// Only a failed condition is "already locked"; other failures keep their
// own meaning (upstream reports every failure as locked).
func TestLockFailuresNotConflated(t *testing.T) {
	tests := []struct {
		status     int
		wantLocked bool
	}{
		{http.StatusForbidden, false},
		{http.StatusUnauthorized, false},
		{http.StatusPreconditionFailed, true},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				io.WriteString(w, `{"error":{"code":`+strconv.Itoa(tt.status)+`,"message":"`+http.StatusText(tt.status)+`"}}`)
			}))
			defer srv.Close()
			s := openAt(t, srv.URL+"/storage/v1/", "gs://b")
			err := s.Lock(ctx(t), "db")
			if err == nil {
				t.Fatal("lock succeeded against a failing server")
			}
			if got := errors.Is(err, stores.ErrLocked); got != tt.wantLocked {
				t.Errorf("lock error %v: ErrLocked = %v, want %v", err, got, tt.wantLocked)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		s := openAt(t, url+"/storage/v1/", "gs://b")
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := s.Lock(c, "db"); err == nil || errors.Is(err, stores.ErrLocked) {
			t.Errorf("lock against a closed port: %v, want a network error", err)
		}
	})
}

// openFixture opens a store at path on a fresh bucket, with a raw
// client to plant and inspect objects behind its back.
func openFixture(t *testing.T, path string) objectstoretest.Fixture {
	f := newFixture(t, path)
	return objectstoretest.Fixture{
		Store: f.store,
		Base:  "gs://" + f.bucket + "/",
		Put: func(t *testing.T, key, contentType, body string) {
			f.put(t, key, contentType, body)
		},
		ContentType: func(t *testing.T, key string) string {
			attrs, err := f.raw.Object(key).Attrs(ctx(t))
			if errors.Is(err, storage.ErrObjectNotExist) {
				return ""
			}
			if err != nil {
				t.Fatal(err)
			}
			return attrs.ContentType
		},
	}
}

func TestObjectStore(t *testing.T) {
	objectstoretest.Run(t, objectstoretest.Harness{Open: openFixture, Interposed: func(t *testing.T) objectstoretest.Interposed {
		srv := testserver.SharedFakeGCS(t)
		ip := objectstoretest.Interpose(t, srv.Addr)
		target := "gs://" + srv.NewBucket(t)
		return objectstoretest.Interposed{
			Store:  openAt(t, "http://"+ip.Addr+"/storage/v1/", target),
			Direct: openAt(t, srv.Endpoint, target),
			Proxy:  ip,
		}
	}, Split: &objectstoretest.Split{
		Open: func(t *testing.T, pageSize int) objectstoretest.Interposed {
			srv := testserver.SharedFakeGCS(t)
			ip := objectstoretest.Interpose(t, srv.Addr)
			target := "gs://" + srv.NewBucket(t)
			s := openAt(t, "http://"+ip.Addr+"/storage/v1/", target)
			gcs.SetPageSize(s, pageSize)
			return objectstoretest.Interposed{Store: s, Direct: openAt(t, srv.Endpoint, target), Proxy: ip}
		},
		After: func(r *http.Request) string {
			// The first name after the key: the key and a NUL.
			return strings.TrimSuffix(r.URL.Query().Get("startOffset"), "\x00")
		},
	}})
}

func TestTargets(t *testing.T) {
	// Open sends nothing, so no server is needed.
	const endpoint = "http://127.0.0.1:1/storage/v1/"
	tests := []struct {
		target   string
		describe string
		wantErr  string
	}{
		{"gs://b", "gcs gs://b/iac-state/", ""},
		{"gs://b/p?parallel=4", "gcs gs://b/p", ""},
		{"gs://", "", "names no bucket"},
		{"gs://b?parallel=0", "", "parallel=0"},
		{"gs://b?paralel=4", "", `unknown option "paralel"`},
		{"gs://user:hunter2@b", "", "credentials are not accepted"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			tgt, err := stores.ParseTarget(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			s, err := gcs.Open(ctx(t), tgt, endpointOpts(endpoint)...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("open: %v, want an error containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.Describe(); got != tt.describe {
				t.Errorf("Describe = %q, want %q", got, tt.describe)
			}
		})
	}
}

// The registered scheme honours STORAGE_EMULATOR_HOST, without auth.
func TestOpenWithEmulatorVariable(t *testing.T) {
	srv := testserver.SharedFakeGCS(t)
	t.Setenv("STORAGE_EMULATOR_HOST", srv.Addr)
	bucket := srv.NewBucket(t)
	s, err := stores.Open(ctx(t), "gs://"+bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer stores.Close(s)
	if err := s.Save(ctx(t), storetest.Record("db")); err != nil {
		t.Fatal(err)
	}
	if d := stores.Describe(s); d != "gcs gs://"+bucket+"/iac-state/ (emulator "+srv.Addr+")" {
		t.Errorf("Describe = %q", d)
	}
}

// A token that names no generation (0, negative, not a number) never
// releases the live lock: generation 0 would address the latest one.
func TestForceUnlockWithoutAGeneration(t *testing.T) {
	f, c := newFixture(t, ""), ctx(t)
	if err := f.store.Lock(c, "db"); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"0", "-1", "latest", ""} {
		if err := f.store.ForceUnlock(c, "db", tok); !errors.Is(err, stores.ErrLockChanged) {
			t.Errorf("ForceUnlock with token %q: %v, want ErrLockChanged", tok, err)
		}
	}
	if !f.exists(t, "iac-state/db.lock") {
		t.Fatal("a token naming no generation released the lock")
	}
}
