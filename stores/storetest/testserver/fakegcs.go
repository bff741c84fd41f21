package testserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
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
	addr, stop, err := Launch(Daemon{
		Name: "fake-gcs-server", Candidates: []string{"bin/fake-gcs-server"}, Ready: StartupTimeout,
		// -public-host must be the address clients use, or reads miss objects.
		Args: func(addr string, port int, dir string) []string {
			return []string{"-scheme", "http", "-host", "127.0.0.1", "-port", Itoa(port),
				"-public-host", addr, "-external-url", "http://" + addr,
				"-backend", "filesystem", "-filesystem-root", dir, "-log-level", "error"}
		},
	})
	if err != nil {
		return nil, nil, err
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
