package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"statescope/stores"
	"statescope/stores/storetest"
)

// BenchmarkListJSON is `statescope list -o json` end to end, in process,
// masking on, on filesystem stores of realistic records (10,000 and
// 100,000 of ~1 KB, 1,000 of ~100 KB), beside workflow's own reader on the
// same store in the same run: its time, CPU time and peak live heap, also
// as a multiple of the bytes on disk.
func BenchmarkListJSON(b *testing.B) {
	for _, store := range []struct {
		name   string
		n      int
		record func(int) *stores.State
	}{
		{"10000x1KB", 10_000, storetest.Realistic},
		{"100000x1KB", 100_000, storetest.Realistic},
		{"1000x100KB", 1_000, storetest.RealisticLarge},
	} {
		b.Run(store.name, func(b *testing.B) {
			dir := b.TempDir()
			disk := storetest.WriteRecords(b, dir, store.n, store.record)
			b.Setenv("XDG_CONFIG_HOME", b.TempDir())
			b.Setenv("XDG_STATE_HOME", b.TempDir())
			b.Run("statescope", func(b *testing.B) {
				var errOut bytes.Buffer
				measureList(b, disk, func() {
					if code := run(context.Background(), []string{"--store", dir, "list", "-o", "json"}, strings.NewReader(""), io.Discard, &errOut); code != 0 {
						b.Fatalf("exit %d: %s", code, errOut.String())
					}
				})
			})
			b.Run("workflow", func(b *testing.B) {
				measureList(b, disk, func() {
					if n := workflowListJSON(b, dir, io.Discard); n != store.n {
						b.Fatalf("workflow's reader listed %d records, want %d", n, store.n)
					}
				})
			})
		})
	}
}

// measureList runs list b.N times and reports its wall and CPU time per
// run and the peak live heap, also as a multiple of disk.
func measureList(b *testing.B, disk int64, list func()) {
	var peak uint64
	cpu := storetest.CPUTime()
	for b.Loop() {
		stop := storetest.SampleHeap()
		list()
		peak = max(peak, stop())
	}
	b.ReportMetric(float64(b.Elapsed())/float64(time.Second)/float64(b.N), "s/op")
	b.ReportMetric(float64(storetest.CPUTime()-cpu)/float64(time.Second)/float64(b.N), "s-cpu/op")
	b.ReportMetric(float64(peak)/(1<<20), "MiB-peak-heap")
	b.ReportMetric(float64(peak)/float64(disk), "x-disk")
}

// workflowState is workflow's module.IaCState as the compatibility
// reference describes it: what its reader decodes each file into.
type workflowState struct {
	ResourceID   string         `json:"resource_id"`
	ResourceType string         `json:"resource_type"`
	Provider     string         `json:"provider"`
	ProviderRef  string         `json:"provider_ref,omitempty"`
	ProviderID   string         `json:"provider_id,omitempty"`
	ConfigHash   string         `json:"config_hash,omitempty"`
	Status       string         `json:"status"`
	Outputs      map[string]any `json:"outputs"`
	Config       map[string]any `json:"config"`
	Dependencies []string       `json:"dependencies,omitempty"`
	CreatedAt    string         `json:"created_at"`
	UpdatedAt    string         `json:"updated_at"`
	Error        string         `json:"error,omitempty"`
}

// workflowListJSON is the yardstick: workflow's filesystem ListStates as
// the compatibility reference describes it (read every *.json file in
// name order, decode it with encoding/json, skip what fails), followed by
// an indented JSON encoding of the list — no masking, one goroutine. It
// returns how many records it listed.
func workflowListJSON(b *testing.B, dir string, w io.Writer) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var states []*workflowState
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		var st workflowState
		if json.Unmarshal(data, &st) != nil {
			continue
		}
		states = append(states, &st)
	}
	out, err := json.MarshalIndent(states, "", "  ")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write(out); err != nil {
		b.Fatal(err)
	}
	return len(states)
}
