package objectstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
)

// sortedBucket lists its keys from memory in key order, as S3 does, and
// counts the listings that started after a key: the ranges.
type sortedBucket struct {
	pageSize int
	mu       sync.Mutex
	keys     map[string]bool
	ranged   int
	// fromStart counts the pages listed from the first key on.
	fromStart atomic.Int32
	// serve, when set, answers the listing after after instead.
	serve func(ctx context.Context, after string) error
}

func (b *sortedBucket) set(keys ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		b.keys[k] = true
	}
}

func (b *sortedBucket) del(keys ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		delete(b.keys, k)
	}
}

func (b *sortedBucket) sorted() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for k := range b.keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (b *sortedBucket) listAfter(ctx context.Context, after string) iter.Seq2[[]Object, error] {
	return func(yield func([]Object, error) bool) {
		fromStart := after == ""
		b.mu.Lock()
		if after != "" {
			b.ranged++
		}
		serve := b.serve
		b.mu.Unlock()
		if serve != nil {
			if err := serve(ctx, after); err != nil {
				yield(nil, err)
				return
			}
		}
		for {
			// Each page is read afresh, as a continuation token would.
			var page []Object
			for _, k := range b.sorted() {
				if k > after && len(page) < b.pageSize {
					page = append(page, Object{Key: k, Version: "v"})
				}
			}
			if fromStart && len(page) > 0 {
				b.fromStart.Add(1)
			}
			if len(page) == 0 || ctx.Err() != nil || !yield(page, nil) {
				return
			}
			after = page[len(page)-1].Key
		}
	}
}

func newSortedBucket(pageSize int, keys ...string) *sortedBucket {
	b := &sortedBucket{pageSize: pageSize, keys: map[string]bool{}}
	b.set(keys...)
	return b
}

// listAll collects one listing's keys in key order; a key listed twice
// is an error.
func listAll(t *testing.T, ctx context.Context, r *Ranges) ([]string, error) {
	t.Helper()
	var got []string
	for page, err := range r.Pages(ctx) {
		if err != nil {
			return got, err
		}
		for _, o := range page {
			got = append(got, o.Key)
		}
	}
	slices.Sort(got)
	if dup := len(got) - len(slices.Compact(slices.Clone(got))); dup > 0 {
		t.Errorf("%d keys listed twice", dup)
	}
	return got, nil
}

func keys(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("p/k%03d.json", i))
	}
	return out
}

// After one listing, the next is listed in ranges that together hold
// exactly the keys there are, wherever keys came and went since.
func TestRangesListExactlyTheKeys(t *testing.T) {
	defer goleak.VerifyNone(t)
	tests := []struct {
		name   string
		change func(b *sortedBucket)
	}{
		{"unchanged", func(*sortedBucket) {}},
		{"added before the first bound", func(b *sortedBucket) { b.set("p/a.json", "p/k000a.json") }},
		{"a range grew by pages", func(b *sortedBucket) {
			for i := range 23 {
				b.set(fmt.Sprintf("p/k012-%02d.json", i))
			}
		}},
		{"a bound deleted", func(b *sortedBucket) { b.del("p/k004.json", "p/k009.json") }},
		{"a bound deleted and re-created", func(b *sortedBucket) { b.del("p/k004.json"); b.set("p/k004.json") }},
		{"keys around a bound", func(b *sortedBucket) { b.set("p/k004.jso", "p/k004.json0", "p/k004.jsonn") }},
		{"a whole range deleted", func(b *sortedBucket) { b.del(keys(5, 10)...) }},
		{"added after the last", func(b *sortedBucket) { b.set("p/z.json", "p/zz/deep.json") }},
		{"everything deleted", func(b *sortedBucket) { b.del(keys(0, 40)...) }},
		{"all but one range deleted", func(b *sortedBucket) { b.del(keys(0, 30)...); b.del(keys(35, 40)...) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newSortedBucket(5, keys(0, 40)...)
			r := NewRanges(b.listAfter, 4)
			c := context.Background()
			if _, err := listAll(t, c, r); err != nil {
				t.Fatal(err)
			}
			if b.ranged != 0 {
				t.Fatalf("the first listing made %d ranged requests, want none", b.ranged)
			}
			tt.change(b)
			// Twice: the second listing's ranges are placed by the first.
			for round := range 2 {
				b.ranged = 0
				got, err := listAll(t, c, r)
				if err != nil {
					t.Fatal(err)
				}
				if want := b.sorted(); !slices.Equal(got, want) {
					t.Fatalf("listing %d: got %v, want %v", round+2, got, want)
				}
				if round == 0 && b.ranged < 2 {
					t.Errorf("the listing after a listing of 8 pages made %d ranged requests; it was not split", b.ranged)
				}
			}
		})
	}
}

// Random changes between listings never make a listing miss or repeat a
// key, and a store that fits one page is never split.
func TestRangesRandomChanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	b := newSortedBucket(7, keys(0, 60)...)
	r := NewRanges(b.listAfter, 3)
	c := context.Background()
	last := 0 // keys in the listing before
	for round := range 200 {
		for range rng.IntN(20) {
			// The store shrinks to one page, grows, and then churns.
			if rng.IntN(20) < []int{3, 17, 10}[round/70] {
				b.set(fmt.Sprintf("p/k%03d.json", rng.IntN(120)))
			} else if all := b.sorted(); len(all) > 0 {
				b.del(all[rng.IntN(len(all))])
			}
		}
		b.ranged = 0
		got, err := listAll(t, c, r)
		if err != nil {
			t.Fatal(err)
		}
		if want := b.sorted(); !slices.Equal(got, want) {
			t.Fatalf("round %d: got %v, want %v", round, got, want)
		}
		if last <= b.pageSize && b.ranged > 0 {
			t.Fatalf("round %d: a store listed in one page (%d keys) was split", round, last)
		}
		last = len(got)
	}
}

// An error in one range ends the others and is what the listing returns;
// cancelling the context or stopping early ends every range too.
func TestRangesStop(t *testing.T) {
	defer goleak.VerifyNone(t)
	boom := errors.New("boom")
	ready := func(t *testing.T) (*sortedBucket, *Ranges) {
		b := newSortedBucket(5, keys(0, 40)...)
		r := NewRanges(b.listAfter, 16)
		if _, err := listAll(t, context.Background(), r); err != nil {
			t.Fatal(err)
		}
		return b, r
	}
	t.Run("a range fails", func(t *testing.T) {
		b, r := ready(t)
		// Every other range but the first, which starts alone, waits
		// until it is cancelled.
		b.serve = func(ctx context.Context, after string) error {
			switch after {
			case "":
				return nil
			case "p/k019.json":
				return boom
			}
			<-ctx.Done()
			return ctx.Err()
		}
		if _, err := listAll(t, context.Background(), r); !errors.Is(err, boom) {
			t.Errorf("listing with a failing range: %v, want boom", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		b, r := ready(t)
		c, cancel := context.WithCancel(context.Background())
		b.serve = func(ctx context.Context, after string) error {
			switch after {
			case "":
				return nil
			case "p/k019.json":
				cancel()
			}
			<-ctx.Done()
			return ctx.Err()
		}
		if _, err := listAll(t, c, r); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled listing: %v, want context.Canceled", err)
		}
	})
	t.Run("cancelled after the first page", func(t *testing.T) {
		_, r := ready(t)
		c, cancel := context.WithCancel(context.Background())
		defer cancel()
		var err error
		for _, err = range r.Pages(c) {
			cancel() // the other ranges may not have started
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("listing cancelled after its first page ended with %v, want context.Canceled", err)
		}
	})
	t.Run("the first range starts alone", func(t *testing.T) {
		b, r := ready(t)
		b.fromStart.Store(0)
		b.serve = func(_ context.Context, after string) error {
			if after != "" && b.fromStart.Load() == 0 {
				t.Errorf("the range after %s started before the first range listed a page", after)
			}
			return nil
		}
		if _, err := listAll(t, context.Background(), r); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("caller stops", func(t *testing.T) {
		b, r := ready(t)
		for range r.Pages(context.Background()) {
			break
		}
		// An unfinished listing leaves the bounds as they were.
		b.ranged = 0
		if _, err := listAll(t, context.Background(), r); err != nil || b.ranged < 2 {
			t.Errorf("after a stopped listing: %v, %d ranged requests", err, b.ranged)
		}
	})
}
