// Package client is a stores.Store over a connection to workflow's
// IaCStateBackend gRPC service (a workflow plugin, or `statescope serve`).
// When the server also has statescope's LockAdmin service, the store gains
// a lock inventory, compare-and-swap release and unreadable-record listing.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"statescope/remote/proto/iacpb"
	"statescope/remote/proto/lockadminpb"
	"statescope/remote/wire"
	"statescope/stores"
)

// ErrUnreachable: the backend could not be reached or the connection to it
// was lost. Opening a new store reconnects.
var ErrUnreachable = errors.New("backend unreachable")

// Defaults for Options.
const (
	// DefaultTimeout bounds every call that has no earlier deadline.
	DefaultTimeout = 60 * time.Second
	// PluginRecvLimit is grpc-go's default receive limit, which workflow
	// plugins keep: a larger SaveState never reaches the store.
	PluginRecvLimit = 4 << 20
)

// DialOptions tune a connection for listings: windows large enough that
// the server keeps encoding while the client decodes, instead of the two
// taking turns at gRPC's 64 KiB default.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithInitialWindowSize(8 << 20),
		grpc.WithInitialConnWindowSize(16 << 20),
	}
}

// Options say which backend to use and how to configure it.
type Options struct {
	// Backend is the backend name; empty means the only one served.
	Backend string
	// Config is sent with Configure before any state call, as workflow's
	// host does, with the "backend" key added; without any, Configure is
	// sent only when the plugin says it is not configured.
	Config map[string]any
	// Timeout bounds each call; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxSendBytes is the largest request sent; zero means PluginRecvLimit.
	MaxSendBytes int
	// Transport describes the connection for Describe and errors, e.g.
	// "grpc unix:///run/state.sock".
	Transport string
	// Close releases the transport (connection, tunnel, plugin process).
	Close func() error
}

// Store talks to one backend over one connection. Safe for concurrent use.
type Store struct {
	iac     iacpb.IaCStateBackendClient
	admin   lockadminpb.LockAdminClient // nil when the server lacks LockAdmin
	info    *lockadminpb.DescribeResponse
	backend string
	config  map[string]any
	timeout time.Duration
	maxSend int
	via     string

	configureMu sync.Mutex
	closeOnce   sync.Once
	closeFn     func() error
	closeErr    error
}

// New picks the backend (ListBackendNames) and probes for LockAdmin.
func New(ctx context.Context, cc grpc.ClientConnInterface, opts Options) (*Store, error) {
	s := &Store{
		iac: iacpb.NewIaCStateBackendClient(cc), backend: opts.Backend, config: opts.Config,
		timeout: opts.Timeout, maxSend: opts.MaxSendBytes, via: opts.Transport, closeFn: opts.Close,
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.maxSend <= 0 {
		s.maxSend = PluginRecvLimit
	}
	if s.via == "" {
		s.via = "grpc"
	}
	if err := s.chooseBackend(ctx); err != nil {
		return nil, err
	}
	// workflow's host configures a plugin before any state call; a plugin
	// may serve a default store until then, so configuration the target
	// carries is sent first, always.
	if len(s.config) > 0 {
		if err := s.configure(ctx); err != nil {
			return nil, err
		}
	}
	admin := lockadminpb.NewLockAdminClient(cc)
	var info *lockadminpb.DescribeResponse
	err := s.invoke(ctx, func(ctx context.Context) (err error) {
		info, err = admin.Describe(ctx, &lockadminpb.DescribeRequest{})
		return err
	})
	switch {
	case status.Code(err) == codes.Unimplemented:
		// A stock workflow plugin: the contract's RPCs only.
	case err != nil:
		return nil, s.mapErr(ctx, "probe lock admin", "", err)
	case info.GetBackendName() == s.backend:
		// LockAdmin speaks for one backend: use it only for that one.
		s.admin, s.info = admin, info
	}
	return s, nil
}

func (s *Store) chooseBackend(ctx context.Context) error {
	var names []string
	err := s.invoke(ctx, func(ctx context.Context) error {
		resp, err := s.iac.ListBackendNames(ctx, &iacpb.ListBackendNamesRequest{})
		names = resp.GetBackendNames()
		return err
	})
	if status.Code(err) == codes.Unimplemented {
		// A plugin older than ListBackendNames: trust the target.
		if s.backend == "" {
			return fmt.Errorf("%s predates ListBackendNames: name the backend with ?backend=NAME", s.via)
		}
		return nil
	}
	if err != nil {
		return s.mapErr(ctx, "list backend names", "", err)
	}
	switch {
	case len(names) == 0:
		return fmt.Errorf("%s serves no state backend (ListBackendNames is empty)", s.via)
	case s.backend == "" && len(names) == 1:
		s.backend = names[0]
	case s.backend == "":
		return fmt.Errorf("%s serves several state backends (%s): choose one with ?backend=NAME", s.via, strings.Join(names, ", "))
	case !slices.Contains(names, s.backend):
		return fmt.Errorf("%s does not serve backend %q; it serves: %s", s.via, s.backend, strings.Join(names, ", "))
	}
	return nil
}

// Backend is the backend name in use.
func (s *Store) Backend() string { return s.backend }

// Kind is the backend's store type: the server's own word when it has
// LockAdmin, else the backend name (s3, gcs, azure_blob…).
func (s *Store) Kind() string {
	if s.info != nil {
		return s.info.GetKind()
	}
	return s.backend
}

// HasLockAdmin reports whether the server offers the lock inventory.
func (s *Store) HasLockAdmin() bool { return s.admin != nil }

// Describe shows the transport and the backend.
func (s *Store) Describe() string {
	d := s.via + " backend " + s.backend
	if s.info != nil {
		d += " (" + s.info.GetStore() + " on " + s.info.GetHost() + ")"
	}
	return d
}

// Close releases the transport once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.closeFn != nil {
			s.closeErr = s.closeFn()
		}
	})
	return s.closeErr
}

// invoke runs one RPC under the per-call deadline.
func (s *Store) invoke(ctx context.Context, rpc func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return rpc(ctx)
}

// call runs a state RPC; when the plugin is not configured yet it sends
// Configure and retries once, as workflow's host configures before use.
func (s *Store) call(ctx context.Context, op, id string, rpc func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s %q: %w", op, id, err)
	}
	err := s.invoke(ctx, rpc)
	if isNotConfigured(err) {
		if cerr := s.configure(ctx); cerr != nil {
			return cerr
		}
		err = s.invoke(ctx, rpc)
	}
	return s.mapErr(ctx, op, id, err)
}

func isNotConfigured(err error) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.FailedPrecondition && strings.Contains(st.Message(), "not configured")
}

func (s *Store) configure(ctx context.Context) error {
	s.configureMu.Lock()
	defer s.configureMu.Unlock()
	cfg := map[string]any{}
	for k, v := range s.config {
		cfg[k] = v
	}
	cfg["backend"] = s.backend
	body, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("configure backend %q: %w", s.backend, err)
	}
	err = s.invoke(ctx, func(ctx context.Context) error {
		_, err := s.iac.Configure(ctx, &iacpb.ConfigureRequest{BackendName: s.backend, ConfigJson: body})
		return err
	})
	switch status.Code(err) {
	case codes.OK:
		return nil
	case codes.Unimplemented:
		return fmt.Errorf("%s has no Configure RPC, so backend %q cannot be configured: upgrade the plugin", s.via, s.backend)
	case codes.InvalidArgument:
		// The message names the bad key; the config itself may hold secrets.
		return fmt.Errorf("%s rejected the configuration of backend %q (set it with ?config={…} or ?cfg.KEY=VALUE): %s", s.via, s.backend, status.Convert(err).Message())
	}
	return s.mapErr(ctx, "configure", s.backend, err)
}

// mapErr turns a gRPC status into the store's typed errors, matching the
// contract's message substrings for Unknown.
func (s *Store) mapErr(ctx context.Context, op, id string, err error) error {
	if err == nil {
		return nil
	}
	what := op
	if id != "" {
		what = fmt.Sprintf("%s %q", op, id)
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s via %s: %w", what, s.via, cerr)
	}
	st := status.Convert(err)
	msg := st.Message()
	var typed error
	switch st.Code() {
	case codes.Canceled:
		typed = context.Canceled
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s via %s: no answer within %s: %w", what, s.via, s.timeout, context.DeadlineExceeded)
	case codes.Unavailable:
		return fmt.Errorf("%s: %w: connection to %s failed or was lost (%s); reconnect to retry", what, ErrUnreachable, s.via, msg)
	case codes.ResourceExhausted:
		return fmt.Errorf("%s: %w: the message exceeds a gRPC size limit of %s (%s)", what, stores.ErrTooLarge, s.via, msg)
	case codes.Unimplemented:
		typed = stores.ErrUnsupported
	case codes.PermissionDenied:
		if strings.Contains(msg, stores.ErrReadOnly.Error()) {
			typed = stores.ErrReadOnly
		}
	case codes.DataLoss:
		typed = stores.ErrCorrupt
	case codes.Aborted:
		typed = stores.ErrLockChanged
	case codes.NotFound:
		// Only LockAdmin.ForceUnlock answers NotFound: there is no lock.
		typed = stores.ErrNotLocked
	case codes.Unknown:
		switch {
		case strings.Contains(msg, "not found"):
			typed = stores.ErrNotFound
		case strings.Contains(msg, "not locked"):
			typed = stores.ErrNotLocked
		case strings.Contains(msg, "already locked"):
			typed = stores.ErrLocked
		}
	}
	if typed == nil {
		return fmt.Errorf("%s via %s: %s: %s", what, s.via, st.Code(), msg)
	}
	return fmt.Errorf("%s: %w (%s)", what, typed, msg)
}

// Get reads one record; exists=false is ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (*stores.State, error) {
	var resp *iacpb.GetStateResponse
	err := s.call(ctx, "get", id, func(ctx context.Context) (err error) {
		resp, err = s.iac.GetState(ctx, &iacpb.GetStateRequest{ResourceId: id})
		return err
	})
	if err != nil {
		return nil, err
	}
	if !resp.GetExists() {
		return nil, fmt.Errorf("get %q via %s: %w", id, s.via, stores.ErrNotFound)
	}
	if resp.GetState() == nil {
		return nil, fmt.Errorf("get %q via %s: %w: exists but no state was sent", id, s.via, stores.ErrCorrupt)
	}
	st, err := wire.FromProto(resp.GetState())
	if err != nil {
		return nil, fmt.Errorf("get %q via %s: %w: %v", id, s.via, stores.ErrCorrupt, err)
	}
	return st, nil
}

// Save replaces a record. Oversized records are refused here, before
// sending, since the plugin would reject them with a bare transport error.
func (s *Store) Save(ctx context.Context, st *stores.State) error {
	if st == nil || st.ResourceID == "" {
		return fmt.Errorf("save via %s: record has no resource_id", s.via)
	}
	pb, err := wire.ToProto(st)
	if err != nil {
		return fmt.Errorf("save %q: %w", st.ResourceID, err)
	}
	req := &iacpb.SaveStateRequest{State: pb}
	if n := proto.Size(req); n > s.maxSend {
		return fmt.Errorf("save %q: %w: the record is %.1f MiB encoded and %s accepts at most %.0f MiB per message",
			st.ResourceID, stores.ErrTooLarge, float64(n)/(1<<20), s.via, float64(s.maxSend)/(1<<20))
	}
	return s.call(ctx, "save", st.ResourceID, func(ctx context.Context) error {
		_, err := s.iac.SaveState(ctx, req)
		return err
	})
}

// List returns every record; with LockAdmin unreadable ones are included.
func (s *Store) List(ctx context.Context, f stores.Filter) ([]stores.Entry, error) {
	var out []stores.Entry
	err := s.Stream(ctx, f, func(batch []stores.Entry) error {
		out = append(out, batch...)
		return nil
	})
	return out, err
}

// Stream delivers entries in the server's batches through LockAdmin, or
// ListStates' single answer from a stock plugin.
func (s *Store) Stream(ctx context.Context, f stores.Filter, yield func([]stores.Entry) error) error {
	if s.admin == nil {
		entries, err := s.listStates(ctx, f)
		if err != nil || len(entries) == 0 {
			return err
		}
		return yield(entries)
	}
	var yieldErr error
	err := s.call(ctx, "list", "", func(ctx context.Context) error {
		stream, err := s.admin.StreamEntries(ctx, &lockadminpb.StreamEntriesRequest{Filter: f.Map()})
		if err != nil {
			return err
		}
		for {
			batch, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			entries := make([]stores.Entry, 0, len(batch.GetEntries()))
			for _, pe := range batch.GetEntries() {
				entries = append(entries, wire.EntryFromProto(pe))
			}
			if yieldErr = yield(entries); yieldErr != nil {
				return yieldErr
			}
		}
	})
	if yieldErr != nil {
		return yieldErr
	}
	return err
}

func (s *Store) listStates(ctx context.Context, f stores.Filter) ([]stores.Entry, error) {
	var resp *iacpb.ListStatesResponse
	err := s.call(ctx, "list", "", func(ctx context.Context) (err error) {
		resp, err = s.iac.ListStates(ctx, &iacpb.ListStatesRequest{Filter: f.Map()}, grpc.MaxCallRecvMsgSize(maxRecv))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]stores.Entry, 0, len(resp.GetStates()))
	for _, pb := range resp.GetStates() {
		e := stores.Entry{ID: pb.GetResourceId(), Source: s.via + " backend " + s.backend}
		st, err := wire.FromProto(pb)
		if err != nil {
			e.Problem = err.Error()
		} else {
			e.State = st
		}
		// Plugins filter themselves; filter again in case one ignores a key.
		if f.Match(e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// maxRecv is what workflow's host accepts from a plugin.
const maxRecv = 1<<31 - 1

// Delete removes a record; a missing one is ErrNotFound.
func (s *Store) Delete(ctx context.Context, id string) error {
	return s.call(ctx, "delete", id, func(ctx context.Context) error {
		_, err := s.iac.DeleteState(ctx, &iacpb.DeleteStateRequest{ResourceId: id})
		return err
	})
}

// Lock takes the lock; a held one is ErrLocked.
func (s *Store) Lock(ctx context.Context, id string) error {
	return s.call(ctx, "lock", id, func(ctx context.Context) error {
		_, err := s.iac.Lock(ctx, &iacpb.LockRequest{ResourceId: id})
		return err
	})
}

// Unlock is the contract's plain Unlock: what it does depends on the
// backend (see UnlockWarning).
func (s *Store) Unlock(ctx context.Context, id string) error {
	return s.call(ctx, "unlock", id, func(ctx context.Context) error {
		_, err := s.iac.Unlock(ctx, &iacpb.UnlockRequest{ResourceId: id})
		return err
	})
}

// Locks lists every lock through LockAdmin. Without it the inventory is
// unavailable and the error says what a plain Unlock would do instead.
func (s *Store) Locks(ctx context.Context) ([]stores.LockInfo, error) {
	if s.admin == nil {
		return nil, s.noAdmin("lock inventory")
	}
	var resp *lockadminpb.ListLocksResponse
	err := s.call(ctx, "list locks", "", func(ctx context.Context) (err error) {
		resp, err = s.admin.ListLocks(ctx, &lockadminpb.ListLocksRequest{})
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]stores.LockInfo, 0, len(resp.GetLocks()))
	for _, pl := range resp.GetLocks() {
		out = append(out, wire.LockFromProto(pl))
	}
	return out, nil
}

// ForceUnlock releases a lock only if it still has token: ErrLockChanged
// when it does not, ErrNotLocked when nothing is locked.
func (s *Store) ForceUnlock(ctx context.Context, id, token string) error {
	if s.admin == nil {
		return s.noAdmin("force unlock")
	}
	return s.call(ctx, "force unlock", id, func(ctx context.Context) error {
		_, err := s.admin.ForceUnlock(ctx, &lockadminpb.ForceUnlockRequest{ResourceId: id, Token: token})
		return err
	})
}

func (s *Store) noAdmin(what string) error {
	return fmt.Errorf("%s is unavailable over this backend (%s backend %q has no statescope LockAdmin service): %w. %s",
		what, s.via, s.backend, stores.ErrUnsupported, s.UnlockWarning())
}

// UnlockWarning says what the contract's plain Unlock does on this kind of
// backend, for the confirmation a CLI or TUI shows before calling it.
func (s *Store) UnlockWarning() string { return UnlockWarning(s.Kind()) }

// UnlockWarning is the warning for a backend kind.
func UnlockWarning(kind string) string {
	switch kind {
	case "filesystem", "file", "statescope-filesystem", "s3", "spaces", "gcs":
		return fmt.Sprintf("A plain Unlock on a %s backend deletes the lock file/object without checking who holds it: "+
			"if the holder is still running it silently loses its lock and two writers can proceed.", kind)
	case "postgres", "azure_blob", "memory":
		return fmt.Sprintf("A plain Unlock on a %s backend is refused (\"not locked\") unless the plugin process itself holds the lock: "+
			"only the holding process may unlock. %s", kind, selfHeal(kind))
	}
	return fmt.Sprintf("A plain Unlock on backend %q does whatever that plugin implements; statescope cannot tell whether it checks the holder, "+
		"so it may release another process's lock.", kind)
}

func selfHeal(kind string) string {
	switch kind {
	case "azure_blob":
		return "An orphaned Azure lease expires by itself within 60 s, or break the lease on the .lock blob."
	case "postgres":
		return "An orphaned advisory lock is freed when the holding database session ends (pg_terminate_backend)."
	}
	return "An in-memory lock disappears with the process that holds it."
}
