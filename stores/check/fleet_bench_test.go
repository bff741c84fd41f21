package check_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"statescope/stores"
	"statescope/stores/check"
	"statescope/stores/fleet"
	"statescope/stores/latencyproxy"
	"statescope/stores/storetest/testserver"
)

// The fleet benchmarks: 50 contexts of 1,000 records each behind 10 ms of
// added latency per request.
const (
	fleetContexts = 50
	fleetRecords  = 1000
	fleetLatency  = 10 * time.Millisecond
)

// BenchmarkFleet50x1000 checks 50 PostgreSQL contexts (a schema each) at
// the fleet's default parallelism and one after another. Contexts checked
// at once share sessions (no connect round trip); one after another, each
// opens its own.
func BenchmarkFleet50x1000(b *testing.B) {
	pg := testserver.Postgres(b)
	db := pg.NewDatabase(b, "")
	for i := range fleetContexts {
		pg.MustExec(b, db, fmt.Sprintf(`CREATE SCHEMA c%[1]d;
CREATE TABLE c%[1]d.iac_resources (name TEXT PRIMARY KEY, type TEXT NOT NULL DEFAULT '', provider TEXT NOT NULL DEFAULT '',
 provider_ref TEXT NOT NULL DEFAULT '', provider_id TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT '',
 config_hash TEXT NOT NULL DEFAULT '', applied_config JSONB NOT NULL DEFAULT '{}', outputs JSONB NOT NULL DEFAULT '{}',
 dependencies TEXT[] NOT NULL DEFAULT '{}', created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(), updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW());
INSERT INTO c%[1]d.iac_resources (name, type, provider, status, outputs, dependencies)
 SELECT 'env/res/' || g, 'infra.database', 'aws', 'active', jsonb_build_object('endpoint', 'db.example.com', 'pad', repeat('x', 700)),
  CASE WHEN g > 1 THEN ARRAY['env/res/' || (g - 1)] ELSE '{}' END
 FROM generate_series(1, %[2]d) g`, i, fleetRecords))
	}
	proxy := startLatencyProxy(b, net.JoinHostPort(pg.Host, strconv.Itoa(pg.Port)))
	var members []fleet.Member
	for i := range fleetContexts {
		members = append(members, fleet.Member{Name: fmt.Sprintf("c%d", i),
			Target: fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable&search_path=c%d", proxy.Addr(), db, i)})
	}
	benchFleet(b, members, serverPID(b, "postgres", "-p", strconv.Itoa(pg.Port)))
}

// BenchmarkFleet50x1000S3 is the same fleet on versitygw: 50 contexts
// over one bucket of 1,000 records (each context lists and fetches every
// record itself, so the server's work is that of 50 buckets).
func BenchmarkFleet50x1000S3(b *testing.B) {
	gw, bucket := s3Bucket(b)
	s, err := stores.Open(context.Background(), s3Target(gw, bucket, gw.Endpoint))
	if err != nil {
		b.Fatal(err)
	}
	pad := strings.Repeat("x", 700)
	errs := make(chan error, fleetRecords)
	sem := make(chan struct{}, 16)
	for i := range fleetRecords {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			r := &stores.State{ResourceID: fmt.Sprintf("env/res/%d", i), ResourceType: "infra.database", Provider: "aws", Status: "active",
				Outputs: map[string]any{"endpoint": "db.example.com", "pad": pad}, CreatedAt: "2026-01-01T00:00:00Z", UpdatedAt: "2026-01-01T00:00:00Z"}
			if i > 0 {
				r.Dependencies = []string{fmt.Sprintf("env/res/%d", i-1)}
			}
			errs <- s.Save(context.Background(), r)
		}()
	}
	for range fleetRecords {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	stores.Close(s)
	addr := strings.TrimPrefix(gw.Endpoint, "http://")
	proxy := startLatencyProxy(b, addr)
	var members []fleet.Member
	for i := range fleetContexts {
		members = append(members, fleet.Member{Name: fmt.Sprintf("c%d", i),
			Target: s3Target(gw, bucket, "http://"+proxy.Addr())})
	}
	benchFleet(b, members, serverPID(b, "versitygw", "--port", addr))
}

func startLatencyProxy(b *testing.B, addr string) *latencyproxy.Proxy {
	proxy, err := latencyproxy.Start(addr, fleetLatency)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { proxy.Close() })
	return proxy
}

// benchFleet checks every member at the fleet's default parallelism, then
// one after another, and reports when the first and the last row were
// complete, the speed-up, and the CPU time per context check of this
// process (check and latency proxy) and of the server. The default of 8 at
// once takes at least 7 turns for 50 contexts: 50/7 = 7.1× when a context
// costs the same round trips either way.
func benchFleet(b *testing.B, members []fleet.Member, server int) {
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
				if err != nil || len(r.Findings) != 0 || r.Records["active"] != fleetRecords {
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
	ownCPU, serverCPU := processCPU(b), childCPU(b, server)
	for b.Loop() {
		first, last := run(b, fleet.DefaultParallel)
		_, seq := run(b, 1)
		firsts, lasts, seqs = firsts+first, lasts+last, seqs+seq
	}
	checks := float64(2 * b.N * len(members))
	b.ReportMetric(float64(processCPU(b)-ownCPU)/1e6/checks, "cpu-ms/context")
	b.ReportMetric(float64(childCPU(b, server)-serverCPU)/1e6/checks, "server-cpu-ms/context")
	n := time.Duration(b.N)
	b.ReportMetric(float64(firsts/n)/1e6, "first-row-ms")
	b.ReportMetric(float64(lasts/n)/1e6, "all-rows-ms")
	b.ReportMetric(float64(seqs/n)/1e6, "sequential-ms")
	b.ReportMetric(float64(seqs)/float64(lasts), "speedup")
}

// processCPU is this process's user and system time so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverPID finds the test server's process: the one named comm whose
// command line holds every arg.
func serverPID(b *testing.B, comm string, args ...string) int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		name, _ := os.ReadFile(d + "/comm")
		cmdline, _ := os.ReadFile(d + "/cmdline")
		fields := strings.Split(string(cmdline), "\x00")
		if strings.TrimSpace(string(name)) != comm || !containsAll(fields, args) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		return pid
	}
	b.Fatalf("no %s process with %q", comm, args)
	return 0
}

func containsAll(fields, want []string) bool {
	for _, w := range want {
		found := false
		for _, f := range fields {
			found = found || f == w
		}
		if !found {
			return false
		}
	}
	return true
}

// childCPU is a process's user and system time so far, with that of its
// children it has reaped (a PostgreSQL backend's, once it has ended).
func childCPU(b *testing.B, pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name, which ends at the last ')';
	// utime, stime, cutime and cstime are fields 14–17 of the whole line.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	var ticks int64
	for _, f := range fields[11:15] {
		n, _ := strconv.ParseInt(f, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}
