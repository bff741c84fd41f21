package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"statescope/remote/client"
	"statescope/remote/proto/iacpb"
	"statescope/stores"
	"statescope/stores/storetest"
)

// fakePlugin answers like a stock workflow plugin (memory backend's
// message format, FailedPrecondition until configured) and records what
// it was sent.
type fakePlugin struct {
	iacpb.UnimplementedIaCStateBackendServer
	names []string

	mu        sync.Mutex
	config    map[string]any
	configFor string
	saved     *iacpb.IaCState
}

func (f *fakePlugin) ListBackendNames(context.Context, *iacpb.ListBackendNamesRequest) (*iacpb.ListBackendNamesResponse, error) {
	return &iacpb.ListBackendNamesResponse{BackendNames: f.names}, nil
}

func (f *fakePlugin) Configure(_ context.Context, req *iacpb.ConfigureRequest) (*iacpb.ConfigureResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.configFor = req.GetBackendName()
	return &iacpb.ConfigureResponse{}, json.Unmarshal(req.GetConfigJson(), &f.config)
}

func (f *fakePlugin) ready() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.config == nil {
		return status.Error(codes.FailedPrecondition, "iac state backend is not configured")
	}
	return nil
}

func (f *fakePlugin) SaveState(_ context.Context, req *iacpb.SaveStateRequest) (*iacpb.SaveStateResponse, error) {
	if err := f.ready(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.saved = req.GetState()
	f.mu.Unlock()
	return &iacpb.SaveStateResponse{}, nil
}

func (f *fakePlugin) GetState(_ context.Context, req *iacpb.GetStateRequest) (*iacpb.GetStateResponse, error) {
	if err := f.ready(); err != nil {
		return nil, err
	}
	if req.GetResourceId() == "null-maps" {
		return &iacpb.GetStateResponse{Exists: true, State: &iacpb.IaCState{ResourceId: "null-maps", OutputsJson: []byte("null"), ConfigJson: []byte("{}")}}, nil
	}
	return &iacpb.GetStateResponse{}, nil
}

func (f *fakePlugin) Lock(_ context.Context, req *iacpb.LockRequest) (*iacpb.LockResponse, error) {
	return nil, status.Errorf(codes.Unknown, "iac state store: Lock: resource %q already locked", req.GetResourceId())
}

func (f *fakePlugin) Unlock(_ context.Context, req *iacpb.UnlockRequest) (*iacpb.UnlockResponse, error) {
	return nil, status.Errorf(codes.Unknown, "iac state store: Unlock: resource %q not locked", req.GetResourceId())
}

func (f *fakePlugin) DeleteState(_ context.Context, req *iacpb.DeleteStateRequest) (*iacpb.DeleteStateResponse, error) {
	return nil, status.Errorf(codes.Unknown, "iac state store: DeleteState: resource %q not found", req.GetResourceId())
}

func connect(t *testing.T, f *fakePlugin, opts client.Options) (*client.Store, error) {
	t.Helper()
	l := bufconn.Listen(1 << 20)
	g := grpc.NewServer()
	iacpb.RegisterIaCStateBackendServer(g, f)
	go g.Serve(l)
	t.Cleanup(g.Stop)
	cc, err := grpc.NewClient("passthrough:///fake", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return l.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	opts.Close = cc.Close
	s, err := client.New(ctx(t), cc, opts)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	} else {
		cc.Close()
	}
	return s, err
}

// ctx bounds a call only by the run's deadline: a hang fails the test.
func ctx(t *testing.T) context.Context { return storetest.Patience(t) }

func TestConfiguresOnDemandAndMapsErrors(t *testing.T) {
	f := &fakePlugin{names: []string{"spaces"}}
	s, err := connect(t, f, client.Options{Config: map[string]any{"bucket": "b", "region": "fra1"}})
	if err != nil {
		t.Fatal(err)
	}
	st := &stores.State{ResourceID: "a", Status: "active", Config: map[string]any{}}
	if err := s.Save(ctx(t), st); err != nil {
		t.Fatal(err)
	}
	if f.configFor != "spaces" || f.config["backend"] != "spaces" || f.config["bucket"] != "b" {
		t.Errorf("Configure got %q %v", f.configFor, f.config)
	}
	if len(f.saved.GetOutputsJson()) != 0 || string(f.saved.GetConfigJson()) != "{}" {
		t.Errorf("nil outputs sent as %q, empty config as %q; want empty bytes and {}", f.saved.GetOutputsJson(), f.saved.GetConfigJson())
	}
	got, err := s.Get(ctx(t), "null-maps")
	if err != nil || got.Outputs != nil || got.Config == nil || len(got.Config) != 0 {
		t.Errorf("null / {} maps: %+v, %v", got, err)
	}
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"get", func() error { _, err := s.Get(ctx(t), "x"); return err }(), stores.ErrNotFound},
		{"lock", s.Lock(ctx(t), "x"), stores.ErrLocked},
		{"unlock", s.Unlock(ctx(t), "x"), stores.ErrNotLocked},
		{"delete", s.Delete(ctx(t), "x"), stores.ErrNotFound},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if _, err := s.Locks(ctx(t)); !errors.Is(err, stores.ErrUnsupported) {
		t.Errorf("inventory: %v", err)
	}
}

func TestChoosesBackend(t *testing.T) {
	if _, err := connect(t, &fakePlugin{names: []string{"s3", "gcs"}}, client.Options{}); err == nil || !strings.Contains(err.Error(), "several state backends (s3, gcs)") {
		t.Errorf("two backends, none named: %v", err)
	}
	s, err := connect(t, &fakePlugin{names: []string{"s3", "gcs"}}, client.Options{Backend: "gcs"})
	if err != nil || s.Backend() != "gcs" || s.Kind() != "gcs" {
		t.Errorf("named: %v", err)
	}
	if _, err := connect(t, &fakePlugin{}, client.Options{}); err == nil || !strings.Contains(err.Error(), "serves no state backend") {
		t.Errorf("no backend: %v", err)
	}
}

func TestTooLargeRefusedBeforeSending(t *testing.T) {
	f := &fakePlugin{names: []string{"s3"}}
	s, err := connect(t, f, client.Options{Config: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	big := &stores.State{ResourceID: "big", Outputs: map[string]any{"blob": strings.Repeat("x", 5<<20)}}
	err = s.Save(ctx(t), big)
	if !errors.Is(err, stores.ErrTooLarge) || !strings.Contains(err.Error(), "at most 4 MiB") {
		t.Errorf("5 MiB: %v", err)
	}
	if f.saved != nil {
		t.Error("the oversized record was sent")
	}
}
