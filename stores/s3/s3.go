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
	"iter"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"statescope/stores"
	"statescope/stores/objectstore"
)

func init() {
	open := func(ctx context.Context, t stores.Target) (stores.Store, error) {
		c, err := ParseTarget(t)
		if err != nil {
			return nil, err
		}
		return Open(ctx, c)
	}
	for scheme, form := range usage {
		stores.Register(scheme, form, open)
	}
}

// The capabilities statescope looks for.
var (
	_ stores.Store            = (*Store)(nil)
	_ stores.Streamer         = (*Store)(nil)
	_ stores.RowLister        = (*Store)(nil)
	_ stores.HolderLocker     = (*Store)(nil)
	_ stores.LockLister       = (*Store)(nil)
	_ stores.ForceUnlocker    = (*Store)(nil)
	_ stores.UnprovenUnlocker = (*Store)(nil)
	_ stores.ConditionalStore = (*Store)(nil)
	_ stores.Describer        = (*Store)(nil)
	_ io.Closer               = (*Store)(nil)
)

// Store is one bucket and prefix.
type Store struct {
	cfg    Config
	layout objectstore.Layout
	client *awss3.Client
	http   aws.HTTPClient
	// pageSize is ListObjectsV2's MaxKeys; 0 leaves it to the server (1000).
	pageSize int32
	// ranges lists the records, in ranges side by side once a listing
	// has shown where they fall.
	ranges *objectstore.Ranges
	// now is the clock locks are inspected by.
	now func() time.Time
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
	// requests in flight, the rest would be reopened for every request.
	// A split listing lists up to Parallel ranges while Parallel records
	// are fetched.
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConnsPerHost = 2*c.Parallel + 8
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
	s := &Store{cfg: c, layout: objectstore.Layout{Scheme: c.Scheme, Bucket: c.Bucket, Prefix: c.Prefix}, client: client, http: httpClient, now: time.Now}
	s.ranges = objectstore.NewRanges(s.listAfter, c.Parallel)
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
	d := s.layout.String()
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
			return object{}, fmt.Errorf("no object %s: %w", s.layout.Source(key), stores.ErrNotFound)
		}
		return object{}, err
	}
	defer out.Body.Close()
	body, err := objectstore.ReadAll(out.Body)
	if err != nil {
		return object{}, fmt.Errorf("reading %s: %w", s.layout.Source(key), err)
	}
	return object{body: body, etag: aws.ToString(out.ETag), modified: aws.ToTime(out.LastModified)}, nil
}

// readKey is read for objectstore: the ETag is the version.
func (s *Store) readKey(ctx context.Context, key string) ([]byte, string, error) {
	o, err := s.read(ctx, key)
	return o.body, o.etag, err
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
			return "", fmt.Errorf("no %s: %w", s.layout.Source(key), errGone)
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
		return fmt.Errorf("%s has ETag %s, not %s: %w", s.layout.Source(key), cur, etag, errChanged)
	}
	_, err = s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key), IfMatch: aws.String(etag)})
	switch {
	case isPrecondition(err):
		return fmt.Errorf("%s changed while deleting: %w", s.layout.Source(key), errChanged)
	case isNotFound(err):
		return fmt.Errorf("%s was deleted meanwhile: %w", s.layout.Source(key), errGone)
	}
	return err
}

func (s *Store) deleteObject(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	return err
}

// Get reads one record: under its own key, or, because a listing shows
// records wherever they sit under the prefix, wherever a scan finds it.
func (s *Store) Get(ctx context.Context, id string) (*stores.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, err := s.layout.Get(ctx, id, s.readKey)
	if errors.Is(err, stores.ErrNotFound) {
		_, v.State, err = s.find(ctx, id)
	}
	if err != nil {
		return nil, s.errorf("get", id, err)
	}
	return v.State, nil
}

// find scans the listing for id's record outside its own key. It costs a
// full listing, but only when the record is not where the engine puts it,
// which is rare, or missing.
func (s *Store) find(ctx context.Context, id string) (string, *stores.State, error) {
	var key string
	var found *stores.State
	errFound := errors.New("found")
	err := s.Stream(ctx, stores.Filter{}, func(batch []stores.Entry) error {
		for _, e := range batch {
			if e.State != nil && e.State.ResourceID == id {
				key, found = strings.TrimPrefix(e.Source, s.layout.Source("")), e.State
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
	return "", nil, fmt.Errorf("no record under %s: %w", s.layout, stores.ErrNotFound)
}

// Save writes the record under its own key, as the engine does, but not
// over another resource's record whose key collides (objectstore.Save).
func (s *Store) Save(ctx context.Context, st *stores.State) error {
	if err := s.layout.Save(ctx, st, s.readKey, s.saveIf); err != nil {
		return s.errorf("save", objectstore.ID(st), err)
	}
	return nil
}

// Delete removes the record under its own key (an unreadable one too), or
// the object a scan finds it in.
func (s *Store) Delete(ctx context.Context, id string) error {
	err := s.layout.Delete(ctx, id, s.readKey, s.deleteRecordIf)
	if errors.Is(err, stores.ErrNotFound) {
		var key string
		if key, _, err = s.find(ctx, id); err == nil {
			err = s.deleteObject(ctx, key)
		}
	}
	if err != nil {
		return s.errorf("delete", id, err)
	}
	return nil
}

// List reads every record under the prefix, sorted by ID; unreadable ones
// come back as corrupt entries.
func (s *Store) List(ctx context.Context, f stores.Filter) ([]stores.Entry, error) {
	return objectstore.List(func(yield func([]stores.Entry) error) error { return s.Stream(ctx, f, yield) })
}

// Stream lists keys as upstream does (recursive, no delimiter, every
// *.json key) and fetches each page's records in parallel, yielding
// batches as they arrive.
func (s *Store) Stream(ctx context.Context, f stores.Filter, yield func([]stores.Entry) error) error {
	if err := s.layout.Stream(ctx, s.ranges.Pages, s.cfg.Parallel, s.readKey, f, yield); err != nil {
		return fmt.Errorf("%s: list %s: %w", s.cfg.Scheme, s.layout, err)
	}
	return nil
}

// ListRows lists rows as Stream lists entries, fetching only the records
// whose listed ETag known does not recognise (stores.RowLister).
func (s *Store) ListRows(ctx context.Context, f stores.Filter, known func(source, version string) (stores.Row, bool), yield func([]stores.Row) error) error {
	if err := s.layout.StreamRows(ctx, s.ranges.Pages, s.cfg.Parallel, s.readKey, f, known, yield); err != nil {
		return fmt.Errorf("%s: list %s: %w", s.cfg.Scheme, s.layout, err)
	}
	return nil
}

// listAfter lists the keys under the prefix after after ("" = all), a page
// at a time, with their ETags, until ctx ends: S3 lists in key order, so
// objectstore.Ranges can list a large store in ranges side by side.
func (s *Store) listAfter(ctx context.Context, after string) iter.Seq2[[]objectstore.Object, error] {
	return func(yield func([]objectstore.Object, error) bool) {
		errStop := errors.New("stop")
		err := s.listObjects(ctx, after, func(objs []types.Object) error {
			keys := make([]objectstore.Object, len(objs))
			for i, o := range objs {
				keys[i] = objectstore.Object{Key: aws.ToString(o.Key), Version: aws.ToString(o.ETag)}
			}
			if !yield(keys, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(nil, err)
		}
	}
}

// listObjects pages through the objects under the prefix whose keys come
// after after ("" = every one).
func (s *Store) listObjects(ctx context.Context, after string, page func([]types.Object) error) error {
	in := &awss3.ListObjectsV2Input{Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(s.cfg.Prefix)}
	if after != "" {
		in.StartAfter = aws.String(after)
	}
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
