// Package azblob reads and writes workflow state in an Azure Blob Storage
// container, in the layout upstream's azure_blob backend uses:
// <prefix><name>.json records, and locks that are leases on
// <prefix><name>.lock blobs.
package azblob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"statescope/stores"
	"statescope/stores/objectstore"
)

// Usage is the target form shown in errors and help.
const Usage = "azblob://CONTAINER[/PREFIX]?account_url=https://ACCOUNT.blob.core.windows.net[&parallel=N]"

func init() {
	stores.Register("azblob", Usage, func(ctx context.Context, t stores.Target) (stores.Store, error) {
		return Open(ctx, t)
	})
}

// The optional capabilities statescope looks for, checked at compile time.
var (
	_ stores.Store            = (*Store)(nil)
	_ stores.LockLister       = (*Store)(nil)
	_ stores.ForceUnlocker    = (*Store)(nil)
	_ stores.UnprovenUnlocker = (*Store)(nil)
	_ stores.HolderLocker     = (*Store)(nil)
	_ stores.Streamer         = (*Store)(nil)
	_ stores.Describer        = (*Store)(nil)
	_ stores.ConditionalStore = (*Store)(nil)
	_ io.Closer               = (*Store)(nil)
)

// Config opens a store without reading the environment.
type Config struct {
	Container string
	// Prefix is used verbatim; empty means objectstore.DefaultPrefix.
	Prefix string
	// AccountURL is the blob service, e.g. https://ACCOUNT.blob.core.windows.net.
	AccountURL string
	Auth       Auth
	// Parallel is how many records are fetched at once (default 16).
	Parallel int
	// LeaseDuration is the lease statescope's locks take and renew, 15 to
	// 60 s (default 60 s, upstream's).
	LeaseDuration time.Duration
}

// DefaultLeaseDuration is upstream's lease length.
const DefaultLeaseDuration = 60 * time.Second

// Store is one container and prefix. It is safe for concurrent use.
type Store struct {
	// Records are Get, Save, Delete, List and the conditional writes.
	objectstore.Records
	container *container.Client
	http      *http.Client
	layout    objectstore.Layout
	cfg       Config

	mu sync.Mutex
	// held are the leases this store took, by lock key, each renewed by
	// its own goroutine until Unlock or Close.
	held   map[string]*heldLease
	closed bool

	// firstPage and pageSize are how many keys a listing asks for in its
	// first page and in every later one.
	firstPage, pageSize int32
}

// Open opens the container an azblob:// target names, taking credentials
// from the environment (see fromEnvironment).
func Open(ctx context.Context, t stores.Target) (*Store, error) {
	tgt, err := objectstore.ParseTarget(t, Usage, "account_url")
	if err != nil {
		return nil, err
	}
	cfg, err := fromEnvironment(Config{Container: tgt.Bucket, Prefix: tgt.Prefix, AccountURL: tgt.Query.Get("account_url"), Parallel: tgt.Parallel})
	if err != nil {
		return nil, fmt.Errorf("azblob: %s: %w", stores.RedactTarget(t.Raw), err)
	}
	return New(ctx, cfg)
}

// New builds a store from cfg. Nothing is sent until the first call.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.Container == "" {
		return nil, errors.New("azblob: no container")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = objectstore.DefaultPrefix
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = stores.DefaultParallelism
	}
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = DefaultLeaseDuration
	}
	if cfg.LeaseDuration < 15*time.Second || cfg.LeaseDuration > 60*time.Second {
		return nil, fmt.Errorf("azblob: lease duration %s is outside Azure's 15–60 s", cfg.LeaseDuration)
	}
	accountURL, err := checkAccountURL(cfg.AccountURL)
	if err != nil {
		return nil, fmt.Errorf("azblob: %w", err)
	}
	cfg.AccountURL = accountURL
	s := &Store{
		layout:    objectstore.Layout{Scheme: "azblob", Bucket: cfg.Container, Prefix: cfg.Prefix},
		cfg:       cfg,
		held:      map[string]*heldLease{},
		firstPage: listFirstPage, pageSize: listPageSize,
	}
	s.Records = objectstore.NewRecords("azblob", s.layout, cfg.Parallel, objectstore.Backend{
		Read: s.read, SaveIf: s.saveIf, DeleteIf: s.deleteIf, Pages: s.keyPages,
	})
	// A private pool sized to the fetch parallelism: the SDK's shared one
	// keeps 10 idle connections per host and would reopen the rest.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.Parallel + 8
	s.http = &http.Client{Transport: tr}
	opts := &container.ClientOptions{ClientOptions: policy.ClientOptions{Transport: s.http}}
	containerURL := accountURL + "/" + url.PathEscape(cfg.Container)
	switch a := cfg.Auth; {
	case a.Key != "":
		var cred *container.SharedKeyCredential
		if cred, err = container.NewSharedKeyCredential(a.Account, a.Key); err != nil {
			return nil, fmt.Errorf("azblob: shared key for account %s: %w", a.Account, s.sdkError(err))
		}
		s.container, err = container.NewClientWithSharedKeyCredential(containerURL, cred, opts)
	case a.SAS != "":
		s.container, err = container.NewClientWithNoCredential(containerURL+"?"+a.SAS, opts)
	default:
		var cred azcore.TokenCredential
		if cred, err = azidentity.NewDefaultAzureCredential(nil); err == nil {
			s.container, err = container.NewClient(containerURL, cred, opts)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("azblob: %s: %w", s.Describe(), s.sdkError(err))
	}
	return s, nil
}

// Describe names the container, prefix, account and kind of credential;
// never the credential itself.
func (s *Store) Describe() string {
	return fmt.Sprintf("azure blob %s at %s (%s)", s.layout, s.cfg.AccountURL, s.cfg.Auth)
}

// sdkError shortens an SDK error to one line without credentials, keeping
// the original for errors.Is, errors.As and bloberror.HasCode.
type sdkError struct {
	err error
	msg string
}

func (e *sdkError) Error() string { return e.msg }
func (e *sdkError) Unwrap() error { return e.err }

func (s *Store) sdkError(err error) error {
	if err == nil {
		return nil
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		msg := fmt.Sprintf("HTTP %d", re.StatusCode)
		if re.ErrorCode != "" {
			msg = re.ErrorCode + " (" + msg + ")"
		}
		return &sdkError{err: err, msg: msg}
	}
	return &sdkError{err: err, msg: s.cfg.Auth.redact(err.Error())}
}

func (s *Store) fail(op, id string, err error) error {
	return fmt.Errorf("azblob: %s %q: %w", op, id, err)
}

// read returns a blob's bytes and ETag; a missing blob wraps
// stores.ErrNotFound.
func (s *Store) read(ctx context.Context, key string) ([]byte, string, error) {
	resp, err := s.container.NewBlobClient(key).DownloadStream(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return nil, "", fmt.Errorf("%s: %w", s.layout.Source(key), stores.ErrNotFound)
	}
	if err != nil {
		return nil, "", s.sdkError(err)
	}
	defer resp.Body.Close()
	data, err := objectstore.ReadAll(resp.Body)
	if err != nil {
		return nil, "", s.sdkError(err)
	}
	return data, etag(resp.ETag), nil
}

// etag is an ETag as the service sent it, quotes included, so it can go
// back in If-Match.
func etag(e *azcore.ETag) string {
	if e == nil {
		return ""
	}
	return string(*e)
}

// listedETag is a listing's ETag in the form reads return: the listing's
// XML carries it bare, response headers quoted.
func listedETag(e *azcore.ETag) string {
	v := etag(e)
	if v == "" || strings.HasPrefix(v, `"`) {
		return v
	}
	return `"` + v + `"`
}

// upload writes a whole blob under the given conditions.
func (s *Store) upload(ctx context.Context, key string, data []byte, contentType string, cond *blob.AccessConditions) error {
	_, err := s.container.NewBlockBlobClient(key).Upload(ctx, streaming.NopCloser(bytes.NewReader(data)), &blockblob.UploadOptions{
		HTTPHeaders:      &blob.HTTPHeaders{BlobContentType: &contentType},
		AccessConditions: cond,
	})
	return s.sdkError(err)
}

// ifVersion is If-Match: version, or If-None-Match: * for "".
func ifVersion(version string) *blob.AccessConditions {
	mc := &blob.ModifiedAccessConditions{}
	if version == "" {
		mc.IfNoneMatch = new(azcore.ETagAny)
	} else {
		mc.IfMatch = new(azcore.ETag(version))
	}
	return &blob.AccessConditions{ModifiedAccessConditions: mc}
}

// isConflict reports a failed If-Match or If-None-Match. Azure and Azurite
// answer If-None-Match: * on an existing blob with 409 BlobAlreadyExists,
// and If-Match on a missing blob with 404 (Azure) or 412 (Azurite).
func isConflict(err error) bool {
	return bloberror.HasCode(err, bloberror.ConditionNotMet, bloberror.BlobAlreadyExists, bloberror.BlobNotFound)
}

// Close stops the renewal of every lease this store holds, releases those
// leases and drops idle connections.
func (s *Store) Close() error {
	s.mu.Lock()
	held := s.held
	s.held, s.closed = map[string]*heldLease{}, true
	s.mu.Unlock()
	var errs []error
	for key, hl := range held {
		ctx, cancel := cleanupContext(context.Background())
		if err := s.release(ctx, hl); err != nil {
			errs = append(errs, fmt.Errorf("azblob: close: lock %s: %w", s.layout.Source(key), err))
		}
		cancel()
	}
	s.http.CloseIdleConnections()
	return errors.Join(errs...)
}

// listPageSize is how many keys a listing asks for at a time, instead of
// the service's 5,000: a large page answers disproportionately slowly
// (Azurite: 9× the time for 5× the keys), and each page is fetched while
// the next is listed, so small pages bring the first records sooner. The
// first page is smaller still: the table shows rows as soon as it is read.
const (
	listFirstPage = 100
	listPageSize  = 1000
)

// keyPages lists every key under the prefix, recursively, a page at a
// time, with its ETag. It is one chain of pages, not objectstore.Ranges:
// a listing resumes only from the opaque marker the previous page returned,
// and Blob storage has no start-after.
func (s *Store) keyPages(ctx context.Context) iter.Seq2[[]objectstore.Object, error] {
	return func(yield func([]objectstore.Object, error) bool) {
		opts := &container.ListBlobsFlatOptions{Prefix: &s.layout.Prefix, MaxResults: new(s.firstPage)}
		for {
			// A pager per page: the page size changes after the first.
			page, err := s.container.NewListBlobsFlatPager(opts).NextPage(ctx)
			if err != nil {
				yield(nil, s.sdkError(err))
				return
			}
			keys := make([]objectstore.Object, 0, len(page.Segment.BlobItems))
			for _, item := range page.Segment.BlobItems {
				o := objectstore.Object{Key: *item.Name}
				if item.Properties != nil {
					o.Version = listedETag(item.Properties.ETag)
				}
				keys = append(keys, o)
			}
			if !yield(keys, nil) || page.NextMarker == nil || *page.NextMarker == "" {
				return
			}
			opts.Marker, opts.MaxResults = page.NextMarker, new(s.pageSize)
		}
	}
}

func (s *Store) saveIf(ctx context.Context, st *stores.State, version string) error {
	data, err := stores.EncodeState(st)
	if err != nil {
		return err
	}
	err = s.upload(ctx, s.layout.RecordKey(st.ResourceID), data, "application/json", ifVersion(version))
	if isConflict(err) {
		return fmt.Errorf("ETag is no longer %s: %w", version, stores.ErrConflict)
	}
	return err
}

func (s *Store) deleteIf(ctx context.Context, id, version string) error {
	mc := &blob.ModifiedAccessConditions{IfMatch: new(azcore.ETag(version))}
	_, err := s.container.NewBlobClient(s.layout.RecordKey(id)).Delete(ctx, &blob.DeleteOptions{AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: mc}})
	if bloberror.HasCode(err, bloberror.ConditionNotMet) {
		// Azurite answers If-Match on a missing blob with 412, Azure with 404.
		_, perr := s.container.NewBlobClient(s.layout.RecordKey(id)).GetProperties(ctx, nil)
		if perr == nil {
			return fmt.Errorf("ETag is no longer %s: %w", version, stores.ErrConflict)
		}
		err = perr
	}
	if bloberror.HasCode(err, bloberror.BlobNotFound) || httpStatus(err) == http.StatusNotFound {
		return stores.ErrNotFound
	}
	return s.sdkError(err)
}
