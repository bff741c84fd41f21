package tui

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"statescope/stores"
	"statescope/stores/demo"
	_ "statescope/stores/filesystem"
	"statescope/stores/storetest"
	"statescope/tui/grid"
)

// sliceStore lists prepared entries without decoding, so benchmarks
// measure the UI and not JSON.
type sliceStore struct {
	plainStore
	entries []stores.Entry
}

func (s *sliceStore) List(context.Context, stores.Filter) ([]stores.Entry, error) {
	return s.entries, nil
}

func manyEntries(n int) []stores.Entry {
	out := make([]stores.Entry, n)
	for i := range out {
		id := fmt.Sprintf("env%d/kind%d/resource-%07d", i%4, i%13, i)
		out[i] = stores.Entry{ID: id, State: &stores.State{
			ResourceID: id, ResourceType: fmt.Sprintf("infra.kind%d", i%13), Provider: []string{"aws", "gcp", "azure", "digitalocean"}[i%4],
			Status: stores.Statuses[i%len(stores.Statuses)], UpdatedAt: stores.FormatTime(clock.Add(-time.Duration(i) * time.Minute)),
		}}
	}
	return out
}

func loadedHarness(b *testing.B, n int) *syncHarness {
	h := newSyncHarness(b, Options{Session: Session{Store: &sliceStore{entries: manyEntries(n)}, Name: "bench"}})
	if got := h.m.top().(*resourcesView).grid.Len(); got != n {
		b.Fatalf("loaded %d rows, want %d", got, n)
	}
	return h
}

// BenchmarkKeystroke is Update+View for one key on the resources table.
// The filter case alternates typing a letter and deleting it; at 100,000
// rows the matching itself runs as a command (BenchmarkFilterCommand).
func BenchmarkKeystroke(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("j/%d", n), func(b *testing.B) {
			h := loadedHarness(b, n)
			j, k := keyPress("j"), keyPress("k")
			i := 0
			for b.Loop() {
				key := j
				if i%200 >= 100 {
					key = k
				}
				i++
				h.m.Update(key)
				_ = h.m.View()
			}
		})
		b.Run(fmt.Sprintf("filter/%d", n), func(b *testing.B) {
			h := loadedHarness(b, n)
			h.keys("/")
			typed, erase := keyPress("7"), keyPress("backspace")
			i := 0
			for b.Loop() {
				key := typed
				if i%2 == 1 {
					key = erase
				}
				i++
				h.m.Update(key)
				_ = h.m.View()
			}
		})
	}
}

// BenchmarkFilterCommand is the off-Update matching of one query over
// every row.
func BenchmarkFilterCommand(b *testing.B) {
	h := loadedHarness(b, 100_000)
	v := h.m.top().(*resourcesView)
	for b.Loop() {
		v.grid.SetQuery("")
		if cmd := v.grid.SetQuery("res7"); cmd != nil {
			v.grid.Apply(cmd().(grid.FilterMsg))
		}
	}
}

// BenchmarkFirstFrame: from opening the demo store to the first frame
// that shows the table (what `statescope demo` does after copying files).
func BenchmarkFirstFrame(b *testing.B) {
	dir := b.TempDir()
	if err := demo.Materialize(os.DirFS(filepath.Join("..", "testdata", "demo")).(fs.FS), dir, time.Now()); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		s, err := stores.Open(ctx, dir)
		if err != nil {
			b.Fatal(err)
		}
		m, err := New(ctx, Options{Session: Session{Store: s, Name: dir}})
		if err != nil {
			b.Fatal(err)
		}
		h := &syncHarness{t: b, m: m}
		h.send(tea.WindowSizeMsg{Width: 120, Height: 40})
		h.run(m.Init())
		if m.top().(*resourcesView).grid.Len() == 0 {
			b.Fatal("no rows in the first frame")
		}
		_ = m.View()
		m.Close()
	}
}

// BenchmarkLoad is the TUI's own first load of a filesystem store of
// realistic ~1 KB records (storetest.Realistic), from opening the store:
// when the first rows are in the table and drawn, when the load is
// complete, and the peak live heap on the way, also as a multiple of the
// bytes on disk.
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := b.TempDir()
			disk := storetest.WriteRealistic(b, dir, n)
			ctx := context.Background()
			var first, full time.Duration
			var peak uint64
			cpu := storetest.CPUTime()
			for b.Loop() {
				stop := storetest.SampleHeap()
				start := time.Now()
				s, err := stores.Open(ctx, dir)
				if err != nil {
					b.Fatal(err)
				}
				m, err := New(ctx, Options{Session: Session{Store: s, Name: dir}})
				if err != nil {
					b.Fatal(err)
				}
				h := &syncHarness{t: b, m: m}
				h.send(tea.WindowSizeMsg{Width: 120, Height: 40})
				seen := false
				h.updated = func() {
					if v, ok := m.top().(*resourcesView); ok && !seen && v.grid.Len() > 0 {
						_ = m.View()
						seen = true
						first += time.Since(start)
					}
				}
				h.run(m.Init())
				full += time.Since(start)
				peak = max(peak, stop())
				if got := m.top().(*resourcesView).grid.Len(); got != n {
					b.Fatalf("loaded %d rows, want %d", got, n)
				}
				m.Close()
				stores.Close(s)
			}
			b.ReportMetric(ms(first)/float64(b.N), "ms-first/op")
			b.ReportMetric(ms(full)/float64(b.N), "ms-full/op")
			b.ReportMetric(ms(storetest.CPUTime()-cpu)/float64(b.N), "ms-cpu/op")
			b.ReportMetric(float64(peak)/(1<<20), "MiB-peak-heap")
			b.ReportMetric(float64(peak)/float64(disk), "x-disk")
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
