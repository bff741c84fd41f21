package stores

import (
	"context"
	"iter"
	"slices"
	"strings"
	"sync"
)

// ObjectName is the engine's ID → name rule, shared by the filesystem and
// every object store: '/' and '\' become '_'. It is lossy ("a/b" and "a_b"
// collide), so readers take the ID from inside the record.
func ObjectName(id string) string { return objectNamer.Replace(id) }

// objectNamer is built once: building a Replacer costs more than using it.
var objectNamer = strings.NewReplacer("/", "_", `\`, "_")

// Limiter is optional: a store that cannot keep some part of a record
// says so, for detail views and the CLI (PostgreSQL has no error column).
type Limiter interface {
	Limitations() []string
}

// DefaultParallelism is how many records object stores fetch at once.
const DefaultParallelism = 16

// FetchParallel fetches keys with at most n fetches in flight and hands the
// results to yield in batches as they complete (not in key order). It stops
// at the first yield error or when ctx ends, and waits for its workers
// before returning, so no goroutine outlives the call.
func FetchParallel[T any](ctx context.Context, keys []string, n int, fetch func(ctx context.Context, key string) T, yield func([]T) error) error {
	return FetchEach(ctx, slices.Values(keys), n, fetch, yield)
}

// FetchEach is FetchParallel for keys that arrive while earlier ones are
// fetched, such as a listing's pages: keys is iterated on its own goroutine,
// only as fast as fetches start, and waited for; one that waits for keys
// must itself end when ctx ends or yield fails.
func FetchEach[K, T any](ctx context.Context, keys iter.Seq[K], n int, fetch func(ctx context.Context, key K) T, yield func([]T) error) error {
	if n <= 0 {
		n = DefaultParallelism
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan K)
	results := make(chan T, n)
	var wg sync.WaitGroup
	worker := func() {
		for k := range work {
			e := fetch(ctx, k)
			select {
			case results <- e:
			case <-ctx.Done():
				return
			}
		}
	}
	wg.Go(func() {
		defer close(work)
		started := 0
		for k := range keys {
			if started < n {
				started++
				wg.Go(worker)
			}
			select {
			case work <- k:
			case <-ctx.Done():
				return
			}
		}
	})
	go func() { wg.Wait(); close(results) }()

	const batchSize = 64
	var batch []T
	var yieldErr error
	for e := range results {
		if yieldErr != nil {
			continue // drain so workers can exit
		}
		if batch == nil {
			// Sized by what is ready: batches are mostly small when the
			// caller keeps up, and each is the caller's to keep.
			batch = make([]T, 0, min(batchSize, len(results)+1))
		}
		batch = append(batch, e)
		// Deliver promptly: a full batch, or whenever nothing else is ready.
		if len(batch) == batchSize || len(results) == 0 {
			if yieldErr = yield(batch); yieldErr != nil {
				cancel()
			}
			batch = nil
		}
	}
	if yieldErr != nil {
		return yieldErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return yield(batch)
	}
	return nil
}
