package check_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"statescope/stores"
	"statescope/stores/check"
	"statescope/stores/fleet"
	"statescope/stores/latencyproxy"
	"statescope/stores/storetest/testserver"
)

// BenchmarkFleet50x1000 checks 50 PostgreSQL contexts of 1,000 records
// each behind 10 ms of added latency per request, all at once (the
// fleet's default parallelism) and one after another; it reports when the
// first row and the last row were complete, and the speed-up.
func BenchmarkFleet50x1000(b *testing.B) {
	const contexts, records = 50, 1000
	pg := testserver.Postgres(b)
	db := pg.NewDatabase(b, "")
	for i := range contexts {
		pg.MustExec(b, db, fmt.Sprintf(`CREATE SCHEMA c%[1]d;
CREATE TABLE c%[1]d.iac_resources (name TEXT PRIMARY KEY, type TEXT NOT NULL DEFAULT '', provider TEXT NOT NULL DEFAULT '',
 provider_ref TEXT NOT NULL DEFAULT '', provider_id TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT '',
 config_hash TEXT NOT NULL DEFAULT '', applied_config JSONB NOT NULL DEFAULT '{}', outputs JSONB NOT NULL DEFAULT '{}',
 dependencies TEXT[] NOT NULL DEFAULT '{}', created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(), updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW());
INSERT INTO c%[1]d.iac_resources (name, type, provider, status, outputs, dependencies)
 SELECT 'env/res/' || g, 'infra.database', 'aws', 'active', jsonb_build_object('endpoint', 'db.example.com', 'pad', repeat('x', 700)),
  CASE WHEN g > 1 THEN ARRAY['env/res/' || (g - 1)] ELSE '{}' END
 FROM generate_series(1, %[2]d) g`, i, records))
	}
	proxy, err := latencyproxy.Start(net.JoinHostPort(pg.Host, fmt.Sprint(pg.Port)), 10*time.Millisecond)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { proxy.Close() })
	var members []fleet.Member
	for i := range contexts {
		members = append(members, fleet.Member{Name: fmt.Sprintf("c%d", i),
			Target: fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable&search_path=c%d", proxy.Addr(), db, i)})
	}
	run := func(b *testing.B, parallel int) (first, last time.Duration) {
		start := time.Now()
		fleet.Run(context.Background(), members, fleet.Options{Parallel: parallel, Timeout: time.Minute},
			func(ctx context.Context, m fleet.Member) (*check.Report, error) {
				s, err := fleet.Open(ctx, m)
				if err != nil {
					return nil, err
				}
				defer stores.Close(s)
				return check.Run(ctx, s, check.Options{Target: m.Target})
			},
			func(m fleet.Member, r *check.Report, err error) {
				if err != nil || len(r.Findings) != 0 || r.Records["active"] != records {
					b.Fatalf("%s: %v", m.Name, err)
				}
				if first == 0 {
					first = time.Since(start)
				}
				last = time.Since(start)
			})
		return first, last
	}
	var firsts, lasts, seqs time.Duration
	for b.Loop() {
		first, last := run(b, fleet.DefaultParallel)
		_, seq := run(b, 1)
		firsts, lasts, seqs = firsts+first, lasts+last, seqs+seq
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64(firsts/n)/1e6, "first-row-ms")
	b.ReportMetric(float64(lasts/n)/1e6, "all-rows-ms")
	b.ReportMetric(float64(seqs/n)/1e6, "sequential-ms")
	b.ReportMetric(float64(seqs)/float64(lasts), "speedup")
}
