package postgres

import (
	"runtime"
	"strconv"
	"testing"

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

func BenchmarkList10000(b *testing.B) {
	s, pg, db := openDB(b)
	ctx := testCtx(b)
	if err := s.ensureTable(ctx); err != nil {
		b.Fatal(err)
	}
	pg.MustExec(b, db, fill10000)
	pg.MustExec(b, db, "VACUUM ANALYZE iac_resources")
	const n = 10000
	rowBytes, _ := strconv.ParseFloat(pg.MustExec(b, db, `SELECT avg(octet_length(t::text)) FROM iac_resources t`), 64)

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
