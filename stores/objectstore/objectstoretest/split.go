package objectstoretest

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
	"statescope/stores/storetest"
)

// Split opens stores whose listings split into key ranges once a listing
// has shown where its pages end (objectstore.Ranges).
type Split struct {
	// Open opens a store on a fresh bucket at the default prefix whose
	// requests pass through an Interposer and whose listings ask for pages
	// of pageSize keys, and one beside it that reaches the server directly.
	Open func(t *testing.T, pageSize int) Interposed
	// After is the key a listing request starts after (S3's start-after,
	// GCS's startOffset), "" for any other request.
	After func(r *http.Request) string
}

func splitListing(t *testing.T, sp *Split) {
	t.Run("ExactlyTheRecords", func(t *testing.T) { splitExactly(t, sp) })
	t.Run("RangeFails", func(t *testing.T) { splitRangeFails(t, sp) })
	t.Run("Cancelled", func(t *testing.T) { splitCancelled(t, sp) })
	t.Run("Locks", func(t *testing.T) { splitLocks(t, sp) })
}

// The lock inventory lists through the same ranges as the records: a
// check lists a large bucket twice, so its second listing must not be a
// chain of pages either. It finds the locks in every range.
func splitLocks(t *testing.T, sp *Split) {
	in, c := splitStore(t, sp), ctx(t)
	want := []string{"r03", "r21", "r38"}
	for _, id := range want {
		if err := in.Direct.Lock(c, id); err != nil {
			t.Fatal(err)
		}
	}
	rowsOf(t, in.Store, nil) // places the ranges
	ranged := countRanged(in, sp)
	locks, err := in.Store.(stores.LockLister).Locks(c)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range locks {
		got = append(got, l.ResourceID)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("locks %v, want %v", got, want)
	}
	if ranged.Load() < 2 {
		t.Errorf("the lock inventory made %d ranged requests: it listed page after page", ranged.Load())
	}
}

// splitStore is a store of 40 records r00…r39 listed once in pages of 5,
// so the next listing's ranges end at r04, r09, …, r34.
func splitStore(t *testing.T, sp *Split) Interposed {
	t.Helper()
	in, c := sp.Open(t, 5), ctx(t)
	for i := range 40 {
		if err := in.Direct.Save(c, storetest.Record(fmt.Sprintf("r%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

// countRanged counts the listing requests that start after a key: those
// of a split listing.
func countRanged(in Interposed, sp *Split) *atomic.Int32 {
	var ranged atomic.Int32
	in.Proxy.Answer(func(_ http.ResponseWriter, r *http.Request) bool {
		if sp.After(r) != "" {
			ranged.Add(1)
		}
		return false
	})
	return &ranged
}

// rowsOf lists s's rows by ID, offering known's rows for reuse, and fails
// on a record listed twice.
func rowsOf(t *testing.T, s stores.Store, known map[string]stores.Row) map[string]stores.Row {
	t.Helper()
	bySource := map[string]stores.Row{}
	for _, r := range known {
		bySource[r.Source] = r
	}
	reuse := func(source, version string) (stores.Row, bool) {
		r, ok := bySource[source]
		return r, ok && r.Version == version
	}
	var mu sync.Mutex
	got := map[string]stores.Row{}
	err := stores.ListRows(ctx(t), s, stores.Filter{}, reuse, func(batch []stores.Row) error {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range batch {
			if _, dup := got[r.ID]; dup {
				t.Errorf("%s listed twice", r.ID)
			}
			got[r.ID] = r
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
// more pages), at a range's end, just past it, after the last, and a whole
// range. A refresh shows the records that changed.
func splitExactly(t *testing.T, sp *Split) {
	in, c := splitStore(t, sp), ctx(t)
	ranged := countRanged(in, sp)
	first := rowsOf(t, in.Store, nil)
	if len(first) != 40 || ranged.Load() != 0 {
		t.Fatalf("first listing: %d rows, %d ranged requests; want 40 in one chain", len(first), ranged.Load())
	}
	want := map[string]string{} // ID → the status the listing must show
	for id, r := range first {
		want[id] = r.Status
	}
	save := func(id, status string) {
		r := storetest.Record(id)
		r.Status = status
		if err := in.Direct.Save(c, r); err != nil {
			t.Fatal(err)
		}
		want[id] = status
	}
	del := func(id string) {
		if err := in.Direct.Delete(c, id); err != nil {
			t.Fatal(err)
		}
		delete(want, id)
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
	if err := in.Direct.Lock(c, "r21"); err != nil { // a key that is no record
		t.Fatal(err)
	}
	known := first
	// The third listing's ranges are placed by the second, split, one.
	for listing := 2; listing <= 3; listing++ {
		ranged.Store(0)
		got := rowsOf(t, in.Store, known)
		if ranged.Load() < 2 {
			t.Errorf("listing %d made %d ranged requests: it was not split", listing, ranged.Load())
		}
		status := map[string]string{}
		for id, r := range got {
			status[id] = r.Status
		}
		if !maps.Equal(status, want) {
			t.Errorf("listing %d:\n got %v\nwant %v", listing, slices.Sorted(maps.Keys(status)), slices.Sorted(maps.Keys(want)))
			for id, st := range want {
				if status[id] != st {
					t.Errorf("%s: status %q, want %q", id, status[id], st)
				}
			}
		}
		known = got
	}
}

// A range the server refuses fails the listing with the server's error.
func splitRangeFails(t *testing.T, sp *Split) {
	in := splitStore(t, sp)
	rowsOf(t, in.Store, nil)
	in.Proxy.Answer(func(w http.ResponseWriter, r *http.Request) bool {
		if sp.After(r) != "iac-state/r19.json" {
			return false
		}
		http.Error(w, "range refused", http.StatusForbidden)
		return true
	})
	err := stores.ListRows(ctx(t), in.Store, stores.Filter{}, nil, func([]stores.Row) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("listing with a refused range: %v, want the server's 403", err)
	}
}

// Cancelling a split listing midway returns the context's error and leaves
// no goroutine behind.
func splitCancelled(t *testing.T, sp *Split) {
	ignore := []goleak.Option{
		goleak.IgnoreCurrent(),
		// Idle keep-alive connections of the clients' and the proxy's pools.
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
	}
	// Registered first, so it runs after the proxy and the stores close.
	t.Cleanup(func() { goleak.VerifyNone(t, ignore...) })
	in := splitStore(t, sp)
	rowsOf(t, in.Store, nil)
	c, cancel := context.WithCancel(ctx(t))
	in.Proxy.Answer(func(_ http.ResponseWriter, r *http.Request) bool {
		if sp.After(r) != "iac-state/r19.json" {
			return false
		}
		cancel()
		<-r.Context().Done()
		return true
	})
	err := stores.ListRows(c, in.Store, stores.Filter{}, nil, func([]stores.Row) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled listing: %v, want context.Canceled", err)
	}
}
