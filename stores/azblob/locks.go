package azblob

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"

	"statescope/stores"
	"statescope/stores/objectstore"
)

// ErrLeaseLost: the lease behind a lock this store held was broken,
// expired or taken over while held. Errors carrying it also wrap
// stores.ErrNotLocked.
var ErrLeaseLost = errors.New("the lease was lost while the lock was held")

// heldLease is a lease this store took and keeps renewing.
type heldLease struct {
	client *lease.BlobClient
	blob   *blob.Client
	cancel context.CancelFunc
	// done is closed when the renewing goroutine has returned.
	done chan struct{}

	mu   sync.Mutex
	lost error
}

// stop ends renewal and waits for the goroutine.
func (hl *heldLease) stop() {
	hl.cancel()
	<-hl.done
}

// setLost records why the lease is gone; the first reason stays.
func (hl *heldLease) setLost(cause error) {
	hl.mu.Lock()
	defer hl.mu.Unlock()
	if hl.lost == nil {
		hl.lost = fmt.Errorf("%w (%w): %w", ErrLeaseLost, cause, stores.ErrNotLocked)
	}
}

func (hl *heldLease) lostErr() error {
	hl.mu.Lock()
	defer hl.mu.Unlock()
	return hl.lost
}

// leaseGone reports an answer that means the lease is no longer ours.
func leaseGone(err error) bool {
	return bloberror.HasCode(err,
		bloberror.LeaseIsBrokenAndCannotBeRenewed, bloberror.LeaseIDMismatchWithLeaseOperation,
		bloberror.LeaseNotPresentWithLeaseOperation, bloberror.LeaseIDMismatchWithBlobOperation,
		bloberror.LeaseNotPresentWithBlobOperation, bloberror.LeaseLost, bloberror.LeaseAlreadyBroken,
		bloberror.BlobNotFound)
}

func httpStatus(err error) int {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

// Lock takes a lease on <prefix><name>.lock, as upstream does, so
// statescope and workflow exclude each other.
func (s *Store) Lock(ctx context.Context, id string) error {
	return s.LockAs(ctx, id, stores.NewHolder("lock"))
}

// LockAs takes the lease, records the holder in the lock blob's metadata
// and renews the lease until Unlock or Close. Upstream's lease lasts 60 s
// and is never renewed, so a long repair would lose it.
func (s *Store) LockAs(ctx context.Context, id string, h *stores.Holder) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := s.layout.LockKey(id)
	// The plugin's empty placeholder, created only if absent: a lease
	// needs a blob, and a clean container has none.
	err := s.upload(ctx, key, nil, "application/octet-stream", ifVersion(""))
	if err != nil && !isConflict(err) && !bloberror.HasCode(err, bloberror.LeaseIDMissing) {
		return s.fail("lock", id, err)
	}
	if h.Nonce == "" {
		c := *h
		c.Nonce = stores.RandomHex(8)
		h = &c
	}
	bc := s.container.NewBlobClient(key)
	// The lease ID derives from the holder's nonce, which the blob's
	// metadata shows: a force release can then act on exactly this lease.
	lc, err := lease.NewBlobClient(bc, &lease.BlobClientOptions{LeaseID: new(leaseIDFor(h.Nonce))})
	if err != nil {
		return s.fail("lock", id, err)
	}
	_, err = lc.AcquireLease(ctx, int32(s.cfg.LeaseDuration/time.Second), nil)
	switch {
	case httpStatus(err) == http.StatusConflict:
		return s.fail("lock", id, fmt.Errorf("%w (%s is leased: %v)", stores.ErrLocked, s.layout.Source(key), s.sdkError(err)))
	case err != nil:
		return s.fail("lock", id, s.sdkError(err))
	}
	leaseCond := &blob.AccessConditions{LeaseAccessConditions: &blob.LeaseAccessConditions{LeaseID: lc.LeaseID()}}
	// Writing the holder also changes the ETag, so every statescope lock
	// instance has a token of its own.
	if _, err := bc.SetMetadata(ctx, holderMetadata(h), &blob.SetMetadataOptions{AccessConditions: leaseCond}); err != nil {
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		_, _ = lc.ReleaseLease(cctx, nil)
		return s.fail("lock", id, fmt.Errorf("recording the holder: %w", s.sdkError(err)))
	}
	rctx, cancel := context.WithCancel(context.Background())
	hl := &heldLease{client: lc, blob: bc, cancel: cancel, done: make(chan struct{})}
	go s.renew(rctx, hl)
	s.mu.Lock()
	closed, previous := s.closed, s.held[key]
	if !closed {
		s.held[key] = hl
	}
	s.mu.Unlock()
	if closed {
		// Close ran meanwhile and would never release this lease.
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		if err := s.release(cctx, hl); err != nil {
			return s.fail("lock", id, fmt.Errorf("the store was closed; releasing: %w", err))
		}
		return s.fail("lock", id, errors.New("the store was closed"))
	}
	if previous != nil {
		previous.stop() // a lease this store had lost; the blob was free again
	}
	return nil
}

// cleanupContext bounds giving back a lease after a failure, even when the
// caller's context is what failed.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// renew keeps the lease alive, renewing three times per lease period. A
// failed renewal is retried every second while the lease still runs; an
// answer that the lease is gone, or a lease that ran out, ends it as lost.
func (s *Store) renew(ctx context.Context, hl *heldLease) {
	defer close(hl.done)
	every := s.cfg.LeaseDuration / 3
	renewed, wait := time.Now(), every
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		rctx, cancel := context.WithTimeout(ctx, every)
		_, err := hl.client.RenewLease(rctx, nil)
		cancel()
		switch {
		case err == nil:
			renewed, wait = time.Now(), every
		case ctx.Err() != nil:
			return
		case leaseGone(err) || time.Since(renewed) >= s.cfg.LeaseDuration:
			hl.setLost(s.sdkError(err))
			return
		default:
			wait = time.Second
		}
	}
}

// Unlock releases a lease this store holds. As upstream, any other
// process gets stores.ErrNotLocked: only the holder knows the lease ID.
// A lease lost while held gives ErrLeaseLost.
func (s *Store) Unlock(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := s.layout.LockKey(id)
	s.mu.Lock()
	hl := s.held[key]
	delete(s.held, key)
	s.mu.Unlock()
	if hl == nil {
		return s.fail("unlock", id, fmt.Errorf("%w: this process holds no lease on %s (force unlock breaks another holder's lease)", stores.ErrNotLocked, s.layout.Source(key)))
	}
	if err := s.release(ctx, hl); err != nil {
		return s.fail("unlock", id, err)
	}
	return nil
}

// release stops renewal, clears the holder and releases the lease.
func (s *Store) release(ctx context.Context, hl *heldLease) error {
	hl.stop()
	if err := hl.lostErr(); err != nil {
		return err
	}
	// Clearing the holder first leaves no stale holder for the next lease
	// taker, and proves the lease is still ours: a broken lease can still
	// be released with its old ID. The lock blob carries no other metadata.
	leaseCond := &blob.AccessConditions{LeaseAccessConditions: &blob.LeaseAccessConditions{LeaseID: hl.client.LeaseID()}}
	_, err := hl.blob.SetMetadata(ctx, map[string]*string{}, &blob.SetMetadataOptions{AccessConditions: leaseCond})
	if err == nil {
		_, err = hl.client.ReleaseLease(ctx, nil)
	}
	switch {
	case err == nil:
		return nil
	case leaseGone(err):
		hl.setLost(s.sdkError(err))
		return hl.lostErr()
	default:
		return fmt.Errorf("%w; no longer renewed, the lease ends within %s", s.sdkError(err), s.cfg.LeaseDuration)
	}
}

// token identifies the lock blob as a listing sees it: its ETag and lease
// state. statescope's locks change the ETag when taken, and their lease ID
// derives from the holder's nonce, so a force release acts on exactly the
// lease that wrote the holder. Two upstream leases on an untouched
// placeholder look the same: their tokens prove nothing (Unproven).
// Listings send ETags bare and property reads quoted, so the quotes go.
func token(e *azcore.ETag, state lease.StateType) string {
	return strings.Trim(etag(e), `"`) + "|" + string(state)
}

// Locks lists the lock blobs whose lease state is leased; a blob with no
// lease is a placeholder, not a lock.
func (s *Store) Locks(ctx context.Context) ([]stores.LockInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pager := s.container.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &s.layout.Prefix, Include: container.ListBlobsInclude{Metadata: true}})
	var out []stores.LockInfo
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("azblob: locks %s: %w", s.layout, s.sdkError(err))
		}
		for _, item := range page.Segment.BlobItems {
			p := item.Properties
			if !objectstore.IsLockKey(*item.Name) || p == nil || p.LeaseState == nil || *p.LeaseState != lease.StateTypeLeased {
				continue
			}
			out = append(out, s.lockInfo(ctx, *item.Name, p, item.Metadata))
		}
	}
	return out, nil
}

func (s *Store) lockInfo(ctx context.Context, key string, p *container.BlobProperties, md map[string]*string) stores.LockInfo {
	source := s.layout.Source(key)
	id, fromRecord := s.layout.LockID(ctx, key, s.read)
	info := stores.LockInfo{
		ResourceID: id,
		Token:      token(p.ETag, *p.LeaseState),
		Source:     source,
		Release:    fmt.Sprintf("release the lease on %s taken by the recorded holder, if it is still that lease and the ETag is still %s", source, strings.Trim(etag(p.ETag), `"`)),
	}
	why := []string{describeLease(p)}
	if p.LastModified != nil {
		why = append(why, "lock blob last modified "+p.LastModified.UTC().Format(time.RFC3339))
	}
	h := holderFromMetadata(md)
	switch {
	case h != nil:
		info.Holder, info.AcquiredAt = h, h.Since
	case p.LeaseDuration != nil && *p.LeaseDuration == lease.DurationTypeInfinite:
		why = append(why, "no holder recorded; an infinite lease never ends by itself")
	default:
		why = append(why, "no holder recorded (workflow's 60 s lease, never renewed: it ends by itself within 60 s)")
	}
	if h == nil || h.Nonce == "" {
		info.Unproven = "a lease on a blob without statescope's holder changes nothing a reader can see, so every such lease looks the same: " + stores.ErrUnproven.Error()
		info.Release = fmt.Sprintf("break whatever lease is on %s (unproven)", source)
		why = append(why, info.Unproven)
	}
	if !fromRecord {
		why = append(why, "no record with this name; ID taken from the blob name")
	}
	info.Evidence = strings.Join(why, "; ")
	return info
}

func describeLease(p *container.BlobProperties) string {
	parts := []string{"lease state " + string(*p.LeaseState)}
	if p.LeaseStatus != nil {
		parts = append(parts, "status "+string(*p.LeaseStatus))
	}
	if p.LeaseDuration != nil {
		parts = append(parts, "duration "+string(*p.LeaseDuration))
	}
	return strings.Join(parts, ", ")
}

// ForceUnlock releases the lease only if the lock blob still has the ETag
// and lease state token names and the lease is still the one its recorded
// holder took (its ID derives from the holder's nonce): the holder is
// cleared and the lease released under that ID and If-Match. A lease with
// no statescope holder cannot be proven and is refused (stores.ErrUnproven).
func (s *Store) ForceUnlock(ctx context.Context, id, tok string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := s.layout.LockKey(id)
	bc := s.container.NewBlobClient(key)
	props, err := s.leasedProps(ctx, id, bc)
	if err != nil {
		return err
	}
	if cur := token(props.ETag, *props.LeaseState); cur != tok {
		return s.fail("force unlock", id, fmt.Errorf("token is now %s, not %s: %w", cur, tok, stores.ErrLockChanged))
	}
	h := holderFromMetadata(props.Metadata)
	if h == nil || h.Nonce == "" {
		return s.fail("force unlock", id, stores.ErrUnproven)
	}
	lc, err := lease.NewBlobClient(bc, &lease.BlobClientOptions{LeaseID: new(leaseIDFor(h.Nonce))})
	if err != nil {
		return s.fail("force unlock", id, err)
	}
	cond := &blob.AccessConditions{
		LeaseAccessConditions:    &blob.LeaseAccessConditions{LeaseID: lc.LeaseID()},
		ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: props.ETag},
	}
	_, err = bc.SetMetadata(ctx, map[string]*string{}, &blob.SetMetadataOptions{AccessConditions: cond})
	if err == nil {
		_, err = lc.ReleaseLease(ctx, nil)
	}
	switch {
	case bloberror.HasCode(err, bloberror.ConditionNotMet):
		return s.fail("force unlock", id, fmt.Errorf("the lock blob changed: %w", stores.ErrLockChanged))
	case leaseGone(err):
		return s.fail("force unlock", id, fmt.Errorf("the lease on %s is not the one its recorded holder took: %w", s.layout.Source(key), stores.ErrLockChanged))
	case err != nil:
		return s.fail("force unlock", id, s.sdkError(err))
	}
	s.ownLeaseEnded(key, "released by force unlock")
	return nil
}

// ForceUnlockUnproven breaks whatever lease is on the lock blob now.
func (s *Store) ForceUnlockUnproven(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := s.layout.LockKey(id)
	bc := s.container.NewBlobClient(key)
	if _, err := s.leasedProps(ctx, id, bc); err != nil {
		return err
	}
	lc, err := lease.NewBlobClient(bc, nil)
	if err != nil {
		return s.fail("force unlock", id, err)
	}
	_, err = lc.BreakLease(ctx, &lease.BlobBreakOptions{BreakPeriod: new(int32(0))})
	switch {
	case bloberror.HasCode(err, bloberror.LeaseNotPresentWithLeaseOperation, bloberror.BlobNotFound):
		return s.fail("force unlock", id, fmt.Errorf("%w (released meanwhile)", stores.ErrNotLocked))
	case err != nil:
		return s.fail("force unlock", id, s.sdkError(err))
	}
	// A statescope holder recorded there is no longer true; the next
	// lease taker must not be shown it. Best effort: a new lease refuses it.
	_, _ = bc.SetMetadata(ctx, map[string]*string{}, nil)
	s.ownLeaseEnded(key, "broken by force unlock")
	return nil
}

// leasedProps reads the lock blob's properties; not there or not leased is
// stores.ErrNotLocked.
func (s *Store) leasedProps(ctx context.Context, id string, bc *blob.Client) (blob.GetPropertiesResponse, error) {
	key := s.layout.LockKey(id)
	props, err := bc.GetProperties(ctx, nil)
	switch {
	case bloberror.HasCode(err, bloberror.BlobNotFound) || httpStatus(err) == http.StatusNotFound:
		return props, s.fail("force unlock", id, fmt.Errorf("%w (no %s)", stores.ErrNotLocked, s.layout.Source(key)))
	case err != nil:
		return props, s.fail("force unlock", id, s.sdkError(err))
	case props.LeaseState == nil || *props.LeaseState != lease.StateTypeLeased:
		return props, s.fail("force unlock", id, fmt.Errorf("%w (%s has no active lease)", stores.ErrNotLocked, s.layout.Source(key)))
	}
	return props, nil
}

// ownLeaseEnded stops renewing a lease this store held and had taken away.
func (s *Store) ownLeaseEnded(key, why string) {
	s.mu.Lock()
	hl := s.held[key]
	s.mu.Unlock()
	if hl != nil {
		hl.stop()
		hl.setLost(errors.New(why))
	}
}

// leaseIDFor is the lease ID statescope proposes for a holder: a UUID
// derived from its nonce.
func leaseIDFor(nonce string) string {
	sum := sha256.Sum256([]byte("statescope lease " + nonce))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Holder metadata keys. Azure returns them canonicalised ("Statescope_pid"),
// so reads compare case-insensitively.
const (
	metaTool      = "statescope_tool"
	metaUser      = "statescope_user"
	metaHost      = "statescope_host"
	metaPID       = "statescope_pid"
	metaOperation = "statescope_operation"
	metaSince     = "statescope_since"
	metaNonce     = "statescope_nonce"
)

// holderMetadata writes h as blob metadata. Values must be ASCII header
// text, so anything else is Go-quoted.
func holderMetadata(h *stores.Holder) map[string]*string {
	md := map[string]*string{}
	put := func(k, v string) {
		if v != "" {
			q := strconv.QuoteToASCII(v)
			md[k] = new(q[1 : len(q)-1])
		}
	}
	put(metaTool, h.Tool)
	put(metaUser, h.User)
	put(metaHost, h.Host)
	if h.PID != 0 {
		put(metaPID, strconv.Itoa(h.PID))
	}
	put(metaOperation, h.Operation)
	if !h.Since.IsZero() {
		put(metaSince, stores.FormatTime(h.Since))
	}
	put(metaNonce, h.Nonce)
	return md
}

// holderFromMetadata reads what holderMetadata wrote, or nil when the
// blob carries no holder (upstream's placeholder).
func holderFromMetadata(md map[string]*string) *stores.Holder {
	get := func(k string) string {
		for mk, v := range md {
			if strings.EqualFold(mk, k) && v != nil {
				if s, err := strconv.Unquote(`"` + *v + `"`); err == nil {
					return s
				}
				return *v
			}
		}
		return ""
	}
	h := &stores.Holder{Tool: get(metaTool), User: get(metaUser), Host: get(metaHost), Operation: get(metaOperation), Nonce: get(metaNonce)}
	h.PID, _ = strconv.Atoi(get(metaPID))
	h.Since, _ = stores.ParseTime(get(metaSince))
	if h.Tool == "" && h.PID == 0 && h.Since.IsZero() {
		return nil
	}
	return h
}
