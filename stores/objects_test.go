package stores

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"

	"go.uber.org/goleak"
)

func TestFetchParallel(t *testing.T) {
	defer goleak.VerifyNone(t)
	keys := make([]string, 500)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%03d", i)
	}
	fetch := func(_ context.Context, k string) Entry { return Entry{ID: k} }
	var got []string
	err := FetchParallel(context.Background(), keys, 8, fetch, func(b []Entry) error {
		for _, e := range b {
			got = append(got, e.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if len(got) != len(keys) || got[0] != "k000" || got[499] != "k499" {
		t.Fatalf("got %d entries", len(got))
	}

	stop := errors.New("stop")
	if err := FetchParallel(context.Background(), keys, 8, fetch, func([]Entry) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("yield error not returned: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := FetchParallel(ctx, keys, 8, fetch, func([]Entry) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
