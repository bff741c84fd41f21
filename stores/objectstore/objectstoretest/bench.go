package objectstoretest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"statescope/stores"
	"statescope/stores/latencyproxy"
	"statescope/stores/storetest"
)

// Bench is a backend for the listing benchmarks.
type Bench struct {
	// Server starts or finds the test server and returns its host:port;
	// it stops the benchmark when there is none.
	Server func(b *testing.B) string
	// NewBucket creates an empty bucket or container.
	NewBucket func(b *testing.B) string
	// Open opens a store on bucket, reaching the server at addr (host:port),
	// fetching parallel records at a time, and closes it when b ends.
	Open func(b *testing.B, addr, bucket string, parallel int) stores.Store
}

// seeded maps a record count to a bucket holding that many records, so
// each size is seeded once per benchmark binary.
type seeded struct {
	mu      sync.Mutex
	buckets map[int]string
}

func (sd *seeded) bucket(b *testing.B, bench Bench, n int) string {
	b.Helper()
	sd.mu.Lock()
	defer sd.mu.Unlock()
	if bucket, ok := sd.buckets[n]; ok {
		return bucket
	}
	bucket := bench.NewBucket(b)
	s := bench.Open(b, bench.Server(b), bucket, stores.DefaultParallelism)
	cs := s.(stores.ConditionalStore)
	c, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ids := make(chan int)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range stores.DefaultParallelism {
		wg.Go(func() {
			for i := range ids {
				// One request each: create-if-absent skips Save's read.
				if err := cs.SaveIf(c, storetest.Record(fmt.Sprintf("bench-%05d", i)), ""); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for i := range n {
		ids <- i
	}
	close(ids)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatalf("seeding %d records: %v", n, err)
	default:
	}
	if sd.buckets == nil {
		sd.buckets = map[int]string{}
	}
	sd.buckets[n] = bucket
	return bucket
}

// Listing holds the benchmarks of one backend's test binary.
type Listing struct {
	Bench Bench
	seeded
}

// Latency lists 1,000 records through a proxy that adds 10 ms to every
// request, fetching 16 at a time and then one at a time; the parallel=1
// line also reports how many times slower it is than parallel=16 on average.
func (l *Listing) Latency(b *testing.B) {
	const n = 1000
	bucket := l.bucket(b, l.Bench, n)
	proxy, err := latencyproxy.Start(l.Bench.Server(b), 10*time.Millisecond)
	if err != nil {
		b.Fatal(err)
	}
	defer proxy.Close()
	// Every parallel=16 run so far (-count repeats each line), so the
	// ratio is against their mean, not the last one.
	var p16ms, p16runs float64
	for _, p := range []int{16, 1} {
		b.Run(fmt.Sprintf("parallel=%d", p), func(b *testing.B) {
			s := l.Bench.Open(b, proxy.Addr(), bucket, p)
			list(b, s, n)
			perOp := ms(b.Elapsed()) / float64(b.N)
			switch {
			case p == 16:
				p16ms, p16runs = p16ms+perOp, p16runs+1
			case p16runs > 0:
				b.ReportMetric(perOp/(p16ms/p16runs), "x-slower-than-p16")
			}
		})
	}
}

// Loopback lists 10,000 records straight from the server with the default
// parallelism.
func (l *Listing) Loopback(b *testing.B) {
	const n = 10000
	bucket := l.bucket(b, l.Bench, n)
	s := l.Bench.Open(b, l.Bench.Server(b), bucket, stores.DefaultParallelism)
	list(b, s, n)
}

// list streams the whole store per iteration and reports, beside the full
// listing's time, how long the first records took to arrive.
func list(b *testing.B, s stores.Store, want int) {
	c := context.Background()
	var first time.Duration
	for b.Loop() {
		start := time.Now()
		n := 0
		err := stores.Stream(c, s, stores.Filter{}, func(batch []stores.Entry) error {
			if n == 0 {
				first += time.Since(start)
			}
			n += len(batch)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if n != want {
			b.Fatalf("listed %d records, want %d", n, want)
		}
	}
	b.ReportMetric(ms(first)/float64(b.N), "ms-first/op")
	b.ReportMetric(ms(b.Elapsed())/float64(b.N), "ms-full/op")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
