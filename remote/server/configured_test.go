package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"statescope/remote/proto/iacpb"
	"statescope/remote/proto/lockadminpb"
	"statescope/remote/proto/pluginpb"
	"statescope/remote/server"
	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/storetest"
)

// closeTracked records which opened stores were closed.
type closeTracked struct {
	stores.Store
	mu     *sync.Mutex
	closed map[string]bool
	target string
}

func (c closeTracked) Describe() string { return stores.Describe(c.Store) }

func (c closeTracked) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed[c.target] = true
	return nil
}

// A server whose store comes from Configure, as a workflow host starts it.
func TestConfiguredStore(t *testing.T) {
	var (
		mu     sync.Mutex
		opened []string
		closed = map[string]bool{}
	)
	open := func(_ context.Context, target string) (stores.Store, error) {
		st, err := filesystem.Open(target)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		opened = append(opened, target)
		return closeTracked{Store: st, mu: &mu, closed: closed, target: target}, nil
	}
	srv := server.NewConfigured(open, server.Options{})
	cc := connect(t, srv.RegisterPlugin)
	c, a := iacpb.NewIaCStateBackendClient(cc), lockadminpb.NewLockAdminClient(cc)

	names, err := c.ListBackendNames(ctx(t), &iacpb.ListBackendNamesRequest{})
	if err != nil || strings.Join(names.GetBackendNames(), ",") != server.HostBackendName {
		t.Fatalf("names before Configure: %v %v", names, err)
	}
	_, err = c.GetState(ctx(t), &iacpb.GetStateRequest{ResourceId: "x"})
	wantStatus(t, "before Configure", err, codes.FailedPrecondition, "iac statescope state backend is not configured")
	_, err = a.ListLocks(ctx(t), &lockadminpb.ListLocksRequest{})
	wantStatus(t, "locks before Configure", err, codes.FailedPrecondition, "iac statescope state backend is not configured")
	if d, err := a.Describe(ctx(t), &lockadminpb.DescribeRequest{}); err != nil || d.GetBackendName() != "statescope" || d.GetKind() != "" {
		t.Errorf("describe before Configure: %v %v", d, err)
	}

	dirA, dirB := t.TempDir(), t.TempDir()
	for what, cfg := range map[string]string{
		"no store":      `{"backend":"statescope"}`,
		"empty":         ``,
		"both keys":     `{"store":"` + dirA + `","directory":"` + dirB + `"}`,
		"relative dir":  `{"directory":"state"}`,
		"relative path": `{"store":"state"}`,
		"missing dir":   `{"store":"` + filepath.Join(dirA, "nope") + `"}`,
		"not a string":  `{"store":5}`,
		"bad JSON":      `{"store":`,
	} {
		_, err := c.Configure(ctx(t), &iacpb.ConfigureRequest{BackendName: "statescope", ConfigJson: []byte(cfg)})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", what, err)
		}
	}
	_, err = c.Configure(ctx(t), &iacpb.ConfigureRequest{BackendName: "filesystem", ConfigJson: []byte(`{"store":"` + dirA + `"}`)})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("wrong backend name: %v", err)
	}

	configure := func(cfg string) {
		t.Helper()
		if _, err := c.Configure(ctx(t), &iacpb.ConfigureRequest{BackendName: "statescope", ConfigJson: []byte(cfg)}); err != nil {
			t.Fatalf("Configure %s: %v", cfg, err)
		}
	}
	configure(`{"backend":"statescope","store":"` + dirA + `"}`)
	if _, err := c.SaveState(ctx(t), &iacpb.SaveStateRequest{State: &iacpb.IaCState{ResourceId: "a/1", Status: "active"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lock(ctx(t), &iacpb.LockRequest{ResourceId: "a/1"}); err != nil {
		t.Fatal(err)
	}
	// A second iac.state module with the same config keeps the open store.
	configure(`{"backend":"statescope","store":"` + dirA + `"}`)
	if _, err := c.Lock(ctx(t), &iacpb.LockRequest{ResourceId: "a/1"}); status.Code(err) != codes.Unknown {
		t.Errorf("lock after the same Configure: %v, want the held lock", err)
	}
	// The filesystem keys work too, matched case-insensitively; the last
	// Configure wins and the replaced store is closed.
	configure(`{"backend":"statescope","Directory":"` + dirB + `"}`)
	if got, err := c.GetState(ctx(t), &iacpb.GetStateRequest{ResourceId: "a/1"}); err != nil || got.GetExists() {
		t.Errorf("a/1 in the second store: %v %v", got, err)
	}
	if d, err := a.Describe(ctx(t), &lockadminpb.DescribeRequest{}); err != nil || d.GetKind() != "filesystem" || !strings.Contains(d.GetStore(), dirB) {
		t.Errorf("describe after Configure: %v %v", d, err)
	}
	if entries, _ := os.ReadDir(dirA); len(entries) != 2 {
		t.Errorf("first store holds %v, want the record and its lock", entries)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(opened) != 2 || !closed[dirA] || !closed[dirB] {
		t.Errorf("opened %v, closed %v; want each store opened once and closed", opened, closed)
	}
}

// The bridge a host queries after the handshake.
func TestPluginService(t *testing.T) {
	srv := server.NewConfigured(nil, server.Options{})
	cc := connect(t, srv.RegisterPlugin)
	p := pluginpb.NewPluginServiceClient(cc)
	if _, err := p.GetManifest(ctx(t), &emptypb.Empty{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("GetManifest: %v, want Unimplemented (the host reads plugin.json)", err)
	}
	if tt, err := p.GetTriggerTypes(ctx(t), &emptypb.Empty{}); err != nil || len(tt.GetTypes()) != 0 {
		t.Errorf("GetTriggerTypes: %v %v", tt, err)
	}
	// LockAdmin and PluginService are not workflow IaC services: left out.
	reg, err := p.GetContractRegistry(ctx(t), &emptypb.Empty{})
	if err != nil || len(reg.GetContracts()) != 1 {
		t.Fatalf("GetContractRegistry: %v %v", reg, err)
	}
	d := reg.GetContracts()[0]
	if d.GetKind() != pluginpb.ContractKind_CONTRACT_KIND_SERVICE || d.GetServiceName() != iacpb.IaCStateBackend_ServiceDesc.ServiceName ||
		d.GetMode() != pluginpb.ContractMode_CONTRACT_MODE_STRICT_PROTO {
		t.Errorf("descriptor %v", d)
	}
}

// blockingGet holds Get until release closes, to keep a call in flight.
type blockingGet struct {
	closeTracked
	entered chan struct{}
	release chan struct{}
}

func (b blockingGet) Get(ctx context.Context, id string) (*stores.State, error) {
	close(b.entered)
	<-b.release
	return b.closeTracked.Get(ctx, id)
}

// A store replaced by a later Configure is closed only when the calls
// still using it have ended.
func TestReplacedStoreClosedAfterItsCalls(t *testing.T) {
	var mu sync.Mutex
	closed := map[string]bool{}
	first, second := t.TempDir(), t.TempDir()
	entered, release := make(chan struct{}), make(chan struct{})
	open := func(_ context.Context, target string) (stores.Store, error) {
		st, err := filesystem.Open(target)
		if err != nil {
			return nil, err
		}
		ct := closeTracked{Store: st, mu: &mu, closed: closed, target: target}
		if target == first {
			return blockingGet{closeTracked: ct, entered: entered, release: release}, nil
		}
		return ct, nil
	}
	c := iacpb.NewIaCStateBackendClient(connect(t, server.NewConfigured(open, server.Options{}).RegisterPlugin))
	configure := func(dir string) {
		t.Helper()
		if _, err := c.Configure(ctx(t), &iacpb.ConfigureRequest{BackendName: "statescope", ConfigJson: []byte(`{"directory":"` + dir + `"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	configure(first)
	got, callCtx := make(chan error, 1), ctx(t)
	go func() {
		_, err := c.GetState(callCtx, &iacpb.GetStateRequest{ResourceId: "x"})
		got <- err
	}()
	<-entered
	configure(second)
	isClosed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return closed[first]
	}
	if isClosed() {
		t.Fatal("the first store was closed under a running call")
	}
	close(release)
	if err := <-got; err != nil {
		t.Errorf("the call in flight: %v", err)
	}
	if !storetest.Await(t, isClosed) {
		t.Error("the replaced store was never closed")
	}
}
