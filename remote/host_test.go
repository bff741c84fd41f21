package remote

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"statescope/remote/plugin"
	"statescope/remote/proto/iacpb"
	"statescope/remote/proto/lockadminpb"
	"statescope/remote/proto/pluginpb"
	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/storetest"
)

// installStatescope lays statescope out as workflow installs a plugin:
// <dir>/statescope/statescope beside plugin.json. The binary is a wrapper
// passing args to the real one; workflow itself passes none.
func installStatescope(t *testing.T, args ...string) (dir string) {
	t.Helper()
	dir = t.TempDir()
	pdir := filepath.Join(dir, "statescope")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper := fmt.Sprintf("#!/bin/sh\nexec %s %s \"$@\"\n", statescopeBin, strings.Join(args, " "))
	manifest, err := json.Marshal(map[string]any{
		"name": "statescope", "version": "0.1.0", "author": "statescope",
		"description":  "workflow IaC state served from a statescope target",
		"capabilities": map[string]any{"iacStateBackends": []string{"statescope"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pdir, "statescope"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pdir, "plugin.json"), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// launchInstalled discovers statescope in dir as workflow does and starts
// it the way workflow does: no arguments, in its own directory.
func launchInstalled(t *testing.T, dir string) (*plugin.Process, installed, error) {
	t.Helper()
	all, err := discover(dir)
	if err != nil || len(all) != 1 || all[0].name != "statescope" {
		t.Fatalf("discovered %+v, %v; want statescope", all, err)
	}
	p := all[0]
	cmd := exec.Command(p.binary)
	cmd.Dir = filepath.Dir(p.binary)
	proc, err := plugin.Launch(ctxT(t), plugin.Config{Cmd: cmd, Log: io.Discard})
	if err == nil {
		t.Cleanup(func() { proc.Close() })
	}
	return proc, p, err
}

// playHost makes the calls workflow's host makes when it loads a state
// backend plugin and an iac.state module uses it, checking each answer.
func playHost(t *testing.T, cc *grpc.ClientConn, declared []string, stateDir string) {
	t.Helper()
	ctx := ctxT(t)
	ps := pluginpb.NewPluginServiceClient(cc)
	if _, err := ps.GetManifest(ctx, &emptypb.Empty{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("GetManifest: %v, want Unimplemented so the host reads plugin.json", err)
	}
	if tt, err := ps.GetTriggerTypes(ctx, &emptypb.Empty{}); err != nil || len(tt.GetTypes()) != 0 {
		t.Errorf("GetTriggerTypes: %v %v, want none", tt, err)
	}
	reg, err := ps.GetContractRegistry(ctx, &emptypb.Empty{})
	if err != nil {
		t.Fatalf("GetContractRegistry: %v", err)
	}
	if !slices.ContainsFunc(reg.GetContracts(), func(d *pluginpb.ContractDescriptor) bool {
		return d.GetKind() == pluginpb.ContractKind_CONTRACT_KIND_SERVICE && d.GetServiceName() == "workflow.plugin.external.iac.IaCStateBackend"
	}) {
		t.Fatalf("contract registry %v does not advertise IaCStateBackend", reg)
	}

	iac := iacpb.NewIaCStateBackendClient(cc)
	resp, err := iac.ListBackendNames(ctx, &iacpb.ListBackendNamesRequest{})
	names := slices.Sorted(slices.Values(resp.GetBackendNames()))
	if err != nil || len(names) == 0 || !slices.Equal(names, slices.Sorted(slices.Values(declared))) {
		t.Fatalf("ListBackendNames: %v %v; plugin.json declares %v", names, err, declared)
	}
	name := names[0]

	_, err = iac.GetState(ctx, &iacpb.GetStateRequest{ResourceId: "net/vpc"})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "backend is not configured") {
		t.Errorf("GetState before Configure: %v, want FailedPrecondition", err)
	}
	cfg := []byte(fmt.Sprintf(`{"backend":%q,"store":%q}`, name, stateDir))
	if _, err := iac.Configure(ctx, &iacpb.ConfigureRequest{BackendName: "spaces", ConfigJson: cfg}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("Configure of another backend: %v, want InvalidArgument", err)
	}
	// The host sends the iac.state module's whole config map.
	if _, err := iac.Configure(ctx, &iacpb.ConfigureRequest{BackendName: name, ConfigJson: cfg}); err != nil {
		t.Fatalf("Configure: %v", err)
	}

	st := &iacpb.IaCState{ResourceId: "net/vpc", ResourceType: "infra.vpc", Provider: "digitalocean", Status: "active", OutputsJson: []byte(`{"id":"vpc-1"}`)}
	if _, err := iac.SaveState(ctx, &iacpb.SaveStateRequest{State: st}); err != nil {
		t.Fatalf("SaveState: %v", err)
	}
	got, err := iac.GetState(ctx, &iacpb.GetStateRequest{ResourceId: "net/vpc"})
	if err != nil || !got.GetExists() || !strings.Contains(string(got.GetState().GetOutputsJson()), "vpc-1") {
		t.Errorf("GetState: %v %v", got, err)
	}
	list, err := iac.ListStates(ctx, &iacpb.ListStatesRequest{Filter: map[string]string{"provider": "digitalocean"}})
	if err != nil || len(list.GetStates()) != 1 {
		t.Errorf("ListStates: %v %v", list, err)
	}
	if _, err := iac.Lock(ctx, &iacpb.LockRequest{ResourceId: "net/vpc"}); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if _, err := iac.Lock(ctx, &iacpb.LockRequest{ResourceId: "net/vpc"}); status.Code(err) != codes.Unknown || !strings.Contains(err.Error(), "already locked") {
		t.Errorf("second Lock: %v, want Unknown … already locked", err)
	}

	// The state lands in the directory, readable as workflow's filesystem store.
	fs, err := filesystem.Open(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := fs.Get(ctx, "net/vpc"); err != nil || rec.Outputs["id"] != "vpc-1" {
		t.Errorf("record on disk: %v %v", rec, err)
	}
	if locks, err := fs.Locks(ctx); err != nil || len(locks) != 1 || locks[0].ResourceID != "net/vpc" {
		t.Errorf("locks on disk: %v %v", locks, err)
	}
	if _, err := iac.Unlock(ctx, &iacpb.UnlockRequest{ResourceId: "net/vpc"}); err != nil {
		t.Errorf("Unlock: %v", err)
	}
	if locks, err := fs.Locks(ctx); err != nil || len(locks) != 0 {
		t.Errorf("locks on disk after Unlock: %v %v", locks, err)
	}
}

// statescope installed in a workflow plugin directory, its store named by
// the host's Configure: what workflow's loader sees, then statescope's own
// plugin:// target finding it by backend name.
func TestHostLoadsInstalledPlugin(t *testing.T) {
	dir := installStatescope(t, "serve", "--plugin")
	proc, p, err := launchInstalled(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.backends, []string{"statescope"}) {
		t.Errorf("plugin.json backends %v", p.backends)
	}
	playHost(t, proc.Conn, p.backends, t.TempDir())

	t.Cleanup(func() { Configure(Options{Log: io.Discard}) })
	Configure(Options{PluginDir: dir, Log: io.Discard})
	state := t.TempDir()
	s := open(t, "plugin://?backend=statescope&cfg.store="+url.QueryEscape(state))
	defer stores.Close(s)
	ctx := ctxT(t)
	if err := s.Save(ctx, storetest.Record("found")); err != nil {
		t.Fatal(err)
	}
	if err := s.Lock(ctx, "found"); err != nil {
		t.Fatal(err)
	}
	if locks, err := s.(stores.LockLister).Locks(ctx); err != nil || len(locks) != 1 {
		t.Errorf("inventory through the host-configured plugin: %v %v", locks, err)
	}
	if entries, _ := os.ReadDir(state); len(entries) != 2 {
		t.Errorf("state directory holds %v, want the record and its lock", entries)
	}
}

// workflow starts the binary itself, with no arguments and the cookie set.
func TestHostStartsPluginWithoutArguments(t *testing.T) {
	dir := installStatescope(t)
	proc, p, err := launchInstalled(t, dir)
	if err != nil {
		t.Fatalf("statescope started as workflow starts a plugin: %v", err)
	}
	playHost(t, proc.Conn, p.backends, t.TempDir())
}

// A plugin stops on SIGTERM (a host's service manager stopping everything)
// instead of waiting for a Shutdown that will not come.
func TestPluginStopsOnSIGTERM(t *testing.T) {
	cmd := exec.Command(statescopeBin, "serve", "--plugin")
	proc, err := plugin.Launch(ctxT(t), plugin.Config{Cmd: cmd, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Close()
	d, err := lockadminpb.NewLockAdminClient(proc.Conn).Describe(ctxT(t), &lockadminpb.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	pid := int(d.GetPid())
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !storetest.Await(t, func() bool { return !stores.ProcessAlive(pid) }) {
		t.Errorf("plugin pid %d ignored SIGTERM", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
}
