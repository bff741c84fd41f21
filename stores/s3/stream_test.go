package s3

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"statescope/stores"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

// Records stream in batches while the rest are still being fetched, and
// listing the next page overlaps fetching this one.
func TestStreamDeliversEarly(t *testing.T) {
	gw := testserver.SharedVersityGW(t)
	bucket := gw.NewBucket(t)
	seeder := openStore(t, gwConfig(gw, bucket, DefaultPrefix))
	c := testCtx(t)
	const n = 120
	for i := range n {
		if err := seeder.Save(c, storetest.Record(fmt.Sprintf("r%03d", i))); err != nil {
			t.Fatal(err)
		}
	}
	// 5 ms per request and 4 at a time: a full listing takes about 150 ms.
	cfg := gwConfig(gw, bucket, DefaultPrefix)
	cfg.Endpoint = "http://" + startProxy(t, gw, 5*time.Millisecond).Addr()
	cfg.Parallel = 4
	s := openStore(t, cfg)
	s.pageSize = 50

	start := time.Now()
	var first time.Duration
	var firstLen, batches, total int
	err := s.Stream(c, stores.Filter{}, func(b []stores.Entry) error {
		if batches == 0 {
			first, firstLen = time.Since(start), len(b)
		}
		batches++
		total += len(b)
		return nil
	})
	full := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if total != n {
		t.Fatalf("streamed %d records, want %d", total, n)
	}
	t.Logf("first batch of %d after %s, %d batches, all %d after %s", firstLen, first, batches, n, full)
	if firstLen >= n || batches < 2 {
		t.Errorf("everything arrived in one batch")
	}
	if first > full/2 {
		t.Errorf("first batch after %s of %s: not streamed", first, full)
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
