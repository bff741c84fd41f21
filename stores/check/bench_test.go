package check_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"statescope/stores"
	"statescope/stores/check"
	"statescope/stores/filesystem"
)

// benchRecords is the size of the store the check benchmark compares
// against a plain listing (the goal: check ≤ 2× list).
const benchRecords = 100000

var (
	benchOnce sync.Once
	benchDir  string
)

// benchStore is a filesystem store of benchRecords ~1 KB records, each
// depending on the one before, with a few locks, made once per run.
func benchStore(b *testing.B) *filesystem.Store {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "statescope-check-bench-")
		if err != nil {
			b.Fatal(err)
		}
		pad := strings.Repeat("x", 700)
		for i := range benchRecords {
			r := &stores.State{ResourceID: fmt.Sprintf("env/res/%06d", i), ResourceType: "infra.database", Provider: "aws", Status: "active",
				Outputs: map[string]any{"endpoint": "db.example.com", "pad": pad}, Config: map[string]any{"size": "large"},
				CreatedAt: "2026-01-01T00:00:00Z", UpdatedAt: "2026-01-01T00:00:00Z"}
			if i > 0 {
				r.Dependencies = []string{fmt.Sprintf("env/res/%06d", i-1)}
			}
			data, _ := stores.EncodeState(r)
			if err := os.WriteFile(filepath.Join(dir, stores.ObjectName(r.ResourceID)+".json"), data, 0o600); err != nil {
				b.Fatal(err)
			}
		}
		for i := range 3 {
			name := stores.ObjectName(fmt.Sprintf("env/res/%06d", i)) + ".lock"
			if err := os.WriteFile(filepath.Join(dir, name), []byte(stores.FormatTime(time.Now())), 0o600); err != nil {
				b.Fatal(err)
			}
		}
		benchDir = dir
	})
	s, err := filesystem.Open(benchDir)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// removeBenchStore runs the tests and benchmarks, then removes the
// benchmark store, which every run (-count) of a benchmark shares.
type removeBenchStore struct{ *testing.M }

func (m removeBenchStore) Run() int {
	defer func() {
		if benchDir != "" {
			os.RemoveAll(benchDir)
		}
	}()
	return m.M.Run()
}

// BenchmarkCheckVsList100k: `check` (listing, lock inventory, directory
// look, graph) against `list` on the same 100,000-record store, with the
// CPU time each takes (what a loaded machine does not change much).
func BenchmarkCheckVsList100k(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	measure := func(b *testing.B, run func()) {
		cpu := processCPU(b)
		for b.Loop() {
			run()
		}
		b.ReportMetric(float64(processCPU(b)-cpu)/1e9/float64(b.N), "cpu-s/op")
	}
	b.Run("list", func(b *testing.B) {
		measure(b, func() {
			if entries, err := s.List(ctx, stores.Filter{}); err != nil || len(entries) != benchRecords {
				b.Fatalf("%d entries, %v", len(entries), err)
			}
		})
	})
	b.Run("check", func(b *testing.B) {
		measure(b, func() {
			rep, err := check.Run(ctx, s, check.Options{Target: benchDir})
			if err != nil || len(rep.Findings) != 0 {
				b.Fatalf("%v, %d findings", err, len(rep.Findings))
			}
		})
	})
}
