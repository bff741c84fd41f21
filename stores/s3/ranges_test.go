package s3

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"statescope/stores"
	"statescope/stores/objectstore/objectstoretest"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

// rangedStore is a store of 40 records r00…r39 listed in pages of 5 through
// an Interposer, and a store that reaches the same bucket directly.
func rangedStore(t *testing.T) (s, direct *Store, ip *objectstoretest.Interposer) {
	t.Helper()
	gw := testserver.SharedVersityGW(t)
	cfg := gwConfig(gw, gw.NewBucket(t), DefaultPrefix)
	direct = openStore(t, cfg)
	c := testCtx(t)
	for i := range 40 {
		if err := direct.Save(c, storetest.Record(fmt.Sprintf("r%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	ip = objectstoretest.Interpose(t, strings.TrimPrefix(gw.Endpoint, "http://"))
	cfg.Endpoint = "http://" + ip.Addr
	s = openStore(t, cfg)
	s.pageSize = 5
	return s, direct, ip
}

// startAfter is the key a ListObjectsV2 request starts after; "" for any
// other request.
func startAfter(r *http.Request) string {
	if q := r.URL.Query(); r.Method == http.MethodGet && q.Get("list-type") == "2" {
		return q.Get("start-after")
	}
	return ""
}

// countRanged counts the listings that start after a key from now on.
func countRanged(ip *objectstoretest.Interposer) *atomic.Int32 {
	var n atomic.Int32
	ip.Answer(func(_ http.ResponseWriter, r *http.Request) bool {
		if startAfter(r) != "" {
			n.Add(1)
		}
		return false
	})
	return &n
}

// rowsOf lists s's rows by source, offering known's rows for reuse, and
// fails on a record listed twice.
func rowsOf(t *testing.T, s *Store, known map[string]stores.Row) map[string]stores.Row {
	t.Helper()
	var mu sync.Mutex
	got := map[string]stores.Row{}
	reuse := func(source, version string) (stores.Row, bool) {
		r, ok := known[source]
		return r, ok && r.Version == version
	}
	err := s.ListRows(testCtx(t), stores.Filter{}, reuse, func(batch []stores.Row) error {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range batch {
			if _, dup := got[r.Source]; dup {
				t.Errorf("%s listed twice", r.Source)
			}
			got[r.Source] = r
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// After a listing, the next lists the bucket in key ranges side by side,
// and holds exactly the records there are, wherever records came and went
// since: before the first range's end, inside a range (enough to need
// more pages), at a range's last key, after the last, and a whole range.
func TestSplitListingListsExactlyTheRecords(t *testing.T) {
	s, direct, ip := rangedStore(t)
	c := testCtx(t)
	ranged := countRanged(ip)
	first := rowsOf(t, s, nil)
	if len(first) != 40 || ranged.Load() != 0 {
		t.Fatalf("first listing: %d rows, %d ranged requests; want 40 in one chain", len(first), ranged.Load())
	}
	// The pages of 5 ended at r04, r09, …, r34: the next ranges' ends.
	ids := map[string]string{} // ID → status the listing must show
	for i := range 40 {
		ids[fmt.Sprintf("r%02d", i)] = storetest.Record("x").Status
	}
	save := func(id, status string) {
		r := storetest.Record(id)
		r.Status = status
		if err := direct.Save(c, r); err != nil {
			t.Fatal(err)
		}
		ids[id] = status
	}
	del := func(id string) {
		if err := direct.Delete(c, id); err != nil {
			t.Fatal(err)
		}
		delete(ids, id)
	}
	save("a", "added before the first range's end")
	save("r00a", "added in the first range")
	for i := range 12 {
		save(fmt.Sprintf("r12-%02d", i), "added in a range")
	}
	del("r09") // a range's end
	del("r19") // a range's end, written again
	save("r19", "re-created")
	save("r24", "changed")
	for i := 25; i < 30; i++ {
		del(fmt.Sprintf("r%02d", i)) // a whole range
	}
	save("r34.", "added just before a range's end")
	save("r34.json-x", "added just past a range's end")
	save("zz", "added after the last")
	if err := direct.Lock(c, "r21"); err != nil { // a key that is no record
		t.Fatal(err)
	}
	known := first
	for listing := 2; listing <= 3; listing++ {
		ranged.Store(0)
		got := rowsOf(t, s, known)
		if ranged.Load() < 2 {
			t.Errorf("listing %d made %d ranged requests: it was not split", listing, ranged.Load())
		}
		status := map[string]string{}
		for _, r := range got {
			status[r.ID] = r.Status
		}
		if !maps.Equal(status, ids) {
			t.Errorf("listing %d:\n got %v\nwant %v", listing, slices.Sorted(maps.Keys(status)), slices.Sorted(maps.Keys(ids)))
			for id, st := range ids {
				if status[id] != st {
					t.Errorf("%s: status %q, want %q", id, status[id], st)
				}
			}
		}
		known = got
	}
}

// A range the server fails fails the listing with the server's error, and
// ends the other ranges.
func TestSplitListingRangeFails(t *testing.T) {
	s, _, ip := rangedStore(t)
	rowsOf(t, s, nil)
	ip.Answer(func(w http.ResponseWriter, r *http.Request) bool {
		if startAfter(r) != "iac-state/r19.json" {
			return false
		}
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>range refused</Message></Error>`)
		return true
	})
	err := s.ListRows(testCtx(t), stores.Filter{}, nil, func([]stores.Row) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("listing with a failing range: %v, want the server's AccessDenied", err)
	}
}

// Cancelling a split listing midway returns the context's error and leaves
// no goroutine behind.
func TestSplitListingCancelled(t *testing.T) {
	testserver.SharedVersityGW(t)
	ignore := []goleak.Option{
		goleak.IgnoreCurrent(),
		// Idle keep-alive connections of the store's and the proxy's pools.
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
	}
	// Registered first, so it runs after the proxy and the store close.
	t.Cleanup(func() { goleak.VerifyNone(t, ignore...) })
	s, _, ip := rangedStore(t)
	rowsOf(t, s, nil)
	c, cancel := context.WithCancel(testCtx(t))
	ip.Answer(func(_ http.ResponseWriter, r *http.Request) bool {
		if startAfter(r) != "iac-state/r19.json" {
			return false
		}
		cancel()
		<-r.Context().Done()
		return true
	})
	err := s.ListRows(c, stores.Filter{}, nil, func([]stores.Row) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled listing: %v, want context.Canceled", err)
	}
}
