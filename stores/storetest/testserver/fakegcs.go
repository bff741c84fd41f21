package testserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"statescope/stores"
)

// FakeGCS is a running fake-gcs-server (filesystem backend: its memory
// backend scans linearly and is unusable for thousands of objects).
type FakeGCS struct {
	// Addr is host:port, the value for STORAGE_EMULATOR_HOST.
	Addr string
	// Endpoint is the JSON API base, for option.WithEndpoint.
	Endpoint string
}

var sharedFakeGCS Shared[*FakeGCS]

// SharedFakeGCS returns the fake-gcs-server of this test binary, starting it
// on first use; TestMain must call Main so it is stopped.
func SharedFakeGCS(t testing.TB) *FakeGCS {
	t.Helper()
	return sharedFakeGCS.Get(t, "fake-gcs-server", StartFakeGCS)
}

// StartFakeGCS starts a fake-gcs-server on a free loopback port and returns
// it with a function that stops it and removes its data.
func StartFakeGCS() (*FakeGCS, func(), error) {
	bin, err := Find("fake-gcs-server", "bin/fake-gcs-server")
	if err != nil {
		return nil, nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "statescope-fakegcs-")
	if err != nil {
		return nil, nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", Itoa(port))
	// -public-host must be the address clients use, or reads miss objects.
	args := []string{"-scheme", "http", "-host", "127.0.0.1", "-port", Itoa(port),
		"-public-host", addr, "-external-url", "http://" + addr,
		"-backend", "filesystem", "-filesystem-root", dir, "-log-level", "error"}
	proc, err := Start(bin, args, nil)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	stop := func() {
		proc.Stop(5 * time.Second)
		os.RemoveAll(dir)
	}
	if err := WaitTCP(addr, 15*time.Second, proc); err != nil {
		stop()
		return nil, nil, fmt.Errorf("fake-gcs-server: %w", err)
	}
	return &FakeGCS{Addr: addr, Endpoint: "http://" + addr + "/storage/v1/"}, stop, nil
}

// NewBucket creates an empty bucket with a random name. The emulator needs
// no auth, so a plain JSON API request does, and this package needs no SDK.
func (g *FakeGCS) NewBucket(t testing.TB) string {
	t.Helper()
	name := "t-" + stores.RandomHex(6)
	body, _ := json.Marshal(map[string]string{"name": name})
	ctx, cancel := Ctx(30 * time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.Endpoint+"b?project=statescope", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("fake-gcs-server: create bucket %s: %v", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		t.Fatalf("fake-gcs-server: create bucket %s: %s: %s", name, resp.Status, strings.TrimSpace(string(msg)))
	}
	return name
}
