// Package server serves any stores.Store as workflow's IaCStateBackend gRPC
// service, with upstream's error conventions, plus statescope's LockAdmin
// extension (lock inventory, compare-and-swap release, full listing).
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"sync/atomic"

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
	// expects; empty means DefaultBackendName(kind).
	BackendName string
	// RequireConfigure makes state RPCs fail with FailedPrecondition until
	// a client calls Configure, as a freshly started workflow plugin does.
	RequireConfigure bool
	// Log receives one line per failed call; nil discards.
	Log io.Writer
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

// Kind is the store's type as its description names it (filesystem, memory,
// s3…): what decides how a plain Unlock behaves.
func Kind(s stores.Store) string {
	f := strings.Fields(stores.Describe(s))
	if len(f) == 0 {
		return "unknown"
	}
	return strings.ToLower(strings.TrimSuffix(f[0], ":"))
}

// Server implements IaCStateBackend over one store.
type Server struct {
	iacpb.UnimplementedIaCStateBackendServer
	store            stores.Store
	name, kind       string
	requireConfigure bool
	configured       atomic.Bool
	log              *log.Logger
}

// New serves s.
func New(s stores.Store, opts Options) *Server {
	kind := Kind(s)
	name := opts.BackendName
	if name == "" {
		name = DefaultBackendName(kind)
	}
	w := opts.Log
	if w == nil {
		w = io.Discard
	}
	return &Server{store: s, name: name, kind: kind, requireConfigure: opts.RequireConfigure, log: log.New(w, "statescope serve: ", log.LstdFlags)}
}

// BackendName is the name this server answers to.
func (s *Server) BackendName() string { return s.name }

// Register adds IaCStateBackend and LockAdmin to a gRPC server.
func (s *Server) Register(r grpc.ServiceRegistrar) {
	iacpb.RegisterIaCStateBackendServer(r, s)
	lockadminpb.RegisterLockAdminServer(r, &admin{s: s})
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

func (s *Server) ready() error {
	if s.requireConfigure && !s.configured.Load() {
		return status.Errorf(codes.FailedPrecondition, "iac %s state backend is not configured", s.name)
	}
	return nil
}

// Configure accepts the served backend's own name; the store is already
// open, so the configuration is checked for being JSON and otherwise unused.
func (s *Server) Configure(_ context.Context, req *iacpb.ConfigureRequest) (*iacpb.ConfigureResponse, error) {
	if req.GetBackendName() != s.name {
		return nil, status.Errorf(codes.InvalidArgument, "backend %q is not served here; this server serves %q", req.GetBackendName(), s.name)
	}
	if _, err := wire.DecodeMap(req.GetConfigJson()); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "backend %q: config_json: %v", s.name, err)
	}
	s.configured.Store(true)
	return &iacpb.ConfigureResponse{}, nil
}

// ListBackendNames reports the one backend this server serves.
func (s *Server) ListBackendNames(context.Context, *iacpb.ListBackendNamesRequest) (*iacpb.ListBackendNamesResponse, error) {
	return &iacpb.ListBackendNamesResponse{BackendNames: []string{s.name}}, nil
}

// GetState answers exists=false for a missing record, as upstream does.
func (s *Server) GetState(ctx context.Context, req *iacpb.GetStateRequest) (*iacpb.GetStateResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	st, err := s.store.Get(ctx, req.GetResourceId())
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

// SaveState replaces the record.
func (s *Server) SaveState(ctx context.Context, req *iacpb.SaveStateRequest) (*iacpb.SaveStateResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	if req.GetState() == nil || req.GetState().GetResourceId() == "" {
		return nil, status.Errorf(codes.InvalidArgument, "iac %s state: SaveState: state with a resource_id is required", s.name)
	}
	st, err := wire.FromProto(req.GetState())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "iac %s state: SaveState %q: %v", s.name, req.GetState().GetResourceId(), err)
	}
	if err := s.store.Save(ctx, st); err != nil {
		return nil, s.fail("SaveState", st.ResourceID, err)
	}
	return &iacpb.SaveStateResponse{}, nil
}

// ListStates returns the readable records, skipping unreadable ones as
// upstream backends do; LockAdmin.StreamEntries reports those.
func (s *Server) ListStates(ctx context.Context, req *iacpb.ListStatesRequest) (*iacpb.ListStatesResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	entries, err := s.store.List(ctx, stores.FilterFromMap(req.GetFilter()))
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

// DeleteState removes a record; a missing one is "not found".
func (s *Server) DeleteState(ctx context.Context, req *iacpb.DeleteStateRequest) (*iacpb.DeleteStateResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	if err := s.store.Delete(ctx, req.GetResourceId()); err != nil {
		return nil, s.fail("DeleteState", req.GetResourceId(), err)
	}
	return &iacpb.DeleteStateResponse{}, nil
}

// Lock takes the lock recording this serving process as the holder, so an
// inventory can tell later whether it is still alive.
func (s *Server) Lock(ctx context.Context, req *iacpb.LockRequest) (*iacpb.LockResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	if err := stores.LockFor(ctx, s.store, req.GetResourceId(), "lock via "+s.name+" gRPC backend"); err != nil {
		return nil, s.fail("Lock", req.GetResourceId(), err)
	}
	return &iacpb.LockResponse{}, nil
}

// Unlock releases with the store's own Unlock semantics.
func (s *Server) Unlock(ctx context.Context, req *iacpb.UnlockRequest) (*iacpb.UnlockResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	if err := s.store.Unlock(ctx, req.GetResourceId()); err != nil {
		return nil, s.fail("Unlock", req.GetResourceId(), err)
	}
	return &iacpb.UnlockResponse{}, nil
}
