package objectstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sort"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// ListAfter lists the objects under the prefix whose keys sort after after
// ("" = every one) in key order, the byte order S3 lists in, a page at a
// time, until its context ends.
type ListAfter func(ctx context.Context, after string) iter.Seq2[[]Object, error]

// Ranges lists a store's keys as Pages. A listing is a chain of pages, each
// a round trip after the last: at a million keys and 50 ms a request that
// chain alone is nearly a minute, even when a refresh fetches nothing. So
// once a listing has completed, Ranges remembers the keys where its pages
// ended (one key a page) and lists the next time as the contiguous key
// ranges between them, side by side, each paging on where it has grown.
// Keys added or deleted anywhere, boundary keys included, only change how
// many pages a range takes: every key belongs to exactly one range.
type Ranges struct {
	list     ListAfter
	parallel int

	mu sync.Mutex
	// bounds are the last keys of every range but the last, ascending: range
	// i holds the keys in (bounds[i-1], bounds[i]], the first from the
	// start, the last open-ended. None until a listing completes, and none
	// for a store that fits one page, which is one request anyway.
	bounds []string
}

// NewRanges lists with list, at most parallel ranges at once.
func NewRanges(list ListAfter, parallel int) *Ranges {
	return &Ranges{list: list, parallel: max(parallel, 1)}
}

// errOutOfOrder: a server that does not list in key order cannot be listed
// in ranges; its keys are listed in one chain from then on.
var errOutOfOrder = errors.New("the server listed keys out of order")

// keyRange is the keys in (after, until]; every key after after when last.
type keyRange struct {
	after, until string
	last         bool
}

// whole reports whether kr is every key: a listing in one chain.
func (kr keyRange) whole() bool { return kr.after == "" && kr.last }

// chunk is the part of one listed page inside its range: the last key and
// how many keys.
type chunk struct {
	end string
	n   int
}

// tally is what a range's listing saw, to place the next listing's bounds.
type tally struct {
	chunks   []chunk
	largest  int // the most keys one page held: the server's page size
	disorder bool
}

// Pages lists every object under the prefix, in ranges when an earlier
// listing left bounds; pages come in no particular key order. An error in
// one range, or the caller stopping, ends every range before Pages returns.
func (r *Ranges) Pages(ctx context.Context) iter.Seq2[[]Object, error] {
	return func(yield func([]Object, error) bool) {
		r.mu.Lock()
		bounds := r.bounds
		r.mu.Unlock()
		ranges := make([]keyRange, len(bounds)+1)
		for i := range ranges {
			if i > 0 {
				ranges[i].after = bounds[i-1]
			}
			if i < len(bounds) {
				ranges[i].until = bounds[i]
			} else {
				ranges[i].last = true
			}
		}
		tallies := make([]tally, len(ranges))
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		// The group cancels every range when one fails; failed says so
		// before that, so no page arriving meanwhile is passed on.
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(r.parallel)
		var failed atomic.Bool
		pages := make(chan []Object)
		done := make(chan error, 1)
		// The first range starts alone, the rest once it has delivered a
		// page: the first rows come as soon as from a listing in one chain,
		// not when a server busy with every range gets round to them. The
		// rest start one page later for it.
		headStart := make(chan struct{})
		var once sync.Once
		begun := func() { once.Do(func() { close(headStart) }) }
		go func() {
			for i := range ranges {
				if gctx.Err() != nil {
					break // a range failed, or the caller is gone
				}
				g.Go(func() error {
					var sent func()
					if i == 0 {
						sent = begun
						defer begun()
					}
					err := r.listRange(gctx, ranges[i], &tallies[i], pages, sent)
					if err != nil {
						failed.Store(true)
					}
					return err
				})
				if i == 0 {
					select {
					case <-headStart:
					case <-gctx.Done():
					}
				}
			}
			done <- g.Wait()
			close(pages)
		}()
		stopped := false
		for p := range pages {
			if stopped || failed.Load() {
				continue // the ranges are ending: drain them
			}
			if !yield(p, nil) {
				stopped = true
				cancel()
			}
		}
		err := <-done
		if err == nil {
			err = ctx.Err() // ranges may be left unstarted
		}
		switch {
		case stopped:
		case err != nil:
			if errors.Is(err, errOutOfOrder) {
				r.remember(nil)
			}
			yield(nil, err)
		default:
			r.remember(tallies)
		}
	}
}

// listRange sends out the objects of kr, page by page, and tallies them;
// sent, when set, is called after each page is taken.
func (r *Ranges) listRange(ctx context.Context, kr keyRange, t *tally, out chan<- []Object, sent func()) error {
	prev := kr.after
	for page, err := range r.list(ctx, kr.after) {
		if err != nil {
			return err
		}
		t.largest = max(t.largest, len(page))
		for _, o := range page {
			if o.Key <= prev {
				t.disorder = true
			}
			prev = o.Key
		}
		if t.disorder && !kr.whole() {
			return fmt.Errorf("listing after %q: %w", kr.after, errOutOfOrder)
		}
		in := len(page)
		if !kr.last {
			in = sort.Search(len(page), func(i int) bool { return page[i].Key > kr.until })
		}
		if in > 0 {
			if err := ctx.Err(); err != nil {
				return err // another range failed: send nothing more
			}
			t.chunks = append(t.chunks, chunk{end: page[in-1].Key, n: in})
			select {
			case out <- page[:in]:
				if sent != nil {
					sent()
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if in < len(page) || (in > 0 && page[in-1].Key == kr.until) {
			return nil // past the range's end
		}
	}
	return ctx.Err()
}

// remember places the next listing's bounds from a completed listing's
// tallies, in key order: the ends of its pages, merging neighbours that
// together fit one page (so ranges that shrank do not multiply requests).
func (r *Ranges) remember(tallies []tally) {
	pageSize := 0
	for _, t := range tallies {
		if t.disorder {
			tallies = nil
			break
		}
		pageSize = max(pageSize, t.largest)
	}
	var bounds []string
	var end string
	n := 0
	for _, t := range tallies {
		for _, c := range t.chunks {
			if n > 0 && n+c.n > pageSize {
				bounds = append(bounds, end)
				n = 0
			}
			end, n = c.end, n+c.n
		}
	}
	r.mu.Lock()
	r.bounds = bounds
	r.mu.Unlock()
}
