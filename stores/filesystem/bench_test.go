package filesystem

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"statescope/stores"
)

// benchRecord is a realistic ~1 KB record: nested outputs and config, a few
// secret-looking keys.
func benchRecord(i int) *stores.State {
	return &stores.State{
		ResourceID: fmt.Sprintf("env/svc-%03d/db-%06d", i%100, i), ResourceType: "infra.database", Provider: "aws",
		ProviderID: fmt.Sprintf("db-%06d", i), ConfigHash: strings.Repeat("ab", 32), Status: "active",
		Outputs: map[string]any{
			"endpoint": fmt.Sprintf("db-%06d.c1.eu-west-1.rds.amazonaws.com", i), "port": 5432,
			"password": "s3cr3t-" + fmt.Sprint(i), "connection_string": fmt.Sprintf("postgres://app:pw%d@db:5432/app", i),
			"network": map[string]any{"vpc": "vpc-0a1b2c3d", "subnets": []any{"subnet-1", "subnet-2", "subnet-3"}, "security_groups": []any{"sg-1", "sg-2"}},
			"tags":    map[string]any{"team": "payments", "env": "prod", "cost_center": "cc-1234", "owner": "ops@example.com"},
		},
		Config: map[string]any{
			"engine": "postgres", "version": "16.2", "size": "db.r6g.large", "storage_gb": 200, "multi_az": true,
			"backup": map[string]any{"retention_days": 14, "window": "03:00-04:00"}, "api_token": "tok-" + fmt.Sprint(i),
			"parameters": map[string]any{"max_connections": 500, "shared_buffers": "4GB", "work_mem": "64MB"},
		},
		Dependencies: []string{"env/vpc/main", "env/kms/db"},
		CreatedAt:    "2026-01-01T00:00:00Z", UpdatedAt: "2026-06-01T12:00:00Z",
	}
}

func benchDir(b *testing.B, n int) *Store {
	b.Helper()
	dir := b.TempDir()
	for i := range n {
		data, _ := stores.EncodeState(benchRecord(i))
		if err := os.WriteFile(filepath.Join(dir, stores.ObjectName(benchRecord(i).ResourceID)+".json"), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
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
