package s3

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"statescope/stores"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

// seeded maps a record count to a bucket holding that many records, so a
// benchmark run more than once seeds only the first time.
var seeded sync.Map

func seededBucket(b *testing.B, gw *testserver.VersityGW, n int) string {
	b.Helper()
	if bucket, ok := seeded.Load(n); ok {
		return bucket.(string)
	}
	bucket := gw.NewBucket(b)
	s := openStore(b, gwConfig(gw, bucket, DefaultPrefix))
	c := testCtx(b)
	keys := make(chan int)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keys {
				rec := storetest.Record(fmt.Sprintf("bench-%05d", i))
				data, _ := stores.EncodeState(rec)
				_, err := s.client.PutObject(c, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(s.layout.RecordKey(rec.ResourceID)), Body: bytes.NewReader(data)})
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range n {
		keys <- i
	}
	close(keys)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatalf("seeding %d records: %v", n, err)
	default:
	}
	seeded.Store(n, bucket)
	return bucket
}

// benchList streams the whole store per iteration and reports, beside the
// full listing's time, how long the first records took to arrive.
func benchList(b *testing.B, s *Store, want int) {
	c := context.Background()
	var first time.Duration
	for b.Loop() {
		start := time.Now()
		n := 0
		err := s.Stream(c, stores.Filter{}, func(batch []stores.Entry) error {
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

// BenchmarkListLatency lists 1,000 records through a proxy adding 10 ms to
// every request, fetching 16 at a time and one at a time. The parallel=1
// line also reports how many times slower it is than parallel=16.
func BenchmarkListLatency(b *testing.B) {
	const n = 1000
	gw := testserver.SharedVersityGW(b)
	bucket := seededBucket(b, gw, n)
	proxy := startProxy(b, gw, 10*time.Millisecond)
	perOp := map[int]float64{}
	for _, p := range []int{16, 1} {
		b.Run(fmt.Sprintf("parallel=%d", p), func(b *testing.B) {
			cfg := gwConfig(gw, bucket, DefaultPrefix)
			cfg.Endpoint, cfg.Parallel = "http://"+proxy.Addr(), p
			benchList(b, openStore(b, cfg), n)
			perOp[p] = ms(b.Elapsed()) / float64(b.N)
			if p == 1 && perOp[16] > 0 {
				b.ReportMetric(perOp[1]/perOp[16], "x-slower-than-p16")
			}
		})
	}
}

// BenchmarkListLoopback lists 10,000 records straight from versitygw with
// the default parallelism.
func BenchmarkListLoopback(b *testing.B) {
	const n = 10000
	gw := testserver.SharedVersityGW(b)
	s := openStore(b, gwConfig(gw, seededBucket(b, gw, n), DefaultPrefix))
	benchList(b, s, n)
}
