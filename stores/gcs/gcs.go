// Package gcs reads and writes workflow state in a Google Cloud Storage
// bucket, in the layout the engine's and the gcp plugin's gcs backend use:
// <prefix><name>.json records and <prefix><name>.lock lock objects.
//
// Credentials are Application Default Credentials; with STORAGE_EMULATOR_HOST
// set the client talks to that emulator without authentication.
package gcs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"strconv"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"statescope/stores"
	"statescope/stores/objectstore"
)

// Usage is the target form shown in errors and help.
const Usage = "gs://BUCKET[/PREFIX][?parallel=N]"

func init() {
	stores.Register("gs", Usage, func(ctx context.Context, t stores.Target) (stores.Store, error) {
		return Open(ctx, t)
	})
}

// The optional capabilities statescope looks for, checked at compile time.
var (
	_ stores.Store            = (*Store)(nil)
	_ stores.LockLister       = (*Store)(nil)
	_ stores.ForceUnlocker    = (*Store)(nil)
	_ stores.HolderLocker     = (*Store)(nil)
	_ stores.Streamer         = (*Store)(nil)
	_ stores.RowLister        = (*Store)(nil)
	_ stores.Describer        = (*Store)(nil)
	_ stores.ConditionalStore = (*Store)(nil)
	_ io.Closer               = (*Store)(nil)
)

// Store is one bucket and prefix. It is safe for concurrent use.
type Store struct {
	// Records are Get, Save, Delete, List and the conditional writes.
	objectstore.Records
	client *storage.Client
	bucket *storage.BucketHandle
	layout objectstore.Layout
	// emulator is STORAGE_EMULATOR_HOST when set, for Describe.
	emulator string
	// pageSize is how many keys a listing page asks for; 0 leaves it to
	// the server (1,000).
	pageSize int
	// pages lists every object under the prefix, in key ranges side by
	// side once a listing has shown where they fall: records and locks.
	pages objectstore.Pages
}

// Open connects to the bucket a gs:// target names. opts are extra client
// options (tests pass an endpoint); the default is ADC or the emulator.
// Nothing is sent until the first call.
func Open(ctx context.Context, t stores.Target, opts ...option.ClientOption) (*Store, error) {
	tgt, err := objectstore.ParseTarget(t, Usage)
	if err != nil {
		return nil, err
	}
	// JSON reads: the XML read path is routed by host name, which emulators
	// behind a proxy get wrong. Metrics off: statescope sends no telemetry.
	opts = append([]option.ClientOption{storage.WithJSONReads(), storage.WithDisabledClientMetrics()}, opts...)
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("gcs: %s: %w", tgt.Layout, err)
	}
	s := &Store{
		client:   client,
		bucket:   client.Bucket(tgt.Bucket),
		layout:   tgt.Layout,
		emulator: os.Getenv("STORAGE_EMULATOR_HOST"),
	}
	s.pages = objectstore.NewRanges(s.listAfter, tgt.Parallel).Pages
	s.Records = objectstore.NewRecords("gcs", tgt.Layout, tgt.Parallel, objectstore.Backend{
		Read: s.readKey, SaveIf: s.saveIf, DeleteIf: s.deleteIf, Pages: s.pages,
	})
	return s, nil
}

// Describe names the bucket and prefix; GCS targets carry no credentials.
func (s *Store) Describe() string {
	d := "gcs " + s.layout.String()
	if s.emulator != "" {
		d += " (emulator " + s.emulator + ")"
	}
	return d
}

// Close releases the client.
func (s *Store) Close() error { return s.client.Close() }

func (s *Store) fail(op, id string, err error) error {
	return fmt.Errorf("gcs: %s %q: %w", op, id, err)
}

// isPrecondition reports a 412: a generation condition did not hold.
func isPrecondition(err error) bool {
	var ge *googleapi.Error
	return errors.As(err, &ge) && ge.Code == http.StatusPreconditionFailed
}

// read returns an object's bytes and generation; a missing object wraps
// stores.ErrNotFound.
func (s *Store) read(ctx context.Context, obj *storage.ObjectHandle) ([]byte, int64, error) {
	r, err := obj.NewReader(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil, 0, fmt.Errorf("%s: %w", s.layout.Source(obj.ObjectName()), stores.ErrNotFound)
	}
	if err != nil {
		return nil, 0, err
	}
	defer r.Close()
	data, err := objectstore.ReadAll(r)
	if err != nil {
		return nil, 0, err
	}
	return data, r.Attrs.Generation, nil
}

// readKey is read for objectstore: the generation is the version.
func (s *Store) readKey(ctx context.Context, key string) ([]byte, string, error) {
	data, gen, err := s.read(ctx, s.bucket.Object(key))
	return data, strconv.FormatInt(gen, 10), err
}

// write stores data at key under cond (zero: unconditional) and returns
// the new generation.
func (s *Store) write(ctx context.Context, key string, data []byte, contentType string, cond storage.Conditions) (int64, error) {
	obj := s.bucket.Object(key)
	if cond != (storage.Conditions{}) {
		obj = obj.If(cond)
	}
	// Cancelling the context is how a storage.Writer is abandoned.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := obj.NewWriter(ctx)
	w.ContentType = contentType
	// One buffered request: retriable, without a 16 MiB buffer per write.
	w.ChunkSize = len(data) + 1
	if _, err := w.Write(data); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return w.Attrs().Generation, nil
}

// deleteOutcome says what deleteGeneration found.
type deleteOutcome int

const (
	deleted deleteOutcome = iota
	// missing: no object at the key.
	missing
	// changed: the live object has another generation (returned).
	changed
)

// deleteGeneration deletes key only if its live generation is token. It
// names that exact generation, which emulators honour though they ignore
// preconditions on delete, and also sends the generation precondition,
// without which a versioned bucket would delete a noncurrent version and
// leave a newer live object in place.
func (s *Store) deleteGeneration(ctx context.Context, key, token string) (deleteOutcome, int64, error) {
	obj := s.bucket.Object(key)
	if gen, err := strconv.ParseInt(token, 10, 64); err == nil && gen > 0 {
		err := obj.Generation(gen).If(storage.Conditions{GenerationMatch: gen}).Delete(ctx)
		if err == nil {
			return deleted, 0, nil
		}
		if !errors.Is(err, storage.ErrObjectNotExist) && !isPrecondition(err) {
			return 0, 0, err
		}
	}
	attrs, err := obj.Attrs(ctx)
	switch {
	case errors.Is(err, storage.ErrObjectNotExist):
		return missing, 0, nil
	case err != nil:
		return 0, 0, err
	}
	return changed, attrs.Generation, nil
}

// listAfter lists the keys under the prefix after after ("" = all),
// recursively, a page at a time, with their generations. GCS lists in key
// order, so objectstore.Ranges can list a large bucket in ranges.
func (s *Store) listAfter(ctx context.Context, after string) iter.Seq2[[]objectstore.Object, error] {
	return func(yield func([]objectstore.Object, error) bool) {
		q := &storage.Query{Prefix: s.layout.Prefix}
		if after != "" {
			q.StartOffset = after + "\x00" // the first name after it
		}
		if err := q.SetAttrSelection([]string{"Name", "Generation"}); err != nil {
			yield(nil, err)
			return
		}
		it := s.bucket.Objects(ctx, q)
		it.PageInfo().MaxSize = s.pageSize
		var page []objectstore.Object
		for {
			attrs, err := it.Next()
			if errors.Is(err, iterator.Done) {
				if len(page) > 0 {
					yield(page, nil)
				}
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
			page = append(page, objectstore.Object{Key: attrs.Name, Version: strconv.FormatInt(attrs.Generation, 10)})
			if it.PageInfo().Remaining() == 0 {
				if !yield(page, nil) {
					return
				}
				page = nil
			}
		}
	}
}

func (s *Store) saveIf(ctx context.Context, st *stores.State, version string) error {
	cond := storage.Conditions{DoesNotExist: true}
	if version != "" {
		gen, err := strconv.ParseInt(version, 10, 64)
		if err != nil || gen <= 0 {
			return fmt.Errorf("version %q is not a generation: %w", version, stores.ErrConflict)
		}
		cond = storage.Conditions{GenerationMatch: gen}
	}
	data, err := stores.EncodeState(st)
	if err != nil {
		return err
	}
	_, err = s.write(ctx, s.layout.RecordKey(st.ResourceID), data, "application/json", cond)
	if isPrecondition(err) {
		return fmt.Errorf("generation is no longer %q: %w", version, stores.ErrConflict)
	}
	return err
}

func (s *Store) deleteIf(ctx context.Context, id, version string) error {
	outcome, live, err := s.deleteGeneration(ctx, s.layout.RecordKey(id), version)
	switch {
	case err != nil:
		return err
	case outcome == missing:
		return stores.ErrNotFound
	case outcome == changed:
		return fmt.Errorf("generation is %d, not %q: %w", live, version, stores.ErrConflict)
	}
	return nil
}
