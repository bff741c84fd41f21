package filesystem

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"statescope/stores"
	"statescope/stores/storetest"
)

// benchDir is a store of n realistic ~1 KB records (storetest.Realistic:
// nested outputs and config, a few secret-looking keys), the same records
// the TUI and list -o json benchmarks load.
func benchDir(b *testing.B, n int) *Store {
	b.Helper()
	dir := b.TempDir()
	storetest.WriteRealistic(b, dir, n)
	s, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

var errFirst = errors.New("first batch")

// BenchmarkList: a whole listing of 10,000 and 100,000 records of ~1 KB
// (list), the table rows the TUI loads (rows), and the time until a
// streaming caller has its first batch (first-batch).
func BenchmarkList(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := benchDir(b, n)
			ctx := context.Background()
			b.Run("list", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					entries, err := s.List(ctx, stores.Filter{})
					if err != nil || len(entries) != n {
						b.Fatalf("%d entries, %v", len(entries), err)
					}
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
			})
			b.Run("rows", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					rows := 0
					err := stores.ListRows(ctx, s, stores.Filter{}, nil, func(batch []stores.Row) error {
						rows += len(batch)
						return nil
					})
					if err != nil || rows != n {
						b.Fatalf("%d rows, %v", rows, err)
					}
				}
			})
			b.Run("first-batch", func(b *testing.B) {
				for b.Loop() {
					err := stores.Stream(ctx, s, stores.Filter{}, func([]stores.Entry) error { return errFirst })
					if !errors.Is(err, errFirst) {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
