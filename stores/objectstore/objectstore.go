// Package objectstore is the part of statescope's object-store backends
// (S3, GCS, Azure Blob) that does not depend on a cloud SDK: where records and
// locks live under a prefix, the target's options, streaming listed keys
// into entries, saves and deletes checked against colliding names, and
// telling which resource a lock belongs to. A backend supplies reads,
// conditional writes and key listing.
package objectstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"statescope/stores"
)

// DefaultPrefix is the engine's and the plugins' prefix when none is set.
const DefaultPrefix = "iac-state/"

const (
	recordExt = ".json"
	lockExt   = ".lock"
	// maxParallel bounds parallel=N: past this a server only sheds load.
	maxParallel = 256
	// maxObjectBytes bounds what one read holds in memory; a record is
	// kilobytes, so anything near this is not one.
	maxObjectBytes = 256 << 20
)

// ReadAll reads an object's body, refusing one too large to be a record.
func ReadAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxObjectBytes+1))
	if err == nil && len(data) > maxObjectBytes {
		err = fmt.Errorf("object is larger than the %d MiB a record may have", maxObjectBytes>>20)
	}
	return data, err
}

// Layout names the objects of one store: <prefix><name>.json records and
// <prefix><name>.lock locks in one bucket or container.
type Layout struct {
	// Scheme and Bucket make sources such as gs://bucket/key.
	Scheme string
	Bucket string
	// Prefix is used verbatim: "state" gives keys like "statedb.json".
	Prefix string
}

// Target is a parsed object-store target.
type Target struct {
	Layout
	// Parallel is how many records are fetched at once.
	Parallel int
	// Query holds the backend's own options, already checked against the
	// names it accepts.
	Query url.Values
}

// ParseTarget reads scheme://bucket[/prefix][?parallel=N&…]. With no path
// the prefix is DefaultPrefix; otherwise the path after the first slash is
// the prefix, verbatim. options are the backend's own query parameters;
// any other parameter is an error, so a misspelt option is not ignored.
func ParseTarget(t stores.Target, usage string, options ...string) (Target, error) {
	if t.URL == nil || t.URL.Host == "" {
		return Target{}, fmt.Errorf("%s target %q names no bucket; use %s", t.Scheme, stores.RedactTarget(t.Raw), usage)
	}
	if t.URL.User != nil {
		return Target{}, fmt.Errorf("%s target %q: credentials are not accepted in the target; use %s", t.Scheme, stores.RedactTarget(t.Raw), usage)
	}
	prefix := strings.TrimPrefix(t.URL.Path, "/")
	if prefix == "" {
		prefix = DefaultPrefix
	}
	out := Target{Layout: Layout{Scheme: t.Scheme, Bucket: t.URL.Host, Prefix: prefix}, Parallel: stores.DefaultParallelism, Query: t.URL.Query()}
	for name, vals := range out.Query {
		if name != "parallel" && !slices.Contains(options, name) {
			return Target{}, fmt.Errorf("%s target %q: unknown option %q; use %s", t.Scheme, stores.RedactTarget(t.Raw), name, usage)
		}
		if len(vals) > 1 {
			return Target{}, fmt.Errorf("%s target %q: option %q is given %d times", t.Scheme, stores.RedactTarget(t.Raw), name, len(vals))
		}
	}
	if v := out.Query.Get("parallel"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxParallel {
			return Target{}, fmt.Errorf("%s target %q: parallel=%s must be a number from 1 to %d", t.Scheme, stores.RedactTarget(t.Raw), v, maxParallel)
		}
		out.Parallel = n
	}
	out.Query.Del("parallel")
	return out, nil
}

// RecordKey is where the record of id lives.
func (l Layout) RecordKey(id string) string { return l.Prefix + stores.ObjectName(id) + recordExt }

// LockKey is where the lock of id lives.
func (l Layout) LockKey(id string) string { return l.Prefix + stores.ObjectName(id) + lockExt }

// isRecordKey reports whether a listed key is a record.
func isRecordKey(key string) bool { return strings.HasSuffix(key, recordExt) }

// IsLockKey reports whether a listed key is a lock.
func IsLockKey(key string) bool { return strings.HasSuffix(key, lockExt) }

// Source is how an object is shown: scheme://bucket/key.
func (l Layout) Source(key string) string { return l.Scheme + "://" + l.Bucket + "/" + key }

// String is the store's address.
func (l Layout) String() string { return l.Source(l.Prefix) }

// name is a key without the prefix and extension: the object name, which is
// the ID unless the ID held '/' or '\'.
func (l Layout) name(key string) string {
	key = strings.TrimPrefix(key, l.Prefix)
	return strings.TrimSuffix(strings.TrimSuffix(key, recordExt), lockExt)
}

// Read returns an object's bytes and its version (generation, ETag); a
// missing object is an error wrapping stores.ErrNotFound.
type Read func(ctx context.Context, key string) (data []byte, version string, err error)

// Object is one listed key with the version the listing reports for it
// (ETag, generation); empty when the listing has none.
type Object struct {
	Key, Version string
}

// Pages lists the objects under the prefix a page at a time, until its
// context ends.
type Pages func(context.Context) iter.Seq2[[]Object, error]

// LockKeys lists the lock objects' keys among every object pages lists,
// sorted.
func LockKeys(ctx context.Context, pages Pages) ([]string, error) {
	var keys []string
	for objs, err := range pages(ctx) {
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			if IsLockKey(o.Key) {
				keys = append(keys, o.Key)
			}
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// Stream hands yield the records among the listed keys that pass f, fetched
// up to parallel at once. The next page is listed while this one is
// fetched, so the first records arrive before the listing ends. Unreadable
// records are corrupt entries; a record deleted between listing and
// fetching is left out.
func (l Layout) Stream(ctx context.Context, pages Pages, parallel int, read Read, f stores.Filter, yield func([]stores.Entry) error) error {
	fetch := func(ctx context.Context, key string) stores.Entry { return l.entry(ctx, key, read) }
	keep := func(e stores.Entry) bool { return e.Source != "" && f.Match(e) }
	return stream(ctx, pages, parallel, nil, fetch, keep, yield)
}

// StreamRows is Stream for rows (stores.RowLister): records are decoded
// only as far as a row needs, and a record whose listed version known
// recognises is not fetched at all; known's row is yielded instead.
func (l Layout) StreamRows(ctx context.Context, pages Pages, parallel int, read Read, f stores.Filter, known func(source, version string) (stores.Row, bool), yield func([]stores.Row) error) error {
	var reuse func(Object) (stores.Row, bool)
	if known != nil {
		reuse = func(o Object) (stores.Row, bool) {
			if o.Version == "" {
				return stores.Row{}, false
			}
			return known(l.Source(o.Key), o.Version)
		}
	}
	fetch := func(ctx context.Context, key string) stores.Row { return l.row(ctx, key, read) }
	keep := func(r stores.Row) bool { return r.Source != "" && f.MatchRow(r) }
	return stream(ctx, pages, parallel, reuse, fetch, keep, yield)
}

// stream lists pages in the background and fetches the records on them,
// parallel at a time across pages, so a page's records are fetched while
// the next is listed and a slow record does not hold up the next page's.
// A record reuse supplies is not fetched; keep drops vanished and filtered
// ones.
func stream[T any](ctx context.Context, pages Pages, parallel int, reuse func(Object) (T, bool), fetch func(context.Context, string) T, keep func(T) bool, yield func([]T) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	type page struct {
		objects []Object
		err     error
	}
	listCtx, cancel := context.WithCancel(ctx)
	next := make(chan page, 1)
	go func() {
		defer close(next)
		for objects, err := range pages(listCtx) {
			select {
			case next <- page{objects, err}:
			case <-listCtx.Done():
				return
			}
		}
	}()
	// Stop the lister and wait for it, so no goroutine outlives the call.
	defer func() {
		cancel()
		for range next {
		}
	}()
	var listErr error
	records := func(yield func(Object) bool) {
		for {
			var p page
			var more bool
			select {
			case p, more = <-next:
			case <-listCtx.Done():
				return
			}
			if !more {
				return // listed to the end
			}
			if p.err != nil {
				listErr = p.err
				return
			}
			for _, o := range p.objects {
				if isRecordKey(o.Key) && !yield(o) {
					return
				}
			}
		}
	}
	get := func(ctx context.Context, o Object) T {
		if reuse != nil {
			if e, ok := reuse(o); ok {
				return e
			}
		}
		return fetch(ctx, o.Key)
	}
	emit := func(batch []T) error {
		kept := batch[:0]
		for _, e := range batch {
			if keep(e) {
				kept = append(kept, e)
			}
		}
		if len(kept) == 0 {
			return nil
		}
		err := yield(kept)
		if err != nil {
			cancel() // records waits for the lister no more
		}
		return err
	}
	if err := stores.FetchEach(ctx, records, parallel, get, emit); err != nil {
		return err
	}
	if listErr != nil {
		return listErr
	}
	return ctx.Err()
}

// fetch reads one record for a listing. found is false when it vanished
// since it was listed; problem says why it is unreadable.
func (l Layout) fetch(ctx context.Context, key string, read Read) (data []byte, version, problem string, found bool) {
	data, version, err := read(ctx, key)
	switch {
	case errors.Is(err, stores.ErrNotFound):
		return nil, "", "", false
	case err != nil:
		return nil, version, "unreadable: " + err.Error(), true
	}
	return data, version, "", true
}

// entry fetches and decodes one record. The zero Entry means it vanished.
func (l Layout) entry(ctx context.Context, key string, read Read) stores.Entry {
	data, _, problem, found := l.fetch(ctx, key, read)
	if !found {
		return stores.Entry{}
	}
	e := stores.Entry{ID: l.name(key), Source: l.Source(key), Problem: problem}
	if problem != "" {
		return e
	}
	st, err := stores.DecodeState(data)
	if err != nil {
		e.Problem = err.Error()
		return e
	}
	e.State, e.ID = st, st.ResourceID
	return e
}

// row fetches one record's row. The zero Row means it vanished.
func (l Layout) row(ctx context.Context, key string, read Read) stores.Row {
	data, version, problem, found := l.fetch(ctx, key, read)
	if !found {
		return stores.Row{}
	}
	r := stores.Row{ID: l.name(key), Problem: problem}
	if problem == "" {
		var err error
		if r, err = stores.DecodeRow(data); err != nil {
			r = stores.Row{ID: l.name(key), Problem: err.Error()}
		}
	}
	r.Source, r.Version = l.Source(key), version
	return r
}

// List collects a stream into a slice sorted by ID, then source.
func List(stream func(yield func([]stores.Entry) error) error) ([]stores.Entry, error) {
	var out []stores.Entry
	err := stream(func(batch []stores.Entry) error {
		out = append(out, batch...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b stores.Entry) int {
		return cmp.Or(strings.Compare(a.ID, b.ID), strings.Compare(a.Source, b.Source))
	})
	return out, nil
}

// LockID is the resource a lock key belongs to: the resource_id of the
// record with the same name when it reads and maps back to that name (the
// name rule is lossy), otherwise the name itself. fromRecord says which.
func (l Layout) LockID(ctx context.Context, lockKey string, read Read) (id string, fromRecord bool) {
	name := l.name(lockKey)
	data, _, err := read(ctx, l.Prefix+name+recordExt)
	if err != nil {
		return name, false
	}
	st, err := stores.DecodeState(data)
	if err != nil || stores.ObjectName(st.ResourceID) != name {
		return name, false
	}
	return st.ResourceID, true
}

// checkOwner refuses to overwrite or delete the object at id's record key
// when it holds another resource whose name collides with id's ("a/b" and
// "a_b"). Unreadable content is id's own record, corrupt, and may be replaced.
func checkOwner(data []byte, id string) error {
	st, err := stores.DecodeState(data)
	if err != nil || st.ResourceID == id {
		return nil
	}
	return fmt.Errorf("the object holds resource %q (their object names collide)", st.ResourceID)
}

// Get reads id's record with its version. For an unreadable record the
// error wraps stores.ErrCorrupt and Version and Raw are still set, so a
// repair can replace it conditionally.
func (l Layout) Get(ctx context.Context, id string, read Read) (stores.Versioned, error) {
	if err := ctx.Err(); err != nil {
		return stores.Versioned{}, err
	}
	key := l.RecordKey(id)
	data, version, err := read(ctx, key)
	if err != nil {
		return stores.Versioned{}, err
	}
	if err := checkOwner(data, id); err != nil {
		return stores.Versioned{}, fmt.Errorf("%w: %v", stores.ErrNotFound, err)
	}
	v := stores.Versioned{Version: version, Raw: data}
	st, err := stores.DecodeState(data)
	if err != nil {
		return v, fmt.Errorf("%s: %w: %v", l.Source(key), stores.ErrCorrupt, err)
	}
	v.State = st
	return v, nil
}

// CheckSave is what every save checks before any request: the context is
// live and the record has an ID, as upstream's SaveState requires.
func CheckSave(ctx context.Context, st *stores.State) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if st == nil || st.ResourceID == "" {
		return errors.New("record has no resource_id")
	}
	return nil
}

// ID is st's resource ID for messages, empty for nil.
func ID(st *stores.State) string {
	if st == nil {
		return ""
	}
	return st.ResourceID
}

// writeAttempts: a checked Save or Delete re-reads and retries when a
// concurrent writer changed the object between its read and its write.
const writeAttempts = 3

// Save replaces st's record the way upstream does (last writer wins), but
// not another resource's record whose name collides. It writes through
// saveIf on the version it checked, so the refusal cannot be raced.
func (l Layout) Save(ctx context.Context, st *stores.State, read Read, saveIf func(ctx context.Context, st *stores.State, version string) error) error {
	if err := CheckSave(ctx, st); err != nil {
		return err
	}
	key := l.RecordKey(st.ResourceID)
	for attempt := 1; ; attempt++ {
		data, version, err := read(ctx, key)
		switch {
		case errors.Is(err, stores.ErrNotFound):
			version = ""
		case err != nil:
			return err
		default:
			if err := checkOwner(data, st.ResourceID); err != nil {
				return fmt.Errorf("refused: %s: %w", l.Source(key), err)
			}
		}
		err = saveIf(ctx, st, version)
		if !errors.Is(err, stores.ErrConflict) || attempt == writeAttempts {
			return err
		}
	}
}

// Delete removes id's record as upstream does, but not another resource's
// record whose name collides; deleteIf deletes the version it checked.
func (l Layout) Delete(ctx context.Context, id string, read Read, deleteIf func(ctx context.Context, id, version string) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		data, version, err := read(ctx, l.RecordKey(id))
		if err != nil {
			return err
		}
		if err := checkOwner(data, id); err != nil {
			return fmt.Errorf("%w: %v", stores.ErrNotFound, err)
		}
		err = deleteIf(ctx, id, version)
		if !errors.Is(err, stores.ErrConflict) || attempt == writeAttempts {
			return err
		}
	}
}
