// Package s3 reads and writes workflow state in an S3 bucket or a
// DigitalOcean Spaces bucket, in the layout upstream's s3 and spaces
// backends use: <prefix><sanitised id>.json records and <prefix><sanitised
// id>.lock lock objects, path-style addressing. The resource ID always comes
// from inside a record, never from its key.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"statescope/stores"
)

func init() {
	open := func(ctx context.Context, t stores.Target) (stores.Store, error) {
		c, err := ParseTarget(t)
		if err != nil {
			return nil, err
		}
		return Open(ctx, c)
	}
	stores.Register("s3", "s3://bucket/prefix?region=R&endpoint=URL&parallel=N", open)
	stores.Register("spaces", "spaces://bucket/prefix?region=nyc3", open)
}

const (
	recordExt = ".json"
	lockExt   = ".lock"
	// maxObjectBytes bounds what one read holds in memory; a state record
	// is kilobytes, so anything near this is not one.
	maxObjectBytes = 256 << 20
	// saveAttempts: Save re-reads and retries when a concurrent writer
	// changed the object between its read and its conditional write.
	saveAttempts = 3
)

// The capabilities statescope looks for.
var (
	_ stores.Store            = (*Store)(nil)
	_ stores.Streamer         = (*Store)(nil)
	_ stores.HolderLocker     = (*Store)(nil)
	_ stores.LockLister       = (*Store)(nil)
	_ stores.ForceUnlocker    = (*Store)(nil)
	_ stores.ConditionalStore = (*Store)(nil)
	_ stores.Describer        = (*Store)(nil)
	_ io.Closer               = (*Store)(nil)
)

// Store is one bucket and prefix.
type Store struct {
	cfg    Config
	client *awss3.Client
	http   aws.HTTPClient
	// pageSize is ListObjectsV2's MaxKeys; 0 leaves it to the server (1000).
	pageSize int32
}

// Open builds a client for c and checks that the bucket is reachable.
// Credentials: c.Credentials when set; for spaces, DO_SPACES_ACCESS_KEY and
// DO_SPACES_SECRET_KEY when both are set; otherwise the AWS default chain.
func Open(ctx context.Context, c Config) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.Scheme == "" {
		c.Scheme = "s3"
	}
	if c.Parallel <= 0 {
		c.Parallel = stores.DefaultParallelism
	}
	if c.Credentials == nil && c.Scheme == "spaces" {
		if ak, sk := os.Getenv("DO_SPACES_ACCESS_KEY"), os.Getenv("DO_SPACES_SECRET_KEY"); ak != "" && sk != "" {
			c.Credentials = credentials.NewStaticCredentialsProvider(ak, sk, "")
		}
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(c.SigningRegion())}
	if c.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(c.Credentials))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: loading AWS configuration: %w", c.Scheme, err)
	}
	// The default pool keeps 10 idle connections per host: with more
	// fetches in flight, the rest would be reopened for every request.
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConnsPerHost = c.Parallel + 8
	}).Freeze()
	client := awss3.NewFromConfig(awsCfg, func(o *awss3.Options) {
		o.UsePathStyle = true
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.HTTPClient = httpClient
		// S3-compatible services (Spaces among them) do not all accept the
		// SDK's default flexible checksums; upstream sends none either.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	s := &Store{cfg: c, client: client, http: httpClient}
	// A one-key listing, not HeadBucket: a HEAD reply has no body, so a
	// missing bucket and an unknown access key both read "404 NotFound".
	probe := &awss3.ListObjectsV2Input{Bucket: aws.String(c.Bucket), Prefix: aws.String(c.Prefix), MaxKeys: aws.Int32(1)}
	if _, err := client.ListObjectsV2(ctx, probe); err != nil {
		s.Close()
		if errorCode(err) == "NoSuchBucket" {
			return nil, fmt.Errorf("%s: bucket %q does not exist: %w", s.Describe(), c.Bucket, err)
		}
		return nil, fmt.Errorf("%s: %w", s.Describe(), err)
	}
	return s, nil
}

// Describe names the bucket, prefix and endpoint; never credentials.
func (s *Store) Describe() string {
	d := fmt.Sprintf("%s://%s/%s", s.cfg.Scheme, s.cfg.Bucket, s.cfg.Prefix)
	var at []string
	if s.cfg.Region != "" {
		at = append(at, "region "+s.cfg.Region)
	}
	if s.cfg.Endpoint != "" {
		at = append(at, "endpoint "+s.cfg.Endpoint)
	}
	if len(at) > 0 {
		d += " (" + strings.Join(at, ", ") + ")"
	}
	return d
}

// Close drops the idle connections of the store's private pool.
func (s *Store) Close() error {
	if c, ok := s.http.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
	return nil
}

func (s *Store) recordKey(id string) string { return s.cfg.Prefix + stores.ObjectName(id) + recordExt }
func (s *Store) lockKey(id string) string   { return s.cfg.Prefix + stores.ObjectName(id) + lockExt }

// source is how entries, locks and errors name an object.
func (s *Store) source(key string) string { return s.cfg.Scheme + "://" + s.cfg.Bucket + "/" + key }

// keyOf inverts source.
func (s *Store) keyOf(source string) string {
	return strings.TrimPrefix(source, s.cfg.Scheme+"://"+s.cfg.Bucket+"/")
}

// nameOf is a key without the prefix and extension: the best guess at an ID
// when the object cannot be read.
func (s *Store) nameOf(key, ext string) string {
	return strings.TrimSuffix(strings.TrimPrefix(key, s.cfg.Prefix), ext)
}

func (s *Store) errorf(op, id string, err error) error {
	return fmt.Errorf("%s: %s %q: %w", s.cfg.Scheme, op, id, err)
}

// object is one object as read.
type object struct {
	body     []byte
	etag     string
	modified time.Time
}

// read fetches a whole object; a missing one is stores.ErrNotFound.
func (s *Store) read(ctx context.Context, key string) (object, error) {
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return object{}, fmt.Errorf("no object %s: %w", s.source(key), stores.ErrNotFound)
		}
		return object{}, err
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, maxObjectBytes+1))
	if err != nil {
		return object{}, fmt.Errorf("reading %s: %w", s.source(key), err)
	}
	if len(body) > maxObjectBytes {
		return object{}, fmt.Errorf("%s is more than the %d bytes a record may have", s.source(key), maxObjectBytes)
	}
	return object{body: body, etag: aws.ToString(out.ETag), modified: aws.ToTime(out.LastModified)}, nil
}

// put writes an object only if its ETag is still version, or, with version
// "", only if no object exists (If-None-Match: *).
func (s *Store) put(ctx context.Context, key string, body []byte, contentType, version string) error {
	in := &awss3.PutObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key), Body: bytes.NewReader(body)}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	if version == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(version)
	}
	_, err := s.client.PutObject(ctx, in)
	return err
}

// errGone and errChanged say why deleteIf did not delete.
var (
	errGone    = errors.New("object does not exist")
	errChanged = errors.New("object changed")
)

// headETag is an object's current ETag, or errGone. A HEAD reply has no
// body, so its 404 may also be an unknown access key (versitygw says so);
// a GET's error body tells which.
func (s *Store) headETag(ctx context.Context, key string) (string, error) {
	out, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	switch {
	case isNotFound(err):
		obj, rerr := s.read(ctx, key)
		if errors.Is(rerr, stores.ErrNotFound) {
			return "", fmt.Errorf("no %s: %w", s.source(key), errGone)
		}
		return obj.etag, rerr
	case err != nil:
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

// deleteIf deletes an object only if its ETag is still etag. The delete
// carries If-Match, so a change after the check is still caught; the check
// first is there because S3 answers a conditional delete of a missing key
// with success.
func (s *Store) deleteIf(ctx context.Context, key, etag string) error {
	cur, err := s.headETag(ctx, key)
	if err != nil {
		return err
	}
	if cur != etag {
		return fmt.Errorf("%s has ETag %s, not %s: %w", s.source(key), cur, etag, errChanged)
	}
	_, err = s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key), IfMatch: aws.String(etag)})
	switch {
	case isPrecondition(err):
		return fmt.Errorf("%s changed while deleting: %w", s.source(key), errChanged)
	case isNotFound(err):
		return fmt.Errorf("%s was deleted meanwhile: %w", s.source(key), errGone)
	}
	return err
}

func (s *Store) deleteObject(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	return err
}

// readRecord reads the record under id's own key. A key holding another
// resource's record (the names collide) is ErrNotFound for id; an
// unreadable one is ErrCorrupt, returned with its version and bytes.
func (s *Store) readRecord(ctx context.Context, id string) (stores.Versioned, error) {
	key := s.recordKey(id)
	obj, err := s.read(ctx, key)
	if err != nil {
		return stores.Versioned{}, err
	}
	v := stores.Versioned{Version: obj.etag, Raw: obj.body}
	st, err := stores.DecodeState(obj.body)
	if err != nil {
		return v, fmt.Errorf("%s: %w: %v", s.source(key), stores.ErrCorrupt, err)
	}
	if st.ResourceID != id {
		return stores.Versioned{}, fmt.Errorf("%s holds resource %q: %w", s.source(key), st.ResourceID, stores.ErrNotFound)
	}
	v.State = st
	return v, nil
}

// locate finds the key of id's record: its own key first, then, because a
// listing shows records wherever they sit under the prefix, a scan. The
// scan costs a full listing, but only when the record is not where the
// engine puts it, which is rare or a genuine miss.
func (s *Store) locate(ctx context.Context, id string) (string, *stores.State, error) {
	v, err := s.readRecord(ctx, id)
	switch {
	case err == nil:
		return s.recordKey(id), v.State, nil
	case errors.Is(err, stores.ErrCorrupt):
		return s.recordKey(id), nil, err
	case !errors.Is(err, stores.ErrNotFound):
		return "", nil, err
	}
	var key string
	var found *stores.State
	errFound := errors.New("found")
	err = s.Stream(ctx, stores.Filter{}, func(batch []stores.Entry) error {
		for _, e := range batch {
			if e.State != nil && e.State.ResourceID == id {
				key, found = s.keyOf(e.Source), e.State
				return errFound
			}
		}
		return nil
	})
	switch {
	case found != nil:
		return key, found, nil
	case err != nil:
		return "", nil, err
	}
	return "", nil, fmt.Errorf("no record under %s: %w", s.source(s.cfg.Prefix), stores.ErrNotFound)
}

// Get reads one record.
func (s *Store) Get(ctx context.Context, id string) (*stores.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, st, err := s.locate(ctx, id)
	if err != nil {
		return nil, s.errorf("get", id, err)
	}
	return st, nil
}

// Save writes the record under its own key, as the engine does. It refuses
// to overwrite another resource's record whose key collides, and writes
// conditionally on what it read so a concurrent change is not lost.
func (s *Store) Save(ctx context.Context, st *stores.State) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if st == nil || st.ResourceID == "" {
		return fmt.Errorf("%s: save: record has no resource_id", s.cfg.Scheme)
	}
	id := st.ResourceID
	data, err := stores.EncodeState(st)
	if err != nil {
		return s.errorf("save", id, err)
	}
	key := s.recordKey(id)
	for attempt := 1; ; attempt++ {
		version, err := s.replaceable(ctx, key, id)
		if err != nil {
			return s.errorf("save", id, err)
		}
		err = s.putRecord(ctx, key, data, version)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, stores.ErrConflict) || attempt == saveAttempts:
			return s.errorf("save", id, err)
		}
	}
}

// replaceable is the version Save replaces under key: "" when nothing is
// there, the ETag of id's record or of an unreadable one (a repair).
func (s *Store) replaceable(ctx context.Context, key, id string) (string, error) {
	obj, err := s.read(ctx, key)
	switch {
	case errors.Is(err, stores.ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	}
	if other, derr := stores.DecodeState(obj.body); derr == nil && other.ResourceID != id {
		return "", fmt.Errorf("%s already holds resource %q (their object names collide)", s.source(key), other.ResourceID)
	}
	return obj.etag, nil
}

// putRecord writes record bytes conditionally; a failed condition is ErrConflict.
func (s *Store) putRecord(ctx context.Context, key string, data []byte, version string) error {
	err := s.put(ctx, key, data, "application/json", version)
	switch {
	case err == nil:
		return nil
	case isPrecondition(err) && version == "":
		return fmt.Errorf("%s was created meanwhile: %w", s.source(key), stores.ErrConflict)
	case isPrecondition(err):
		return fmt.Errorf("%s no longer has ETag %s: %w", s.source(key), version, stores.ErrConflict)
	case isNotFound(err):
		return fmt.Errorf("%s was deleted meanwhile: %w", s.source(key), stores.ErrConflict)
	}
	return err
}

// Delete removes the object holding the record, or an unreadable object
// under the record's own key.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key, _, err := s.locate(ctx, id)
	if err != nil && !errors.Is(err, stores.ErrCorrupt) {
		return s.errorf("delete", id, err)
	}
	if err := s.deleteObject(ctx, key); err != nil {
		return s.errorf("delete", id, err)
	}
	return nil
}

// List reads every record under the prefix; unreadable ones come back as
// corrupt entries. Entries are sorted by ID.
func (s *Store) List(ctx context.Context, f stores.Filter) ([]stores.Entry, error) {
	var out []stores.Entry
	err := s.Stream(ctx, f, func(batch []stores.Entry) error {
		out = append(out, batch...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return out[i].ID < out[j].ID
		}
		return out[i].Source < out[j].Source
	})
	return out, nil
}

// Stream lists keys page by page, as upstream does (recursive, no
// delimiter, every *.json key), and fetches each page's records in
// parallel while the next page is listed, yielding batches as they arrive.
func (s *Store) Stream(ctx context.Context, f stores.Filter, yield func([]stores.Entry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan []string, 1)
	listed := make(chan error, 1)
	go func() {
		defer close(pages)
		listed <- s.listObjects(ctx, func(objs []types.Object) error {
			var keys []string
			for _, o := range objs {
				if k := aws.ToString(o.Key); strings.HasSuffix(k, recordExt) {
					keys = append(keys, k)
				}
			}
			if len(keys) == 0 {
				return nil
			}
			select {
			case pages <- keys:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	deliver := func(batch []stores.Entry) error {
		kept := batch[:0]
		for _, e := range batch {
			if !gone(e) && f.Match(e) {
				kept = append(kept, e)
			}
		}
		if len(kept) == 0 {
			return nil
		}
		return yield(kept)
	}
	var err error
	for keys := range pages {
		if err = stores.FetchParallel(ctx, keys, s.cfg.Parallel, s.fetchEntry, deliver); err != nil {
			cancel()
			for range pages {
			}
			break
		}
	}
	if lerr := <-listed; err == nil && lerr != nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("%s: list %s: %w", s.cfg.Scheme, s.source(s.cfg.Prefix), err)
	}
	return nil
}

// listObjects pages through every object under the prefix.
func (s *Store) listObjects(ctx context.Context, page func([]types.Object) error) error {
	in := &awss3.ListObjectsV2Input{Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(s.cfg.Prefix)}
	if s.pageSize > 0 {
		in.MaxKeys = aws.Int32(s.pageSize)
	}
	p := awss3.NewListObjectsV2Paginator(s.client, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		if err := page(out.Contents); err != nil {
			return err
		}
	}
	return nil
}

// fetchEntry reads one listed record. An object deleted since the listing,
// or a fetch abandoned because the listing ended, gives a gone entry.
func (s *Store) fetchEntry(ctx context.Context, key string) stores.Entry {
	obj, err := s.read(ctx, key)
	if ctx.Err() != nil || errors.Is(err, stores.ErrNotFound) {
		return stores.Entry{}
	}
	e := stores.Entry{ID: s.nameOf(key, recordExt), Source: s.source(key)}
	if err != nil {
		e.Problem = "unreadable: " + err.Error()
		return e
	}
	st, err := stores.DecodeState(obj.body)
	if err != nil {
		e.Problem = err.Error()
		return e
	}
	e.State, e.ID = st, st.ResourceID
	return e
}

// gone marks fetchEntry's "nothing there" result, which has no source.
func gone(e stores.Entry) bool { return e.Source == "" }
