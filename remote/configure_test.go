package remote

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os/exec"
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

// serveStock serves dir as a stock workflow plugin does: the contract's
// RPCs only, no LockAdmin, so no lock inventory.
func serveStock(t *testing.T, dir string) (sock string) {
	t.Helper()
	sock = sockPath(t)
	l, err := server.Listen("unix://" + sock)
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	iacpb.RegisterIaCStateBackendServer(g, server.New(openFS(t, dir), server.Options{BackendName: "s3"}))
	serveOn(t, l, g)
	return sock
}

// runCLI runs the statescope binary and returns stdout, stderr and the
// exit code.
func runCLI(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(statescopeBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return stdout.String(), stderr.String(), ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), 0
}

// Through a plugin without a lock inventory, whether a record is locked is
// unknown: `list -o json` says null, never false, even for a locked record.
func TestListLockedUnknownWithoutInventory(t *testing.T) {
	dir := t.TempDir()
	sock := serveStock(t, dir)
	s := open(t, "unix://"+sock)
	ctx := ctxT(t)
	for _, id := range []string{"free", "held"} {
		if err := s.Save(ctx, storetest.Record(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Lock(ctx, "held"); err != nil {
		t.Fatal(err)
	}
	stores.Close(s)
	locked := func(target string) map[string]any {
		out, stderr, code := runCLI(t, "", "list", "-o", "json", "--store", target)
		var items []map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &items) != nil {
			t.Fatalf("list -o json: exit %d: %s %s", code, out, stderr)
		}
		got := map[string]any{}
		for _, it := range items {
			got[it["resource_id"].(string)] = it["locked"]
		}
		return got
	}
	if got := locked("unix://" + sock); got["free"] != nil || got["held"] != nil || len(got) != 2 {
		t.Errorf("without an inventory: locked = %v, want null for both", got)
	}
	if got := locked(dir); got["free"] != false || got["held"] != true {
		t.Errorf("with an inventory: locked = %v", got)
	}
	if out, _, _ := runCLI(t, "", "list", "--store", "unix://"+sock); !strings.Contains(out, "?") {
		t.Errorf("the table shows a lock it cannot know: %s", out)
	}
}
