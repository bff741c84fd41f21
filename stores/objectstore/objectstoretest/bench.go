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
// parallelism: as entries (Stream: list -o json, export) and as the rows
// the TUI's table loads (ListRows).
func (l *Listing) Loopback(b *testing.B) {
	const n = 10000
	bucket := l.bucket(b, l.Bench, n)
	s := l.Bench.Open(b, l.Bench.Server(b), bucket, stores.DefaultParallelism)
	b.Run("entries", func(b *testing.B) { list(b, s, n) })
	b.Run("rows", func(b *testing.B) {
		var first time.Duration
		for b.Loop() {
			start := time.Now()
			got := 0
			err := stores.ListRows(context.Background(), s, stores.Filter{}, nil, func(batch []stores.Row) error {
				if got == 0 {
					first += time.Since(start)
				}
				got += len(batch)
				return nil
			})
			if err != nil || got != n {
				b.Fatalf("listed %d rows, %v; want %d", got, err, n)
			}
		}
		b.ReportMetric(ms(first)/float64(b.N), "ms-first/op")
		b.ReportMetric(ms(b.Elapsed())/float64(b.N), "ms-full/op")
	})
}

// Refresh lists 10,000 records' rows through a proxy that adds 10 ms to
// every request, changes 10 of them, and lists again offering the first
// listing's rows (stores.RowLister): the refresh reads only what changed,
// so it reports its time beside the full load's and the ratio in percent.
func (l *Listing) Refresh(b *testing.B) {
	const n, changed = 10000, 10
	bucket := l.bucket(b, l.Bench, n)
	proxy, err := latencyproxy.Start(l.Bench.Server(b), 10*time.Millisecond)
	if err != nil {
		b.Fatal(err)
	}
	defer proxy.Close()
	s := l.Bench.Open(b, proxy.Addr(), bucket, stores.DefaultParallelism)
	c := context.Background()
	var full, refresh time.Duration
	round := 0
	for b.Loop() {
		start := time.Now()
		last := listRows(b, s, nil, n)
		full += time.Since(start)
		round++
		for i := range changed {
			r := storetest.Record(fmt.Sprintf("bench-%05d", i*997))
			r.Status = fmt.Sprintf("changed-%d", round)
			if err := s.Save(c, r); err != nil {
				b.Fatal(err)
			}
		}
		start = time.Now()
		rows := listRows(b, s, last, n)
		refresh += time.Since(start)
		fresh := 0
		for _, r := range rows {
			if r.Status == fmt.Sprintf("changed-%d", round) {
				fresh++
			}
		}
		if fresh != changed {
			b.Fatalf("the refresh shows %d of the %d changed records", fresh, changed)
		}
	}
	b.ReportMetric(ms(full)/float64(b.N), "ms-full/op")
	b.ReportMetric(ms(refresh)/float64(b.N), "ms-refresh/op")
	b.ReportMetric(100*float64(refresh)/float64(full), "refresh-%-of-full")
}

// listRows lists every row, offering last's rows for reuse when given.
func listRows(b *testing.B, s stores.Store, last map[string]stores.Row, want int) map[string]stores.Row {
	var known func(source, version string) (stores.Row, bool)
	if last != nil {
		known = func(source, version string) (stores.Row, bool) {
			r, ok := last[source]
			return r, ok && r.Version == version
		}
	}
	var mu sync.Mutex
	rows := make(map[string]stores.Row, want)
	err := stores.ListRows(context.Background(), s, stores.Filter{}, known, func(batch []stores.Row) error {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range batch {
			rows[r.Source] = r
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if len(rows) != want {
		b.Fatalf("listed %d rows, want %d", len(rows), want)
	}
	return rows
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
