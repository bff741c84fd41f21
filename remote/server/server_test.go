package server_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"statescope/remote/proto/iacpb"
	"statescope/remote/proto/lockadminpb"
	"statescope/remote/server"
	"statescope/stores"
	"statescope/stores/memory"
	"statescope/stores/storetest"
)

// dial serves st and returns raw clients, as a workflow host would see it.
func dial(t *testing.T, st stores.Store, opts server.Options) (iacpb.IaCStateBackendClient, lockadminpb.LockAdminClient) {
	t.Helper()
	srv := server.New(st, opts)
	cc := connect(t, func(g *grpc.Server) { srv.Register(g) })
	return iacpb.NewIaCStateBackendClient(cc), lockadminpb.NewLockAdminClient(cc)
}

// connect serves what register adds and connects to it.
func connect(t *testing.T, register func(*grpc.Server)) *grpc.ClientConn {
	t.Helper()
	l := bufconn.Listen(1 << 20)
	g := grpc.NewServer()
	register(g)
	go g.Serve(l)
	t.Cleanup(g.Stop)
	cc, err := grpc.NewClient("passthrough:///bufconn", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return l.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

// ctx bounds a call only by the run's deadline: a hang fails the test.
func ctx(t *testing.T) context.Context { return storetest.Patience(t) }

func wantStatus(t *testing.T, what string, err error, code codes.Code, text string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code || st.Message() != text {
		t.Errorf("%s: %v %q, want %v %q", what, st.Code(), st.Message(), code, text)
	}
}

// The upstream conventions: Unknown with "iac <backend> state: <Op> "<id>": …".
func TestErrorConventions(t *testing.T) {
	c, _ := dial(t, memory.New(), server.Options{})
	resp, err := c.GetState(ctx(t), &iacpb.GetStateRequest{ResourceId: "nope"})
	if err != nil || resp.GetExists() || resp.GetState() != nil {
		t.Errorf("get missing: %v %v", resp, err)
	}
	_, err = c.DeleteState(ctx(t), &iacpb.DeleteStateRequest{ResourceId: "nope"})
	wantStatus(t, "delete missing", err, codes.Unknown, `iac statescope-memory state: DeleteState "nope": not found`)
	_, err = c.Unlock(ctx(t), &iacpb.UnlockRequest{ResourceId: "a"})
	wantStatus(t, "unlock unheld", err, codes.Unknown, `iac statescope-memory state: Unlock "a": not locked`)
	if _, err := c.Lock(ctx(t), &iacpb.LockRequest{ResourceId: "a"}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Lock(ctx(t), &iacpb.LockRequest{ResourceId: "a"})
	wantStatus(t, "lock held", err, codes.Unknown, `iac statescope-memory state: Lock "a": resource is already locked`)
	_, err = c.SaveState(ctx(t), &iacpb.SaveStateRequest{State: &iacpb.IaCState{}})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("save without an ID: %v", err)
	}
}

func TestConfigure(t *testing.T) {
	c, _ := dial(t, memory.New(), server.Options{BackendName: "ops", RequireConfigure: true})
	_, err := c.GetState(ctx(t), &iacpb.GetStateRequest{ResourceId: "x"})
	wantStatus(t, "before Configure", err, codes.FailedPrecondition, "iac ops state backend is not configured")
	names, err := c.ListBackendNames(ctx(t), &iacpb.ListBackendNamesRequest{})
	if err != nil || len(names.GetBackendNames()) != 1 || names.GetBackendNames()[0] != "ops" {
		t.Errorf("names: %v %v", names, err)
	}
	_, err = c.Configure(ctx(t), &iacpb.ConfigureRequest{BackendName: "s3", ConfigJson: []byte(`{}`)})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), `"s3" is not served here`) {
		t.Errorf("wrong name: %v", err)
	}
	_, err = c.Configure(ctx(t), &iacpb.ConfigureRequest{BackendName: "ops", ConfigJson: []byte(`{"backend":`)})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad JSON: %v", err)
	}
	if _, err := c.Configure(ctx(t), &iacpb.ConfigureRequest{BackendName: "ops", ConfigJson: []byte(`{"backend":"ops"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetState(ctx(t), &iacpb.GetStateRequest{ResourceId: "x"}); err != nil {
		t.Errorf("after Configure: %v", err)
	}
}

// §4.3: empty, null and {} map payloads are all accepted; nil goes back as
// empty bytes and {} as {}.
func TestMapPayloads(t *testing.T) {
	c, _ := dial(t, memory.New(), server.Options{})
	for id, payload := range map[string][]byte{"empty": nil, "null": []byte("null"), "obj": []byte("{}")} {
		st := &iacpb.IaCState{ResourceId: id, Status: "active", OutputsJson: payload, ConfigJson: payload}
		if _, err := c.SaveState(ctx(t), &iacpb.SaveStateRequest{State: st}); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		got, err := c.GetState(ctx(t), &iacpb.GetStateRequest{ResourceId: id})
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		if id == "obj" {
			want = "{}"
		}
		if string(got.GetState().GetOutputsJson()) != want || string(got.GetState().GetConfigJson()) != want {
			t.Errorf("%s came back as %q / %q, want %q", id, got.GetState().GetOutputsJson(), got.GetState().GetConfigJson(), want)
		}
	}
	_, err := c.SaveState(ctx(t), &iacpb.SaveStateRequest{State: &iacpb.IaCState{ResourceId: "bad", OutputsJson: []byte("[1]")}})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("outputs that are not an object: %v", err)
	}
}

func TestLockAdminCodes(t *testing.T) {
	c, a := dial(t, memory.New(), server.Options{})
	_, err := a.ForceUnlock(ctx(t), &lockadminpb.ForceUnlockRequest{ResourceId: "x", Token: "t"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("nothing locked: %v, want NotFound", err)
	}
	if _, err := c.Lock(ctx(t), &iacpb.LockRequest{ResourceId: "x"}); err != nil {
		t.Fatal(err)
	}
	_, err = a.ForceUnlock(ctx(t), &lockadminpb.ForceUnlockRequest{ResourceId: "x", Token: "stale"})
	if status.Code(err) != codes.Aborted {
		t.Errorf("wrong token: %v, want Aborted", err)
	}
	d, err := a.Describe(ctx(t), &lockadminpb.DescribeRequest{})
	if err != nil || d.GetKind() != "memory" || d.GetBackendName() != "statescope-memory" || !d.GetLockInventory() {
		t.Errorf("describe: %v %v", d, err)
	}
}
