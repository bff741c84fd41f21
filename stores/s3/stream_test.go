package s3

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync"
	"testing"

	"statescope/stores"
	"statescope/stores/objectstore/objectstoretest"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

// Records stream in batches while the rest are still being fetched: the
// first batch arrives while every record past the first listing page is
// held back at the proxy, and only then are they let through.
func TestStreamDeliversEarly(t *testing.T) {
	gw := testserver.SharedVersityGW(t)
	bucket := gw.NewBucket(t)
	seeder := openStore(t, gwConfig(gw, bucket, DefaultPrefix))
	c := testCtx(t)
	const n, page = 120, 50
	for i := range n {
		if err := seeder.Save(c, storetest.Record(fmt.Sprintf("r%03d", i))); err != nil {
			t.Fatal(err)
		}
	}
	ip := objectstoretest.Interpose(t, strings.TrimPrefix(gw.Endpoint, "http://"))
	release := ip.Hold(func(r *http.Request) bool {
		var i int
		_, err := fmt.Sscanf(path.Base(r.URL.Path), "r%03d.json", &i)
		return r.Method == http.MethodGet && err == nil && i >= page
	})
	defer release()
	cfg := gwConfig(gw, bucket, DefaultPrefix)
	cfg.Endpoint = "http://" + ip.Addr
	cfg.Parallel = 4
	s := openStore(t, cfg)
	s.pageSize = page

	var batches, total int
	err := s.Stream(c, stores.Filter{}, func(b []stores.Entry) error {
		if batches == 0 {
			for _, e := range b {
				if e.ID >= fmt.Sprintf("r%03d", page) {
					t.Errorf("the first batch has %s, a record that was held back", e.ID)
				}
			}
			release()
		}
		batches++
		total += len(b)
		return nil
	})
	if err != nil {
		t.Fatalf("no batch arrived while later records were held back: %v", err)
	}
	if total != n || batches < 2 {
		t.Errorf("streamed %d records in %d batches, want all %d in several", total, batches, n)
	}
}

// Stopping a stream early stops the fetching and returns the yield's error
// without leaving work behind.
func TestStreamStopsEarly(t *testing.T) {
	s, c := newStore(t, DefaultPrefix), testCtx(t)
	s.pageSize = 5
	for i := range 30 {
		if err := s.Save(c, storetest.Record(fmt.Sprintf("r%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	stop := errors.New("stop")
	var mu sync.Mutex
	calls := 0
	err := s.Stream(c, stores.Filter{}, func([]stores.Entry) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("stream: %v after %d yields, want stop after 1", err, calls)
	}
}
