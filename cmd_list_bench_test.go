package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"statescope/stores/storetest"
)

// BenchmarkListJSON is `statescope list -o json` end to end, in process,
// masking on, on a filesystem store of realistic ~1 KB records: its time
// and peak live heap, also as a multiple of the bytes on disk.
func BenchmarkListJSON(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := b.TempDir()
			disk := storetest.WriteRealistic(b, dir, n)
			b.Setenv("XDG_CONFIG_HOME", b.TempDir())
			b.Setenv("XDG_STATE_HOME", b.TempDir())
			var peak uint64
			var errOut bytes.Buffer
			cpu := storetest.CPUTime()
			for b.Loop() {
				stop := storetest.SampleHeap()
				if code := run(context.Background(), []string{"--store", dir, "list", "-o", "json"}, strings.NewReader(""), io.Discard, &errOut); code != 0 {
					b.Fatalf("exit %d: %s", code, errOut.String())
				}
				peak = max(peak, stop())
			}
			b.ReportMetric(float64(b.Elapsed())/float64(time.Second)/float64(b.N), "s/op")
			b.ReportMetric(float64(storetest.CPUTime()-cpu)/float64(time.Second)/float64(b.N), "s-cpu/op")
			b.ReportMetric(float64(peak)/(1<<20), "MiB-peak-heap")
			b.ReportMetric(float64(peak)/float64(disk), "x-disk")
		})
	}
}
