package remote

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"statescope/remote/server"
	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

// statescopeBin is the real statescope binary, built once, that the plugin
// tests launch as `serve --plugin`.
var statescopeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "statescope-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	statescopeBin = filepath.Join(dir, "statescope")
	build := exec.Command("go", "build", "-o", statescopeBin, "statescope")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building statescope:", err)
		os.Exit(1)
	}
	Configure(Options{Log: io.Discard})
	code := m.Run()
	testserver.StopAll()
	os.RemoveAll(dir)
	os.Exit(code)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// serveStore serves st in this process on listen and stops it at cleanup.
func serveStore(t testing.TB, st stores.Store, opts server.Options, listen string) {
	t.Helper()
	l, err := server.Listen(listen)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Serve(ctx, l, server.New(st, opts), time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

func openFS(t testing.TB, dir string) stores.Store {
	t.Helper()
	st, err := filesystem.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// sockPath is a unix socket path short enough for sun_path.
func sockPath(t testing.TB) string {
	d, err := os.MkdirTemp("", "ss")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return filepath.Join(d, "s.sock")
}

func freeAddr(t testing.TB) string {
	port, err := testserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

func open(t testing.TB, target string) stores.Store {
	t.Helper()
	s, err := stores.Open(ctxT(t), target)
	if err != nil {
		t.Fatalf("open %s: %v", target, err)
	}
	return s
}

// pluginArgs is the query that launches statescope as a plugin over dir.
func pluginArgs(dir string, extra ...string) url.Values {
	q := url.Values{}
	for _, a := range append([]string{"serve", "--plugin", "--store", dir}, extra...) {
		q.Add("arg", a)
	}
	return q
}

// conformance runs the store suite over a transport; open returns a store
// reaching a fresh filesystem directory.
func conformance(t *testing.T, open func(t *testing.T, dir string) stores.Store) {
	var mu sync.Mutex
	dirs := map[stores.Store]string{}
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) stores.Store {
			dir := t.TempDir()
			s := open(t, dir)
			mu.Lock()
			dirs[s] = dir
			mu.Unlock()
			return s
		},
		Corrupt: func(t *testing.T, s stores.Store, id string) {
			mu.Lock()
			dir := dirs[s]
			mu.Unlock()
			if err := os.WriteFile(filepath.Join(dir, id+".json"), []byte("\x00garbage{"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		MaxRecordBytes: 4 << 20,
	})
}

func TestConformanceDirectUnix(t *testing.T) {
	conformance(t, func(t *testing.T, dir string) stores.Store {
		sock := sockPath(t)
		serveStore(t, openFS(t, dir), server.Options{}, "unix://"+sock)
		return open(t, "unix://"+sock)
	})
}

func TestConformanceDirectTCP(t *testing.T) {
	conformance(t, func(t *testing.T, dir string) stores.Store {
		addr := freeAddr(t)
		serveStore(t, openFS(t, dir), server.Options{RequireConfigure: true}, "tcp://"+addr)
		return open(t, "grpc://"+addr)
	})
}

func TestConformanceLocalPlugin(t *testing.T) {
	conformance(t, func(t *testing.T, dir string) stores.Store {
		return open(t, "plugin://"+statescopeBin+"?"+pluginArgs(dir, "--require-configure").Encode())
	})
}


