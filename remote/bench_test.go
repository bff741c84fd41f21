package remote

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"statescope/remote/server"
	"statescope/stores"
	"statescope/stores/memory"
	"statescope/stores/storetest"
)

const benchRecords = 10_000

// benchTargets serves one memory store of 10,000 records and returns it
// in-process, over direct unix gRPC and over SSH-tunnelled gRPC.
func benchTargets(b *testing.B) []struct {
	name  string
	store stores.Store
} {
	sshHost(b)
	mem := memory.New()
	ctx := context.Background()
	for i := range benchRecords {
		if err := mem.Save(ctx, storetest.Record(fmt.Sprintf("res-%05d", i))); err != nil {
			b.Fatal(err)
		}
	}
	sock := sockPath(b)
	serveStore(b, mem, server.Options{}, "unix://"+sock)
	direct := open(b, "unix://"+sock)
	tunnelled := open(b, "ssh://sshd?socket="+url.QueryEscape(sock))
	b.Cleanup(func() { stores.Close(direct); stores.Close(tunnelled) })
	return []struct {
		name  string
		store stores.Store
	}{{"inprocess", mem}, {"unix", direct}, {"ssh", tunnelled}}
}

func BenchmarkList10000(b *testing.B) {
	for _, tc := range benchTargets(b) {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				entries, err := tc.store.List(context.Background(), stores.Filter{})
				if err != nil || len(entries) != benchRecords {
					b.Fatalf("%d entries, %v", len(entries), err)
				}
			}
		})
	}
}

var errFirst = errors.New("first batch")

func BenchmarkFirstRecord10000(b *testing.B) {
	for _, tc := range benchTargets(b) {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				err := stores.Stream(context.Background(), tc.store, stores.Filter{}, func([]stores.Entry) error { return errFirst })
				if !errors.Is(err, errFirst) {
					b.Fatal(err)
				}
			}
		})
	}
}
