package remote

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"

	"statescope/remote/proto/iacpb"
	"statescope/remote/server"
	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/storetest"
)

// defaulting serves a default store until Configure names a directory,
// as plugins built on workflow's SDK may: nothing tells a client that the
// answers come from the wrong store.
type defaulting struct {
	iacpb.UnimplementedIaCStateBackendServer
	t          *testing.T
	mu         sync.Mutex
	cur        *server.Server
	configured []string
}

func (d *defaulting) srv() *server.Server {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cur
}

func (d *defaulting) Configure(ctx context.Context, req *iacpb.ConfigureRequest) (*iacpb.ConfigureResponse, error) {
	var cfg struct{ Directory string }
	if err := json.Unmarshal(req.GetConfigJson(), &cfg); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.configured = append(d.configured, cfg.Directory)
	d.cur = server.New(openFS(d.t, cfg.Directory), server.Options{BackendName: "sdk"})
	return &iacpb.ConfigureResponse{}, nil
}

func (d *defaulting) ListBackendNames(ctx context.Context, r *iacpb.ListBackendNamesRequest) (*iacpb.ListBackendNamesResponse, error) {
	return d.srv().ListBackendNames(ctx, r)
}

func (d *defaulting) GetState(ctx context.Context, r *iacpb.GetStateRequest) (*iacpb.GetStateResponse, error) {
	return d.srv().GetState(ctx, r)
}

func (d *defaulting) SaveState(ctx context.Context, r *iacpb.SaveStateRequest) (*iacpb.SaveStateResponse, error) {
	return d.srv().SaveState(ctx, r)
}

func (d *defaulting) ListStates(ctx context.Context, r *iacpb.ListStatesRequest) (*iacpb.ListStatesResponse, error) {
	return d.srv().ListStates(ctx, r)
}

// When the target carries configuration, Configure goes first, before any
// state call; without any, the plugin's default is used as before.
func TestConfigureFirst(t *testing.T) {
	def, want := t.TempDir(), t.TempDir()
	d := &defaulting{t: t, cur: server.New(openFS(t, def), server.Options{BackendName: "sdk"})}
	sock := sockPath(t)
	l, err := server.Listen("unix://" + sock)
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	iacpb.RegisterIaCStateBackendServer(g, d)
	serveOn(t, l, g)

	s := open(t, "unix://"+sock+"?cfg.directory="+url.QueryEscape(want))
	if err := s.Save(ctxT(t), storetest.Record("configured")); err != nil {
		t.Fatal(err)
	}
	stores.Close(s)
	if got, err := filesystem.Open(want); err != nil {
		t.Fatal(err)
	} else if _, err := got.Get(ctxT(t), "configured"); err != nil {
		t.Errorf("the record did not reach the configured directory: %v (Configure calls: %q)", err, d.configured)
	}

	before := len(d.configured)
	plain := open(t, "unix://"+sock)
	defer stores.Close(plain)
	if _, err := plain.List(ctxT(t), stores.Filter{}); err != nil {
		t.Fatal(err)
	}
	if len(d.configured) != before {
		t.Errorf("a target without configuration sent Configure: %q", d.configured[before:])
	}
}

// Messages mask only the secret-looking configuration: a directory stays
// readable, a key or a password in a URL does not.
func TestConfigMaskedSelectively(t *testing.T) {
	err := openErr(t, `unix:///no/such.sock?cfg.directory=/var/lib/state&cfg.secret_key=s3cr3t&cfg.endpoint=https://u:pw@h&bogus=1&config={"bucket":"b","access_key":"AK"}`)
	if err == nil {
		t.Fatal("opened a target with an unknown parameter")
	}
	msg, _ := url.QueryUnescape(err.Error())
	for _, shown := range []string{"/var/lib/state", `"bucket":"b"`} {
		if !strings.Contains(msg, shown) {
			t.Errorf("%q is masked: %s", shown, msg)
		}
	}
	for _, hidden := range []string{"s3cr3t", "pw@", "AK"} {
		if strings.Contains(msg, hidden) {
			t.Errorf("%q is shown: %s", hidden, msg)
		}
	}
}
