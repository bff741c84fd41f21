// Package server serves any stores.Store as workflow's IaCStateBackend gRPC
// service, with upstream's error conventions, plus statescope's LockAdmin
// extension (lock inventory, compare-and-swap release, full listing).
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"path/filepath"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"statescope/remote/proto/iacpb"
	"statescope/remote/proto/lockadminpb"
	"statescope/remote/wire"
	"statescope/stores"
)

// Options tune how a store is served.
type Options struct {
	// BackendName is the name ListBackendNames reports and Configure
	// expects; empty means DefaultBackendName(kind), or HostBackendName
	// for a server whose store comes from Configure.
	BackendName string
	// RequireConfigure makes state RPCs fail with FailedPrecondition until
	// a client calls Configure, as a freshly started workflow plugin does.
	RequireConfigure bool
	// Log receives one line per failed call; nil discards.
	Log io.Writer
	// Target names New's store in backups and the audit log; empty uses
	// its description.
	Target string
	// StateDir keeps backups and the audit log of mutating calls; empty
	// means repair.DefaultStateDir(), the CLI's.
	StateDir string
	// BackupWrites backs up the record before every SaveState, not only
	// before DeleteState and ForceUnlock.
	BackupWrites bool
}

// reserved are names a workflow host refuses from a plugin.
var reserved = map[string]bool{"memory": true, "filesystem": true, "postgres": true}

// DefaultBackendName is the kind, prefixed with "statescope-" when workflow
// reserves the bare name for its built-in backends.
func DefaultBackendName(kind string) string {
	if reserved[kind] {
		return "statescope-" + kind
	}
	return kind
}

// HostBackendName is what a server whose store comes from Configure
// answers to: the name must be known before any store is, because the host
// checks it against plugin.json's iacStateBackends first.
const HostBackendName = "statescope"

// Kind is the store's type as its description names it (filesystem, memory,
// s3…): what decides how a plain Unlock behaves.
func Kind(s stores.Store) string {
	f := strings.Fields(stores.Describe(s))
	if len(f) == 0 {
		return "unknown"
	}
	return strings.ToLower(strings.TrimSuffix(f[0], ":"))
}

// Opener opens the store a statescope target names.
type Opener func(ctx context.Context, target string) (stores.Store, error)

// Server implements IaCStateBackend over one store at a time.
type Server struct {
	iacpb.UnimplementedIaCStateBackendServer
	name string
	// fixed is the store given to New; open is set instead when the store
	// comes from Configure.
	fixed   *backend
	open    Opener
	log     *log.Logger
	journal *journal

	// configuring serializes Configure, so concurrent ones naming the same
	// store open it once.
	configuring sync.Mutex
	mu          sync.Mutex
	cur         *backend // nil until usable
}

// backend is one opened store; calls counts the RPCs using it so a store
// replaced by a later Configure is closed only after they end.
type backend struct {
	store  stores.Store
	kind   string
	target string // what Configure named; empty for New's store
	calls  sync.WaitGroup
}

// New serves s, which stays the caller's to close.
func New(s stores.Store, opts Options) *Server {
	b := &backend{store: s, kind: Kind(s), target: opts.Target}
	name := opts.BackendName
	if name == "" {
		name = DefaultBackendName(b.kind)
	}
	srv := newServer(name, opts)
	srv.fixed = b
	if !opts.RequireConfigure {
		srv.cur = b
	}
	return srv
}

// NewConfigured serves no store until a client's Configure names one in its
// config_json: "store" (a statescope target) or "directory" (workflow's
// filesystem key). A later Configure naming another store replaces it.
func NewConfigured(open Opener, opts Options) *Server {
	name := opts.BackendName
	if name == "" {
		name = HostBackendName
	}
	srv := newServer(name, opts)
	srv.open = open
	return srv
}

func newServer(name string, opts Options) *Server {
	w := opts.Log
	if w == nil {
		w = io.Discard
	}
	return &Server{name: name, log: log.New(w, "statescope serve: ", log.LstdFlags), journal: newJournal(opts)}
}

// BackendName is the name this server answers to.
func (s *Server) BackendName() string { return s.name }

// Register adds IaCStateBackend and LockAdmin to a gRPC server.
func (s *Server) Register(r grpc.ServiceRegistrar) {
	iacpb.RegisterIaCStateBackendServer(r, s)
	lockadminpb.RegisterLockAdminServer(r, &admin{s: s})
}

// Close closes the store a Configure opened; New's store is left alone.
func (s *Server) Close() error {
	s.mu.Lock()
	b := s.cur
	s.cur = nil
	s.mu.Unlock()
	if b == nil || b == s.fixed {
		return nil
	}
	b.calls.Wait()
	return stores.Close(b.store)
}

// fail turns a store error into upstream's status: Unknown with the
// "iac <backend> state: <Op> "<id>": …" text clients match on.
func (s *Server) fail(op, id string, err error) error {
	s.log.Printf("%s %q: %v", op, id, err)
	prefix := fmt.Sprintf("iac %s state: %s %q: ", s.name, op, id)
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, prefix+err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, prefix+err.Error())
	case errors.Is(err, stores.ErrNotFound):
		return status.Error(codes.Unknown, prefix+"not found")
	case errors.Is(err, stores.ErrNotLocked):
		return status.Error(codes.Unknown, prefix+"not locked")
	case errors.Is(err, stores.ErrLocked):
		return status.Error(codes.Unknown, prefix+"resource is already locked")
	case errors.Is(err, stores.ErrTooLarge):
		return status.Error(codes.ResourceExhausted, prefix+err.Error())
	case errors.Is(err, stores.ErrReadOnly):
		return status.Error(codes.PermissionDenied, prefix+err.Error())
	case errors.Is(err, stores.ErrCorrupt):
		return status.Error(codes.DataLoss, prefix+err.Error())
	case errors.Is(err, stores.ErrUnsupported):
		return status.Error(codes.Unimplemented, prefix+err.Error())
	}
	return status.Error(codes.Unknown, prefix+err.Error())
}

// use returns the backend for one call; the caller runs done when the call
// ends. Before Configure it answers upstream's FailedPrecondition.
func (s *Server) use() (b *backend, done func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return nil, nil, status.Errorf(codes.FailedPrecondition, "iac %s state backend is not configured", s.name)
	}
	s.cur.calls.Add(1)
	return s.cur, s.cur.calls.Done, nil
}

// useToChange is use for a mutating call: a read-only store refuses
// before anything (even a backup) happens, as locally.
func (s *Server) useToChange(op, id string) (b *backend, done func(), err error) {
	b, done, err = s.use()
	if err != nil {
		return nil, nil, err
	}
	switch {
	case stores.IsReadOnly(b.store):
		err = s.fail(op, id, stores.ErrReadOnly)
	case s.journal.err != nil:
		err = status.Errorf(codes.FailedPrecondition, "iac %s state: %s %q: %v", s.name, op, id, s.journal.err)
	}
	if err != nil {
		done()
		return nil, nil, err
	}
	return b, done, nil
}

// Configure accepts the served backend's own name. With New's store the
// configuration is only checked for being JSON; otherwise it names the
// store to open.
func (s *Server) Configure(ctx context.Context, req *iacpb.ConfigureRequest) (*iacpb.ConfigureResponse, error) {
	if req.GetBackendName() != s.name {
		return nil, status.Errorf(codes.InvalidArgument, "backend %q is not served here; this server serves %q", req.GetBackendName(), s.name)
	}
	if s.open == nil {
		if _, err := wire.DecodeMap(req.GetConfigJson()); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "backend %q: config_json: %v", s.name, err)
		}
		s.replace(s.fixed)
		return &iacpb.ConfigureResponse{}, nil
	}
	target, err := hostTarget(req.GetConfigJson())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "backend %q: config_json: %v", s.name, err)
	}
	s.configuring.Lock()
	defer s.configuring.Unlock()
	s.mu.Lock()
	same := s.cur != nil && s.cur.target == target
	s.mu.Unlock()
	if same {
		// Every iac.state module using this backend configures it; reopening
		// would drop locks the store holds in this process.
		return &iacpb.ConfigureResponse{}, nil
	}
	// The store may keep its open context for its whole life, which
	// outlasts this call.
	st, err := s.open(context.WithoutCancel(ctx), target)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "backend %q: opening %s: %v", s.name, stores.RedactTarget(target), err)
	}
	s.log.Printf("backend %q now serves %s", s.name, stores.Describe(st))
	s.replace(&backend{store: st, kind: Kind(st), target: target})
	return &iacpb.ConfigureResponse{}, nil
}

// replace makes b current; a store Configure opened before is closed once
// its calls end.
func (s *Server) replace(b *backend) {
	s.mu.Lock()
	old := s.cur
	s.cur = b
	s.mu.Unlock()
	if old == nil || old == b || old == s.fixed {
		return
	}
	go func() {
		old.calls.Wait()
		if err := stores.Close(old.store); err != nil {
			s.log.Printf("closing replaced store %s: %v", stores.Describe(old.store), err)
		}
	}()
}

// hostConfig holds the keys Configure reads from an iac.state module's
// config; encoding/json matches them case-insensitively and skips the rest
// (backend, …), as upstream plugins decode theirs.
type hostConfig struct {
	Store     string `json:"store"`
	Directory string `json:"directory"`
}

// hostTarget picks the store target out of config_json. Paths must be
// absolute: a host runs the plugin in the plugin's own directory.
func hostTarget(configJSON []byte) (string, error) {
	var c hostConfig
	if len(configJSON) > 0 {
		if err := json.Unmarshal(configJSON, &c); err != nil {
			return "", err
		}
	}
	c.Store, c.Directory = strings.TrimSpace(c.Store), strings.TrimSpace(c.Directory)
	switch {
	case c.Store != "" && c.Directory != "":
		return "", errors.New(`give "store" or "directory", not both`)
	case c.Directory != "":
		if !filepath.IsAbs(c.Directory) {
			return "", fmt.Errorf("directory %q is not an absolute path", c.Directory)
		}
		return c.Directory, nil
	case c.Store == "":
		return "", errors.New(`no store: set "store" to a statescope target or "directory" to a state directory`)
	}
	t, err := stores.ParseTarget(c.Store)
	if err != nil {
		return "", err
	}
	if t.Scheme == "file" && t.URL == nil && !filepath.IsAbs(c.Store) {
		return "", fmt.Errorf("store %q is not an absolute path", c.Store)
	}
	return c.Store, nil
}

// ListBackendNames reports the one backend this server serves.
func (s *Server) ListBackendNames(context.Context, *iacpb.ListBackendNamesRequest) (*iacpb.ListBackendNamesResponse, error) {
	return &iacpb.ListBackendNamesResponse{BackendNames: []string{s.name}}, nil
}

// GetState answers exists=false for a missing record, as upstream does.
func (s *Server) GetState(ctx context.Context, req *iacpb.GetStateRequest) (*iacpb.GetStateResponse, error) {
	b, done, err := s.use()
	if err != nil {
		return nil, err
	}
	defer done()
	st, err := b.store.Get(ctx, req.GetResourceId())
	if errors.Is(err, stores.ErrNotFound) {
		return &iacpb.GetStateResponse{}, nil
	}
	if err != nil {
		return nil, s.fail("GetState", req.GetResourceId(), err)
	}
	pb, err := wire.ToProto(st)
	if err != nil {
		return nil, s.fail("GetState", req.GetResourceId(), err)
	}
	return &iacpb.GetStateResponse{State: pb, Exists: true}, nil
}

// SaveState replaces the record, audited (and backed up with
// BackupWrites): it is a workflow engine's normal write.
func (s *Server) SaveState(ctx context.Context, req *iacpb.SaveStateRequest) (*iacpb.SaveStateResponse, error) {
	b, done, err := s.useToChange("SaveState", req.GetState().GetResourceId())
	if err != nil {
		return nil, err
	}
	defer done()
	if req.GetState() == nil || req.GetState().GetResourceId() == "" {
		return nil, status.Errorf(codes.InvalidArgument, "iac %s state: SaveState: state with a resource_id is required", s.name)
	}
	st, err := wire.FromProto(req.GetState())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "iac %s state: SaveState %q: %v", s.name, req.GetState().GetResourceId(), err)
	}
	err = s.changeRecord(ctx, b, "SaveState", st.ResourceID, s.journal.backupWrites, func(string) error { return b.store.Save(ctx, st) })
	if err != nil {
		return nil, s.fail("SaveState", st.ResourceID, err)
	}
	return &iacpb.SaveStateResponse{}, nil
}

// ListStates returns the readable records, skipping unreadable ones as
// upstream backends do; LockAdmin.StreamEntries reports those.
func (s *Server) ListStates(ctx context.Context, req *iacpb.ListStatesRequest) (*iacpb.ListStatesResponse, error) {
	b, done, err := s.use()
	if err != nil {
		return nil, err
	}
	defer done()
	entries, err := b.store.List(ctx, stores.FilterFromMap(req.GetFilter()))
	if err != nil {
		return nil, s.fail("ListStates", "", err)
	}
	resp := &iacpb.ListStatesResponse{States: make([]*iacpb.IaCState, 0, len(entries))}
	for _, e := range entries {
		if e.Corrupt() {
			s.log.Printf("ListStates: skipping unreadable record %s: %s", e.Source, e.Problem)
			continue
		}
		pb, err := wire.ToProto(e.State)
		if err != nil {
			s.log.Printf("ListStates: skipping %q: %v", e.ID, err)
			continue
		}
		resp.States = append(resp.States, pb)
	}
	return resp, nil
}

// DeleteState backs the record up, removes it (only that version, where
// the store has compare-and-swap) and audits; a missing one is "not found".
func (s *Server) DeleteState(ctx context.Context, req *iacpb.DeleteStateRequest) (*iacpb.DeleteStateResponse, error) {
	id := req.GetResourceId()
	b, done, err := s.useToChange("DeleteState", id)
	if err != nil {
		return nil, err
	}
	defer done()
	err = s.changeRecord(ctx, b, "DeleteState", id, true, func(version string) error {
		if cs, ok := b.store.(stores.ConditionalStore); ok && version != "" {
			return cs.DeleteIf(ctx, id, version)
		}
		return b.store.Delete(ctx, id)
	})
	if err != nil {
		return nil, s.fail("DeleteState", id, err)
	}
	return &iacpb.DeleteStateResponse{}, nil
}

// Lock takes the lock recording this serving process as the holder, so an
// inventory can tell later whether it is still alive.
func (s *Server) Lock(ctx context.Context, req *iacpb.LockRequest) (*iacpb.LockResponse, error) {
	b, done, err := s.useToChange("Lock", req.GetResourceId())
	if err != nil {
		return nil, err
	}
	defer done()
	err = s.lockCall(ctx, b, "Lock", req.GetResourceId(), func() error {
		return stores.LockFor(ctx, b.store, req.GetResourceId(), "lock via "+s.name+" gRPC backend")
	})
	if err != nil {
		return nil, s.fail("Lock", req.GetResourceId(), err)
	}
	return &iacpb.LockResponse{}, nil
}

// Unlock releases with the store's own Unlock semantics.
func (s *Server) Unlock(ctx context.Context, req *iacpb.UnlockRequest) (*iacpb.UnlockResponse, error) {
	b, done, err := s.useToChange("Unlock", req.GetResourceId())
	if err != nil {
		return nil, err
	}
	defer done()
	if err := s.lockCall(ctx, b, "Unlock", req.GetResourceId(), func() error { return b.store.Unlock(ctx, req.GetResourceId()) }); err != nil {
		return nil, s.fail("Unlock", req.GetResourceId(), err)
	}
	return &iacpb.UnlockResponse{}, nil
}
