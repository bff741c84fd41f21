package azblob_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"

	"statescope/stores"
	"statescope/stores/azblob"
	"statescope/stores/latencyproxy"
	"statescope/stores/objectstore/objectstoretest"
	"statescope/stores/repair/repairtest"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

var devAuth = azblob.Auth{Account: testserver.AzuriteAccount, Key: testserver.AzuriteKey}

// fixture is a store on a fresh container plus a raw client to plant and
// inspect blobs behind its back.
type fixture struct {
	store     *azblob.Store
	raw       *container.Client
	container string
	cfg       azblob.Config
}

// newContainer creates an empty container on the shared Azurite.
func newContainer(t testing.TB) (*testserver.Azurite, *container.Client, string) {
	t.Helper()
	srv := testserver.SharedAzurite(t)
	name := "t-" + stores.RandomHex(6)
	cred, err := container.NewSharedKeyCredential(testserver.AzuriteAccount, testserver.AzuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := container.NewClientWithSharedKeyCredential(srv.AccountURL+"/"+name, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Create(ctx(t), nil); err != nil {
		t.Fatalf("create container %s: %v", name, err)
	}
	return srv, raw, name
}

func newFixture(t testing.TB, prefix string, lease time.Duration) fixture {
	t.Helper()
	srv, raw, name := newContainer(t)
	cfg := azblob.Config{Container: name, Prefix: prefix, AccountURL: srv.AccountURL, Auth: devAuth, LeaseDuration: lease}
	return fixture{store: newStore(t, cfg), raw: raw, container: name, cfg: cfg}
}

func newStore(t testing.TB, cfg azblob.Config) *azblob.Store {
	t.Helper()
	s, err := azblob.New(ctx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func (f fixture) put(t testing.TB, key, contentType, body string) {
	t.Helper()
	_, err := f.raw.NewBlockBlobClient(key).Upload(ctx(t), streaming.NopCloser(strings.NewReader(body)),
		&blockblob.UploadOptions{HTTPHeaders: &blob.HTTPHeaders{BlobContentType: &contentType}})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func (f fixture) props(t testing.TB, key string) (blob.GetPropertiesResponse, bool) {
	t.Helper()
	p, err := f.raw.NewBlobClient(key).GetProperties(ctx(t), nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return p, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return p, true
}

// prefixOf turns the objectstore suite's target path into a Config
// prefix: "" and "/" are the default, anything else is used verbatim.
func prefixOf(path string) string { return strings.TrimPrefix(path, "/") }

func TestConformance(t *testing.T) {
	p := &objectstoretest.Planted{Harness: objectstoretest.Harness{Open: openFixture}}
	storetest.Run(t, storetest.Harness{New: p.New, Corrupt: p.Corrupt, Capabilities: storetest.AllCapabilities})
}

// Every repair through the safety path, with true compare-and-swap.
func TestRepairs(t *testing.T) {
	p := &objectstoretest.Planted{Harness: objectstoretest.Harness{Open: openFixture}}
	repairtest.Run(t, repairtest.Harness{New: p.New, Corrupt: p.Corrupt, CorruptRaw: true, Capabilities: storetest.AllCapabilities, Plant: p.Plant})
}

// openFixture opens a store at path on a fresh bucket, with a raw
// client to plant and inspect objects behind its back.
func openFixture(t *testing.T, path string) objectstoretest.Fixture {
	f := newFixture(t, prefixOf(path), 0)
	return objectstoretest.Fixture{
		Store: f.store,
		Base:  "azblob://" + f.container + "/",
		Put: func(t *testing.T, key, contentType, body string) {
			f.put(t, key, contentType, body)
		},
		ContentType: func(t *testing.T, key string) string {
			p, ok := f.props(t, key)
			if !ok || p.ContentType == nil {
				return ""
			}
			return *p.ContentType
		},
	}
}

func TestObjectStore(t *testing.T) {
	objectstoretest.Run(t, objectstoretest.Harness{Open: openFixture, Interposed: func(t *testing.T) objectstoretest.Interposed {
		f := newFixture(t, "", 0)
		ip := objectstoretest.Interpose(t, testserver.SharedAzurite(t).Addr)
		cfg := f.cfg
		cfg.AccountURL = "http://" + ip.Addr + "/" + testserver.AzuriteAccount
		return objectstoretest.Interposed{Store: newStore(t, cfg), Direct: f.store, Proxy: ip}
	}})
}

// upstreamLease takes a lease the way the plugin does: on the placeholder,
// 60 s (or -1, infinite), recording nothing.
func upstreamLease(t testing.TB, f fixture, key string, seconds int32) *lease.BlobClient {
	t.Helper()
	f.put(t, key, "application/octet-stream", "")
	lc, err := lease.NewBlobClient(f.raw.NewBlobClient(key), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.AcquireLease(ctx(t), seconds, nil); err != nil {
		t.Fatal(err)
	}
	return lc
}

func TestUpstreamLocks(t *testing.T) {
	t.Run("placeholder without a lease is not a lock", func(t *testing.T) {
		f, c := newFixture(t, "", 0), ctx(t)
		f.put(t, "iac-state/db.lock", "application/octet-stream", "")
		locks, err := f.store.Locks(c)
		if err != nil || len(locks) != 0 {
			t.Fatalf("locks = %+v, %v; want none", locks, err)
		}
		if err := f.store.Lock(c, "db"); err != nil {
			t.Fatalf("lock over an existing placeholder: %v", err)
		}
		if err := f.store.Unlock(c, "db"); err != nil {
			t.Fatal(err)
		}
	})
	tests := []struct {
		name     string
		seconds  int32
		evidence string
	}{
		{"60 s lease", 60, "ends by itself within 60 s"},
		{"infinite lease", -1, "never ends by itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFixture(t, "", 0), ctx(t)
			if err := f.store.Save(c, storetest.Record("team/db")); err != nil {
				t.Fatal(err)
			}
			upstreamLease(t, f, "iac-state/team_db.lock", tt.seconds)
			if err := f.store.Lock(c, "team/db"); !errors.Is(err, stores.ErrLocked) {
				t.Errorf("lock over an upstream lease: %v, want ErrLocked", err)
			}
			if err := f.store.Unlock(c, "team/db"); !errors.Is(err, stores.ErrNotLocked) {
				t.Errorf("unlock of another process's lease: %v, want ErrNotLocked", err)
			}
			locks, err := f.store.Locks(c)
			if err != nil || len(locks) != 1 {
				t.Fatalf("locks = %+v, %v; want one", locks, err)
			}
			l := locks[0]
			if l.ResourceID != "team/db" || l.Holder != nil || !l.AcquiredAt.IsZero() {
				t.Errorf("lock = %+v; want team/db, no holder, no acquisition time", l)
			}
			if !strings.Contains(l.Evidence, tt.evidence) || !strings.Contains(l.Evidence, "leased") || !strings.Contains(l.Evidence, "lock blob last modified 20") || !strings.Contains(l.Evidence, "status locked, duration ") {
				t.Errorf("evidence %q lacks %q", l.Evidence, tt.evidence)
			}
			source := "azblob://" + f.container + "/iac-state/team_db.lock"
			if l.Source != source || l.Release != "break whatever lease is on "+source+" (unproven)" || l.Unproven == "" {
				t.Errorf("source %q, release %q, unproven %q", l.Source, l.Release, l.Unproven)
			}
			// Every lease on the placeholder looks the same: a token proves nothing.
			if err := f.store.ForceUnlock(c, "team/db", l.Token); !errors.Is(err, stores.ErrUnproven) {
				t.Fatalf("force unlock by token: %v, want ErrUnproven", err)
			}
			if p, _ := f.props(t, "iac-state/team_db.lock"); p.LeaseState == nil || *p.LeaseState != lease.StateTypeLeased {
				t.Fatalf("a refused release broke the lease: %v", p.LeaseState)
			}
			if err := f.store.ForceUnlockUnproven(c, "team/db"); err != nil {
				t.Fatalf("unproven release: %v", err)
			}
			if p, _ := f.props(t, "iac-state/team_db.lock"); p.LeaseState == nil || *p.LeaseState == lease.StateTypeLeased {
				t.Errorf("lease state after the break: %v", p.LeaseState)
			}
			if err := f.store.Lock(c, "team/db"); err != nil {
				t.Errorf("lock after breaking the upstream lease: %v", err)
			}
		})
	}
}

// statescope's lock is a lease workflow respects, with the holder in the
// blob's metadata, and Unlock leaves a clean placeholder behind.
func TestLockBlob(t *testing.T) {
	f, c := newFixture(t, "", 0), ctx(t)
	h := stores.NewHolder("repair")
	h.User = "zoë" // not ASCII: metadata must still round-trip
	if err := f.store.LockAs(c, "db", h); err != nil {
		t.Fatal(err)
	}
	p, ok := f.props(t, "iac-state/db.lock")
	if !ok || *p.LeaseState != lease.StateTypeLeased || *p.ContentType != "application/octet-stream" || *p.ContentLength != 0 {
		t.Fatalf("lock blob: leased %v, type %v, length %v", p.LeaseState, p.ContentType, p.ContentLength)
	}
	// A workflow-style acquire is refused.
	lc, _ := lease.NewBlobClient(f.raw.NewBlobClient("iac-state/db.lock"), nil)
	if _, err := lc.AcquireLease(c, 60, nil); !bloberror.HasCode(err, bloberror.LeaseAlreadyPresent) {
		t.Errorf("upstream acquire over statescope's lease: %v", err)
	}
	locks, err := f.store.Locks(c)
	if err != nil || len(locks) != 1 {
		t.Fatalf("locks = %+v, %v", locks, err)
	}
	got := locks[0].Holder
	if got == nil || got.User != "zoë" || got.Operation != "repair" || got.PID != h.PID || got.Nonce != h.Nonce || !got.Since.Equal(h.Since) {
		t.Errorf("holder = %+v, want %+v", got, h)
	}
	if !locks[0].AcquiredAt.Equal(h.Since) {
		t.Errorf("AcquiredAt = %v, want %v", locks[0].AcquiredAt, h.Since)
	}
	if err := f.store.Unlock(c, "db"); err != nil {
		t.Fatal(err)
	}
	p, _ = f.props(t, "iac-state/db.lock")
	if *p.LeaseState == lease.StateTypeLeased || len(p.Metadata) != 0 {
		t.Errorf("after unlock: lease %v, metadata %v", *p.LeaseState, p.Metadata)
	}
	if n := azblob.Renewing(f.store); n != 0 {
		t.Errorf("%d leases still renewed after unlock", n)
	}
}

// Close stops renewing and releases, so the lock is free at once.
func TestCloseReleases(t *testing.T) {
	f, c := newFixture(t, "", 0), ctx(t)
	s := newStore(t, f.cfg)
	if err := s.Lock(c, "db"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := azblob.Renewing(s); n != 0 {
		t.Errorf("%d leases still renewed after close", n)
	}
	if err := f.store.Lock(c, "db"); err != nil {
		t.Errorf("lock after the holder closed: %v", err)
	}
}

// A lock outlives its lease period because it is renewed; broken from
// elsewhere, the holder learns it lost the lock instead of panicking.
func TestLeaseRenewal(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a lock for 20 s")
	}
	t.Parallel()
	const period = 15 * time.Second
	f, c := newFixture(t, "", period), ctx(t)
	other := newStore(t, f.cfg)
	if err := f.store.Lock(c, "db"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(period + 5*time.Second)
	if err := other.Lock(c, "db"); !errors.Is(err, stores.ErrLocked) {
		t.Fatalf("after one lease period the lock is not held: %v", err)
	}
	locks, err := other.Locks(c)
	if err != nil || len(locks) != 1 || locks[0].Holder == nil {
		t.Fatalf("locks = %+v, %v", locks, err)
	}
	if err := other.ForceUnlock(c, "db", locks[0].Token); err != nil {
		t.Fatalf("break from a second instance: %v", err)
	}
	ended, lost := azblob.WaitRenewalEnd(storetest.Patience(t), f.store, "db")
	if !ended || !errors.Is(lost, azblob.ErrLeaseLost) {
		t.Fatalf("renewal after the break: ended %v, %v; want ErrLeaseLost", ended, lost)
	}
	err = f.store.Unlock(c, "db")
	if !errors.Is(err, azblob.ErrLeaseLost) || !errors.Is(err, stores.ErrNotLocked) {
		t.Errorf("unlock of a lost lock: %v, want ErrLeaseLost and ErrNotLocked", err)
	}
	if err := other.Lock(c, "db"); err != nil {
		t.Errorf("lock after the break: %v", err)
	}
}

// A holder cut off from the service keeps retrying until its lease has
// run out, then reports the lock lost; it does not hang or panic.
func TestLeaseRenewalUnreachable(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a 15 s lease")
	}
	t.Parallel()
	const period = 15 * time.Second
	f, c := newFixture(t, "", period), ctx(t)
	proxy, err := latencyproxy.Start(testserver.SharedAzurite(t).Addr, 0)
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.cfg
	cfg.AccountURL = "http://" + proxy.Addr() + "/" + testserver.AzuriteAccount
	cut := newStore(t, cfg)
	if err := cut.Lock(c, "db"); err != nil {
		t.Fatal(err)
	}
	proxy.Close()
	ended, lost := azblob.WaitRenewalEnd(storetest.Patience(t), cut, "db")
	if !ended || !errors.Is(lost, azblob.ErrLeaseLost) {
		t.Fatalf("renewal while unreachable: ended %v, %v; want ErrLeaseLost", ended, lost)
	}
	if err := cut.Unlock(c, "db"); !errors.Is(err, azblob.ErrLeaseLost) {
		t.Errorf("unlock of a lock lost while unreachable: %v", err)
	}
	// Unrenewed, the lease has ended on the service too.
	if err := f.store.Lock(c, "db"); err != nil {
		t.Errorf("lock after the cut-off holder's lease ran out: %v", err)
	}
}

// TestLeaseABA: a statescope holder's lease ends without its holder
// cleared (a crash), and workflow leases the blob as it is: ETag and lease
// state, so the token, are the same as the lock the operator saw. The
// release is made under the holder's own lease ID, so it cannot break the
// new lease.
func TestLeaseABA(t *testing.T) {
	f, c := newFixture(t, "", 0), ctx(t)
	const key = "iac-state/db.lock"
	crashed := newStore(t, f.cfg)
	wrong, same := 0, 0
	for range 20 {
		if err := crashed.Lock(c, "db"); err != nil {
			t.Fatal(err)
		}
		locks, err := f.store.Locks(c)
		if err != nil || len(locks) != 1 || locks[0].Unproven != "" {
			t.Fatalf("locks: %+v %v", locks, err)
		}
		raw, _ := lease.NewBlobClient(f.raw.NewBlobClient(key), nil)
		if _, err := raw.BreakLease(c, &lease.BlobBreakOptions{BreakPeriod: new(int32(0))}); err != nil {
			t.Fatal(err)
		}
		if err := crashed.Unlock(c, "db"); !errors.Is(err, azblob.ErrLeaseLost) {
			t.Fatalf("holder after the break: %v", err)
		}
		upstream, _ := lease.NewBlobClient(f.raw.NewBlobClient(key), nil)
		if _, err := upstream.AcquireLease(c, 60, nil); err != nil {
			t.Fatal(err)
		}
		if again, _ := f.store.Locks(c); len(again) == 1 && again[0].Token == locks[0].Token {
			same++
		}
		if err := f.store.ForceUnlock(c, "db", locks[0].Token); err == nil {
			wrong++
		} else if !errors.Is(err, stores.ErrLockChanged) {
			t.Fatalf("force unlock: %v", err)
		}
		if p, _ := f.props(t, key); p.LeaseState == nil || *p.LeaseState != lease.StateTypeLeased {
			t.Fatalf("workflow's lease is gone: %v", p.LeaseState)
		}
		if _, err := upstream.ReleaseLease(c, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := f.raw.NewBlobClient(key).SetMetadata(c, map[string]*string{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if wrong != 0 || same == 0 {
		t.Errorf("%d of 20 stale tokens broke workflow's lease (%d tokens collided)", wrong, same)
	}
}

// The stale-token check holds against a lock retaken in between.
func TestForceUnlockStaleToken(t *testing.T) {
	f, c := newFixture(t, "", 0), ctx(t)
	other := newStore(t, f.cfg)
	if err := f.store.Lock(c, "db"); err != nil {
		t.Fatal(err)
	}
	locks, _ := other.Locks(c)
	if err := f.store.Unlock(c, "db"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Lock(c, "db"); err != nil {
		t.Fatal(err)
	}
	if err := other.ForceUnlock(c, "db", locks[0].Token); !errors.Is(err, stores.ErrLockChanged) {
		t.Fatalf("force unlock with a stale token: %v, want ErrLockChanged", err)
	}
	if err := f.store.Unlock(c, "db"); err != nil {
		t.Errorf("the holder lost its lock to a stale force unlock: %v", err)
	}
}

// Open sends nothing, so these need no server.
func TestTargets(t *testing.T) {
	const blobEndpoint = "http://127.0.0.1:10000/devstoreaccount1"
	connString := "DefaultEndpointsProtocol=http;AccountName=" + testserver.AzuriteAccount + ";AccountKey=" + testserver.AzuriteKey + ";BlobEndpoint=" + blobEndpoint + ";"
	sas := "SharedAccessSignature=sv=2024-01-01&ss=b&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D;BlobEndpoint=http://127.0.0.1:1/dev"
	tests := []struct {
		name     string
		env      map[string]string
		target   string
		describe string
		wantErr  string
	}{
		{"connection string", map[string]string{"AZURE_STORAGE_CONNECTION_STRING": connString}, "azblob://c",
			"azure blob azblob://c/iac-state/ at " + blobEndpoint + " (shared key, account devstoreaccount1)", ""},
		{"account and key with account_url", map[string]string{"AZURE_STORAGE_ACCOUNT": "acct", "AZURE_STORAGE_KEY": testserver.AzuriteKey},
			"azblob://c/state?account_url=https://acct.blob.core.windows.net/&parallel=4",
			"azure blob azblob://c/state at https://acct.blob.core.windows.net (shared key, account acct)", ""},
		{"account url from the account name", map[string]string{"AZURE_STORAGE_ACCOUNT": "acct", "AZURE_STORAGE_KEY": testserver.AzuriteKey}, "azblob://c",
			"azure blob azblob://c/iac-state/ at https://acct.blob.core.windows.net (shared key, account acct)", ""},
		{"sas connection string", map[string]string{"AZURE_STORAGE_CONNECTION_STRING": sas}, "azblob://c",
			"azure blob azblob://c/iac-state/ at http://127.0.0.1:1/dev (SAS token)", ""},
		{"no account", nil, "azblob://c", "", "no storage account"},
		{"key in the target", nil, "azblob://c?account_url=https://a.blob.core.windows.net&account_key=" + testserver.AzuriteKey, "", `unknown option "account_key"`},
		{"query in account_url", map[string]string{"AZURE_STORAGE_ACCOUNT": "acct", "AZURE_STORAGE_KEY": testserver.AzuriteKey}, "azblob://c?account_url=https://user:pw@a.blob.core.windows.net", "", "no credentials"},
		{"malformed connection string", map[string]string{"AZURE_STORAGE_CONNECTION_STRING": "AccountKey=" + testserver.AzuriteKey}, "azblob://c", "", "no AccountName"},
		{"bad key", map[string]string{"AZURE_STORAGE_ACCOUNT": "acct", "AZURE_STORAGE_KEY": "not base64!"}, "azblob://c", "", "shared key for account acct"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_CONNECTION_STRING"} {
				t.Setenv(k, tt.env[k])
			}
			s, err := stores.Open(ctx(t), tt.target)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("open: %v, want an error containing %q", err, tt.wantErr)
				}
				for _, secret := range []string{testserver.AzuriteKey, "not base64!", ":pw@"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error shows a credential: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer stores.Close(s)
			if got := stores.Describe(s); got != tt.describe {
				t.Errorf("Describe = %q\n want %q", got, tt.describe)
			}
		})
	}
}

// A listing's first page is smaller than the rest; every record is listed
// once across the change of page size, as entries and as rows.
func TestListingPages(t *testing.T) {
	f := newFixture(t, "", 0)
	azblob.SetPageSizes(f.store, 3, 5)
	c := ctx(t)
	for i := range 12 {
		if err := f.store.Save(c, storetest.Record(fmt.Sprintf("r%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := f.store.List(c, stores.Filter{})
	if err != nil || len(entries) != 12 {
		t.Fatalf("listed %d entries, %v; want 12", len(entries), err)
	}
	seen := map[string]int{}
	err = f.store.ListRows(c, stores.Filter{}, nil, func(rows []stores.Row) error {
		for _, r := range rows {
			seen[r.ID]++
		}
		return nil
	})
	if err != nil || len(seen) != 12 {
		t.Fatalf("listed %d distinct rows, %v; want 12", len(seen), err)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", id, n)
		}
	}
}
