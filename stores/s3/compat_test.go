package s3

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"statescope/stores"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

// engineRecord is a record as the engine and the plugins write it:
// MarshalIndent, upstream key order, no trailing newline.
const engineRecord = `{
  "resource_id": "team/db",
  "resource_type": "infra.database",
  "provider": "digitalocean",
  "provider_id": "db-123",
  "status": "active",
  "outputs": null,
  "config": {
    "size": "db-s-1vcpu-1gb"
  },
  "created_at": "2026-05-01T10:00:00Z",
  "updated_at": "2026-05-01T10:05:00Z"
}`

// The bytes statescope writes are the bytes upstream writes, under the keys
// upstream uses, with the prefix taken verbatim.
func TestWritesUpstreamLayout(t *testing.T) {
	tests := []struct {
		prefix, id, wantKey string
	}{
		{DefaultPrefix, "team/db", "iac-state/team_db.json"},
		{"state", "foo", "statefoo.json"},
		{"", `win\path`, "win_path.json"},
	}
	for _, tt := range tests {
		t.Run(tt.wantKey, func(t *testing.T) {
			s, c := newStore(t, tt.prefix), testCtx(t)
			rec := storetest.Record(tt.id)
			if err := s.Save(c, rec); err != nil {
				t.Fatal(err)
			}
			obj, err := s.client.GetObject(c, &awss3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(tt.wantKey)})
			if err != nil {
				t.Fatalf("record not at %s: %v", tt.wantKey, err)
			}
			defer obj.Body.Close()
			var got bytes.Buffer
			got.ReadFrom(obj.Body)
			want, _ := stores.EncodeState(rec)
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("stored bytes differ from upstream's encoding:\n%s\nwant\n%s", got.Bytes(), want)
			}
			if ct := aws.ToString(obj.ContentType); ct != "application/json" {
				t.Errorf("content type %q, want application/json", ct)
			}
			if err := s.Lock(c, tt.id); err != nil {
				t.Fatal(err)
			}
			lockKey := strings.TrimSuffix(tt.wantKey, ".json") + ".lock"
			lock, err := s.read(c, lockKey)
			if err != nil {
				t.Fatalf("lock not at %s: %v", lockKey, err)
			}
			first, _, _ := strings.Cut(string(lock.body), "\n")
			if _, err := time.Parse(time.RFC3339, first); err != nil {
				t.Errorf("lock body does not start with upstream's timestamp: %q", lock.body)
			}
		})
	}
}

// Objects written by workflow: engine JSON, bare-timestamp locks, records in
// nested keys (upstream lists recursively) and locks with no record.
func TestReadsUpstreamObjects(t *testing.T) {
	s, c := newStore(t, DefaultPrefix), testCtx(t)
	putRaw(t, s, "iac-state/team_db.json", []byte(engineRecord))
	putRaw(t, s, "iac-state/team_db.lock", []byte("2026-05-01T10:00:00Z"))
	putRaw(t, s, "iac-state/orphan.lock", []byte("2026-05-01T11:00:00Z"))
	putRaw(t, s, "iac-state/empty.lock", nil)
	nested := storetest.Record("moved/by/hand")
	data, _ := stores.EncodeState(nested)
	putRaw(t, s, "iac-state/archive/old.json", data)
	putRaw(t, s, "iac-state/notes.txt", []byte("not a record"))
	putRaw(t, s, "elsewhere/ignored.json", data)

	got, err := s.Get(c, "team/db")
	if err != nil {
		t.Fatal(err)
	}
	if got.Provider != "digitalocean" || got.Outputs != nil || got.Config["size"] != "db-s-1vcpu-1gb" {
		t.Errorf("engine record read as %+v", got)
	}

	entries, err := s.List(c, stores.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range entries {
		if e.Corrupt() {
			t.Errorf("unexpected corrupt entry %+v", e)
		}
		ids = append(ids, e.ID)
	}
	if want := []string{"moved/by/hand", "team/db"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("list: %v, want %v", ids, want)
	}
	if src := entries[0].Source; src != "s3://"+s.cfg.Bucket+"/iac-state/archive/old.json" {
		t.Errorf("source %q", src)
	}

	// A listed record is found by Get and Delete wherever it sits.
	if _, err := s.Get(c, "moved/by/hand"); err != nil {
		t.Errorf("get of a record in a nested key: %v", err)
	}

	locks, err := s.Locks(c)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]stores.LockInfo{}
	for _, l := range locks {
		byID[l.ResourceID] = l
	}
	tests := []struct {
		id       string
		at       time.Time
		evidence []string
	}{
		{"team/db", time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), []string{"written by workflow"}},
		{"orphan", time.Date(2026, 5, 1, 11, 0, 0, 0, time.UTC), []string{"ID taken from the key"}},
		{"empty", time.Time{}, []string{"lock body is empty", "LastModified"}},
	}
	if len(locks) != len(tests) {
		t.Errorf("%d locks, want %d: %+v", len(locks), len(tests), locks)
	}
	for _, tt := range tests {
		l, ok := byID[tt.id]
		if !ok {
			t.Errorf("no lock for %q", tt.id)
			continue
		}
		if !tt.at.IsZero() && !l.AcquiredAt.Equal(tt.at) {
			t.Errorf("%s: acquired %v, want %v", tt.id, l.AcquiredAt, tt.at)
		}
		if l.AcquiredAt.IsZero() {
			t.Errorf("%s: no acquisition time", tt.id)
		}
		for _, w := range tt.evidence {
			if !strings.Contains(l.Evidence, w) {
				t.Errorf("%s: evidence %q lacks %q", tt.id, l.Evidence, w)
			}
		}
		if etag, _, _ := strings.Cut(strings.TrimPrefix(l.Token, "fresh-"), "@"); l.Holder != nil || etag == "" || !strings.Contains(l.Release, etag) {
			t.Errorf("%s: holder %v token %q release %q", tt.id, l.Holder, l.Token, l.Release)
		}
	}

	// Upstream's Unlock semantics: anyone may delete any lock.
	if err := s.Unlock(c, "team/db"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock(c, "team/db"); !errors.Is(err, stores.ErrNotLocked) {
		t.Errorf("second unlock: %v, want ErrNotLocked", err)
	}
	if err := s.Delete(c, "moved/by/hand"); err != nil {
		t.Errorf("delete of a record in a nested key: %v", err)
	}
	if _, err := s.read(c, "iac-state/archive/old.json"); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("nested record still there: %v", err)
	}
}

// "a/b" and "a_b" share a key: the second is refused instead of destroying
// the first, and neither is mistaken for the other.
func TestNameCollision(t *testing.T) {
	s, c := newStore(t, DefaultPrefix), testCtx(t)
	if err := s.Save(c, storetest.Record("a/b")); err != nil {
		t.Fatal(err)
	}
	err := s.Save(c, storetest.Record("a_b"))
	if err == nil || !strings.Contains(err.Error(), `holds resource "a/b" (their object names collide)`) {
		t.Fatalf("saving a colliding record: %v", err)
	}
	if _, err := s.Get(c, "a_b"); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("get a_b: %v, want ErrNotFound", err)
	}
	if _, err := s.GetVersioned(c, "a_b"); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("get versioned a_b: %v, want ErrNotFound", err)
	}
	if err := s.Delete(c, "a_b"); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("delete a_b: %v, want ErrNotFound", err)
	}
	if got, err := s.Get(c, "a/b"); err != nil || got.ResourceID != "a/b" {
		t.Errorf("get a/b: %v, %v", got, err)
	}
}

// Garbage under a record's own key is that record, unreadable: Get says so,
// and a conditional save on its version repairs it.
func TestCorruptUnderOwnKey(t *testing.T) {
	s, c := newStore(t, DefaultPrefix), testCtx(t)
	garbage := []byte("{\"resource_id\": \"x\", trunc")
	putRaw(t, s, "iac-state/x.json", garbage)
	if _, err := s.Get(c, "x"); !errors.Is(err, stores.ErrCorrupt) {
		t.Fatalf("get: %v, want ErrCorrupt", err)
	}
	v, err := s.GetVersioned(c, "x")
	if !errors.Is(err, stores.ErrCorrupt) || v.Version == "" || !bytes.Equal(v.Raw, garbage) {
		t.Fatalf("get versioned: %+v, %v; want version and raw bytes with ErrCorrupt", v, err)
	}
	if err := s.SaveIf(c, storetest.Record("x"), v.Version); err != nil {
		t.Fatalf("repair: %v", err)
	}
	if _, err := s.Get(c, "x"); err != nil {
		t.Errorf("after repair: %v", err)
	}
	putRaw(t, s, "iac-state/y.json", garbage)
	if err := s.Delete(c, "y"); err != nil {
		t.Errorf("deleting an unreadable record: %v", err)
	}
}

func TestConditionalStore(t *testing.T) {
	var _ stores.ConditionalStore = (*Store)(nil)
	s, c := newStore(t, DefaultPrefix), testCtx(t)
	const id = "cas/db"
	if err := s.SaveIf(c, storetest.Record(id), ""); err != nil {
		t.Fatalf("create: %v", err)
	}
	v1, err := s.GetVersioned(c, id)
	if err != nil {
		t.Fatal(err)
	}
	changed := storetest.Record(id)
	changed.Status = stores.StatusDestroyed
	if err := s.SaveIf(c, changed, v1.Version); err != nil {
		t.Fatalf("save on the current version: %v", err)
	}
	v2, _ := s.GetVersioned(c, id)
	if v2.Version == v1.Version || v2.State.Status != stores.StatusDestroyed {
		t.Fatalf("version %s → %s, status %s", v1.Version, v2.Version, v2.State.Status)
	}
	tests := []struct {
		name    string
		op      func() error
		wantErr []error
	}{
		{"create over an existing record", func() error { return s.SaveIf(c, storetest.Record(id), "") }, []error{stores.ErrConflict}},
		{"save on a stale version", func() error { return s.SaveIf(c, storetest.Record(id), v1.Version) }, []error{stores.ErrConflict}},
		{"delete on a stale version", func() error { return s.DeleteIf(c, id, v1.Version) }, []error{stores.ErrConflict}},
		{"save on a version of a missing record", func() error { return s.SaveIf(c, storetest.Record("nope"), v1.Version) }, []error{stores.ErrConflict}},
		{"delete on the current version", func() error { return s.DeleteIf(c, id, v2.Version) }, nil},
		{"delete again", func() error { return s.DeleteIf(c, id, v2.Version) }, []error{stores.ErrConflict, stores.ErrNotFound}},
	}
	for _, tt := range tests {
		err := tt.op()
		if len(tt.wantErr) == 0 && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		for _, w := range tt.wantErr {
			if !errors.Is(err, w) {
				t.Errorf("%s: %v, want %v", tt.name, err, w)
			}
		}
		// Every refused write left the destroyed record alone.
		if tt.wantErr != nil && tt.name != "delete again" {
			if cur, _ := s.GetVersioned(c, id); cur.Version != v2.Version {
				t.Errorf("%s: refused, but the record changed", tt.name)
			}
		}
	}
}

// The delete ForceUnlock sends carries If-Match: versitygw must refuse a
// stale ETag even when the lock was retaken after the caller's check.
func TestStaleETagLeavesLiveLock(t *testing.T) {
	s, c := newStore(t, DefaultPrefix), testCtx(t)
	key := s.layout.LockKey("db")
	if err := s.Lock(c, "db"); err != nil {
		t.Fatal(err)
	}
	stale, _ := s.headETag(c, key)
	if err := s.Unlock(c, "db"); err != nil {
		t.Fatal(err)
	}
	if err := s.Lock(c, "db"); err != nil {
		t.Fatal(err)
	}
	live, _ := s.headETag(c, key)
	_, err := s.client.DeleteObject(c, &awss3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key), IfMatch: aws.String(stale)})
	if !isPrecondition(err) {
		t.Fatalf("conditional delete with a stale ETag: %v, want 412", err)
	}
	if err := s.ForceUnlock(c, "db", stale); !errors.Is(err, stores.ErrLockChanged) {
		t.Errorf("force unlock with a stale ETag: %v", err)
	}
	if cur, err := s.headETag(c, key); err != nil || cur != live {
		t.Errorf("live lock changed: %s (%v), want %s", cur, err, live)
	}
}

// A PUT retried after a lost reply finds its own lock: that is success.
func TestLockFindsItsOwnRetriedWrite(t *testing.T) {
	s, c := newStore(t, DefaultPrefix), testCtx(t)
	h := stores.NewHolder("apply")
	putRaw(t, s, s.layout.LockKey("db"), stores.EncodeLockBody(h))
	if err := s.LockAs(c, "db", h); err != nil {
		t.Errorf("lock already holding our own body: %v", err)
	}
	if err := s.LockAs(c, "db", stores.NewHolder("apply")); !errors.Is(err, stores.ErrLocked) {
		t.Errorf("another holder: %v, want ErrLocked", err)
	}
	locks, _ := s.Locks(c)
	if len(locks) != 1 || locks[0].Holder == nil || locks[0].Holder.Nonce != h.Nonce {
		t.Errorf("inventory: %+v", locks)
	}
	if err := s.LockAs(c, "other", nil); err != nil {
		t.Errorf("lock with no holder given: %v", err)
	}
}

// Auth and network failures are reported as themselves, never as "locked",
// "not locked" or "not found".
func TestFailuresAreNotLockStates(t *testing.T) {
	gw := testserver.SharedVersityGW(t)
	bucket := gw.NewBucket(t)
	c := testCtx(t)

	wrong := gwConfig(gw, bucket, DefaultPrefix)
	wrong.Credentials = staticCreds("AKIDNOSUCHUSER", "not-the-secret")
	badCreds := openStore(t, gwConfig(gw, bucket, DefaultPrefix))
	opts := badCreds.client.Options()
	opts.Credentials = wrong.Credentials
	badCreds.client = awss3.New(opts)

	proxied := gwConfig(gw, bucket, DefaultPrefix)
	proxy := startProxy(t, gw, 0)
	proxied.Endpoint = "http://" + proxy.Addr()
	unreachable := openStore(t, proxied)
	proxy.Close()

	for name, s := range map[string]*Store{"bad credentials": badCreds, "unreachable": unreachable} {
		t.Run(name, func(t *testing.T) {
			ops := map[string]error{
				"lock":   s.Lock(c, "db"),
				"unlock": s.Unlock(c, "db"),
				"force":  s.ForceUnlock(c, "db", `"etag"`),
			}
			_, ops["get"] = s.Get(c, "db")
			for op, err := range ops {
				if err == nil {
					t.Errorf("%s succeeded", op)
				}
				for _, lie := range []error{stores.ErrLocked, stores.ErrNotLocked, stores.ErrNotFound, stores.ErrLockChanged} {
					if errors.Is(err, lie) {
						t.Errorf("%s: %v reported as %q", op, err, lie)
					}
				}
			}
		})
	}
}

// Targets open through the registry with credentials from the environment,
// and no credential appears in errors or descriptions.
func TestOpenTargets(t *testing.T) {
	gw := testserver.SharedVersityGW(t)
	bucket := gw.NewBucket(t)
	c := testCtx(t)
	// Keep the default chain to the variables set here.
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	endpoint := url.QueryEscape(gw.Endpoint)
	tests := []struct {
		name    string
		target  string
		env     map[string]string
		wantErr string
		desc    string
	}{
		{"s3 with the AWS chain", "s3://" + bucket + "/team/?region=us-east-1&endpoint=" + endpoint,
			map[string]string{"AWS_ACCESS_KEY_ID": gw.AccessKey, "AWS_SECRET_ACCESS_KEY": gw.SecretKey}, "",
			"s3://" + bucket + "/team/ (region us-east-1, endpoint " + gw.Endpoint + ")"},
		{"spaces with DO keys", "spaces://" + bucket + "?endpoint=" + endpoint,
			map[string]string{"DO_SPACES_ACCESS_KEY": gw.AccessKey, "DO_SPACES_SECRET_KEY": gw.SecretKey}, "",
			"spaces://" + bucket + "/iac-state/ (endpoint " + gw.Endpoint + ")"},
		{"spaces with a wrong secret", "spaces://" + bucket + "?endpoint=" + endpoint,
			map[string]string{"DO_SPACES_ACCESS_KEY": gw.AccessKey, "DO_SPACES_SECRET_KEY": "WRONG-secret-value-123"}, "StatusCode: 403", ""},
		{"missing bucket", "s3://no-such-bucket?endpoint=" + endpoint,
			map[string]string{"AWS_ACCESS_KEY_ID": gw.AccessKey, "AWS_SECRET_ACCESS_KEY": gw.SecretKey}, `bucket "no-such-bucket" does not exist`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "DO_SPACES_ACCESS_KEY", "DO_SPACES_SECRET_KEY"} {
				t.Setenv(k, tt.env[k])
			}
			st, err := stores.Open(c, tt.target)
			var text string
			if err != nil {
				text = err.Error()
			} else {
				defer stores.Close(st)
				text = stores.Describe(st)
			}
			for _, v := range tt.env {
				if strings.Contains(text, v) {
					t.Errorf("%q shows a credential", text)
				}
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(text, tt.wantErr) {
					t.Fatalf("open: %v, want an error saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if text != tt.desc {
				t.Errorf("describe: %q, want %q", text, tt.desc)
			}
			id := "via/" + tt.name
			if err := st.Save(c, storetest.Record(id)); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Get(c, id); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Listing pages through ListObjectsV2 and fetches across page boundaries.
func TestPagination(t *testing.T) {
	s, c := newStore(t, DefaultPrefix), testCtx(t)
	s.pageSize = 7
	const n = 40
	var want []string
	for i := range n {
		id := fmt.Sprintf("r%02d", i)
		want = append(want, id)
		if err := s.Save(c, storetest.Record(id)); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			if err := s.Lock(c, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	entries, err := s.List(c, stores.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.ID)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("list over pages of 7: %v", got)
	}
	locks, err := s.Locks(c)
	if err != nil {
		t.Fatal(err)
	}
	var lockIDs []string
	for _, l := range locks {
		lockIDs = append(lockIDs, l.ResourceID)
	}
	sort.Strings(lockIDs)
	if w := []string{"r00", "r10", "r20", "r30"}; !reflect.DeepEqual(lockIDs, w) {
		t.Errorf("locks: %v, want %v", lockIDs, w)
	}
}
