package stores

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"

	"go.uber.org/goleak"
)

func fetchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%03d", i)
	}
	return keys
}

// An entry is delivered as soon as nothing else is ready: with every other
// fetch waiting for the first delivery, the first entry still arrives (held
// back, the bubble would deadlock and the test fail).
func TestFetchParallelDeliversPromptly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		delivered := make(chan struct{})
		var once sync.Once
		fetch := func(_ context.Context, k string) Entry {
			if k != "k000" {
				<-delivered
			}
			return Entry{ID: k}
		}
		var sizes []int
		err := FetchParallel(t.Context(), fetchKeys(20), 4, fetch, func(b []Entry) error {
			sizes = append(sizes, len(b))
			once.Do(func() { close(delivered) })
			return nil
		})
		if err != nil || len(sizes) == 0 || sizes[0] != 1 {
			t.Errorf("batches %v, %v; want the first entry alone first", sizes, err)
		}
	})
}

// When many entries are ready they come in full batches of 64, never an
// empty one, and every key exactly once.
func TestFetchParallelBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) { fetchBatches(t) })
}

func fetchBatches(t *testing.T) {
	keys := fetchKeys(500)
	fetch := func(_ context.Context, k string) Entry { return Entry{ID: k} }
	var sizes []int
	seen := map[string]bool{}
	err := FetchParallel(t.Context(), keys, len(keys), fetch, func(b []Entry) error {
		if len(sizes) == 0 {
			synctest.Wait() // every other entry is fetched and waiting
		}
		sizes = append(sizes, len(b))
		for _, e := range b {
			if seen[e.ID] {
				t.Errorf("%s delivered twice", e.ID)
			}
			seen[e.ID] = true
		}
		return nil
	})
	if err != nil || len(seen) != len(keys) {
		t.Fatalf("%d of %d keys, %v", len(seen), len(keys), err)
	}
	for i, n := range sizes {
		if n == 0 || n > 64 || (i > 0 && i < len(sizes)-1 && n != 64) {
			t.Fatalf("batch sizes %v: want full batches of 64 after the first, up to the last", sizes)
		}
	}
}

// n ≤ 0 means the default parallelism, not none.
func TestFetchParallelDefaultsParallelism(t *testing.T) {
	defer goleak.VerifyNone(t)
	var mu sync.Mutex
	inFlight, most := 0, 0
	release := make(chan struct{})
	fetch := func(_ context.Context, k string) Entry {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		if inFlight == DefaultParallelism {
			close(release)
		}
		mu.Unlock()
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		return Entry{ID: k}
	}
	got := 0
	err := FetchParallel(t.Context(), fetchKeys(DefaultParallelism), 0, fetch, func(b []Entry) error { got += len(b); return nil })
	if err != nil || got != DefaultParallelism || most != DefaultParallelism {
		t.Errorf("n=0: %d entries, at most %d in flight, %v; want %d at once", got, most, err, DefaultParallelism)
	}
}
