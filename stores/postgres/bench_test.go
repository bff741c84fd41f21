package postgres

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"statescope/stores"
)

// fill10000 writes 10,000 rows of about 1 KB each, shaped like engine records.
const fill10000 = `INSERT INTO iac_resources
	(name, type, provider, provider_ref, provider_id, status, config_hash, outputs, applied_config, dependencies)
SELECT 'resource-' || i, 'infra.database', 'aws', 'cloud', 'arn:aws:rds:eu-west-1:123456789012:db/resource-' || i, 'active',
	md5(i::text) || md5((i + 1)::text),
	jsonb_build_object('endpoint', 'db-' || i || '.example.com', 'port', 5432, 'big', 9007199254740993,
		'nested', jsonb_build_object('list', jsonb_build_array('a', 1, true, null)), 'blob', repeat('x', 560)),
	jsonb_build_object('engine', 'postgres', 'size', 'db-s-1vcpu-1gb', 'tags', jsonb_build_array('team-a', 'prod', 'eu')),
	ARRAY['vpc-main', 'subnet/a']
FROM generate_series(1, 10000) i`

// filled10000 is a store on a fresh database holding fill10000's rows,
// and their average size in bytes.
func filled10000(b *testing.B) (*Store, float64) {
	s, pg, db := openDB(b)
	if err := s.ensureTable(testCtx(b)); err != nil {
		b.Fatal(err)
	}
	pg.MustExec(b, db, fill10000)
	pg.MustExec(b, db, "VACUUM ANALYZE iac_resources")
	rowBytes, _ := strconv.ParseFloat(pg.MustExec(b, db, `SELECT avg(octet_length(t::text)) FROM iac_resources t`), 64)
	return s, rowBytes
}

func BenchmarkList10000(b *testing.B) {
	s, rowBytes := filled10000(b)
	ctx := testCtx(b)
	const n = 10000

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		entries, err := s.List(ctx, stores.Filter{})
		if err != nil {
			b.Fatal(err)
		}
		if len(entries) != n || entries[0].Corrupt() {
			b.Fatalf("listed %d entries", len(entries))
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	records := float64(b.N) * n
	b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/records, "B/record")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/records, "allocs/record")
	b.ReportMetric(rowBytes, "row-bytes")
}

// BenchmarkListRows10000 is the TUI's load of the same table: rows without
// the JSON columns, streamed; first is when the first batch arrived.
func BenchmarkListRows10000(b *testing.B) {
	s, _ := filled10000(b)
	ctx := testCtx(b)
	const n = 10000
	var first time.Duration
	for b.Loop() {
		start := time.Now()
		got := 0
		err := s.ListRows(ctx, stores.Filter{}, nil, func(batch []stores.Row) error {
			if got == 0 {
				first += time.Since(start)
			}
			got += len(batch)
			return nil
		})
		if err != nil || got != n {
			b.Fatalf("listed %d rows, %v", got, err)
		}
	}
	b.ReportMetric(float64(first)/float64(time.Millisecond)/float64(b.N), "ms-first/op")
	b.ReportMetric(float64(b.Elapsed())/float64(time.Millisecond)/float64(b.N), "ms-full/op")
}
