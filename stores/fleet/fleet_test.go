package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"statescope/stores"
	"statescope/stores/config"
	"statescope/stores/fleet"
	_ "statescope/stores/memory"
)

// gates lets a test hold a "slow://NAME" store's open until it says so;
// "hang://" never answers and ignores its context.
var gates sync.Map // name → chan struct{}

func init() {
	stores.Register("slow", "slow://NAME (test)", func(ctx context.Context, t stores.Target) (stores.Store, error) {
		g, _ := gates.Load(t.URL.Host)
		select {
		case <-g.(chan struct{}):
			return stores.Open(ctx, "mem://")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	stores.Register("hang", "hang:// (test)", func(context.Context, stores.Target) (stores.Store, error) {
		select {}
	})
}

func TestSlowAndUnreachableDoNotHoldUpTheOthers(t *testing.T) {
	release := make(chan struct{})
	gates.Store("slow", release)
	cfg := &config.Config{Contexts: map[string]config.Context{
		"a-slow": {Store: "slow://slow"},
		"b-down": {Store: "hang://"},
		"c-gone": {Store: "/nonexistent/statescope/dir"},
		"d-ok":   {Store: "mem://"},
		"e-ok":   {Store: "mem://"},
	}}
	members, err := fleet.Select(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	errs := map[string]error{}
	// The slow and the hanging context hold two of the three slots; the
	// others must still all answer first.
	fleet.Run(context.Background(), members, fleet.Options{Parallel: 3, Timeout: time.Second},
		func(ctx context.Context, m fleet.Member) (int, error) {
			s, err := fleet.Open(ctx, m)
			if err != nil {
				return 0, err
			}
			defer stores.Close(s)
			entries, err := s.List(ctx, stores.Filter{})
			return len(entries), err
		},
		func(m fleet.Member, _ int, err error) {
			order = append(order, m.Name)
			errs[m.Name] = err
			if len(order) == 3 {
				close(release) // the others have answered: now the slow one may
			}
		})
	if len(order) != 5 || slices.Contains(order[:3], "a-slow") || slices.Contains(order[:3], "b-down") {
		t.Fatalf("reported in order %v; the slow and hanging contexts must not hold up the others", order)
	}
	if !errors.Is(errs["b-down"], fleet.ErrTimeout) {
		t.Errorf("hanging context: %v, want ErrTimeout", errs["b-down"])
	}
	if errs["c-gone"] == nil || errs["d-ok"] != nil || errs["e-ok"] != nil {
		t.Errorf("errors %v", errs)
	}
	if errs["a-slow"] != nil && !errors.Is(errs["a-slow"], fleet.ErrTimeout) {
		t.Errorf("slow context: %v", errs["a-slow"])
	}
}

func TestCancelledRunLeaksNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	release := make(chan struct{})
	gates.Store("held", release)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel) // mid-run; the outcome is the same either way
	members := []fleet.Member{{Name: "a", Target: "slow://held"}, {Name: "b", Target: "slow://held"}, {Name: "c", Target: "slow://held"}}
	n := 0
	fleet.Run(ctx, members, fleet.Options{Parallel: 1, Timeout: time.Hour}, func(ctx context.Context, m fleet.Member) (stores.Store, error) {
		return fleet.Open(ctx, m)
	}, func(_ fleet.Member, _ stores.Store, err error) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err %v, want context.Canceled", err)
		}
		n++
	})
	if n != 3 {
		t.Fatalf("%d reported", n)
	}
}

func TestOpenIsReadOnly(t *testing.T) {
	s, err := fleet.Open(context.Background(), fleet.Member{Name: "m", Target: "mem://"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(context.Background(), &stores.State{ResourceID: "x"}); !errors.Is(err, stores.ErrReadOnly) {
		t.Errorf("save through a fleet store: %v, want ErrReadOnly", err)
	}
}

func TestSelect(t *testing.T) {
	cfg := &config.Config{Contexts: map[string]config.Context{"prod": {Store: "s3://b/p?region=r"}, "dev": {Store: "/d"}}}
	got, err := fleet.Select(cfg, []string{"prod", " dev", "prod"})
	if err != nil || len(got) != 2 || got[0].Name != "prod" || got[1].Name != "dev" {
		t.Fatalf("%v %v", got, err)
	}
	if got[0].Transport() != "s3" || got[1].Transport() != "file" {
		t.Errorf("transports %s %s", got[0].Transport(), got[1].Transport())
	}
	if _, err := fleet.Select(cfg, []string{"staging"}); err == nil {
		t.Error("unknown context accepted")
	}
}

// TestSelectAllKeepsEveryName: every context is a member under its name
// as the config spells it, spaces and the empty name included; only names
// typed on the command line are trimmed.
func TestSelectAllKeepsEveryName(t *testing.T) {
	names := []string{"", " padded ", "plain", "tab\t"}
	cfg := &config.Config{Contexts: map[string]config.Context{}}
	for _, n := range names {
		cfg.Contexts[n] = config.Context{Store: "mem://"}
	}
	got, err := fleet.Select(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var gotNames []string
	for _, m := range got {
		gotNames = append(gotNames, m.Name)
	}
	if !slices.Equal(gotNames, names) {
		t.Errorf("members %q, want %q", gotNames, names)
	}
	// Its repairs would say --context "", which means the current context.
	if _, err := fleet.Open(t.Context(), got[0]); err == nil || !strings.Contains(err.Error(), "empty name") {
		t.Errorf("the unnamed context opened: %v", err)
	}
}

// A failed member is told apart only where the operator acts differently:
// a store without what was asked is reachable; a timeout is not a refusal.
func TestFailure(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("prod has no lock inventory: %w", stores.ErrUnsupported), "unsupported"},
		{fmt.Errorf("%w within 30s", fleet.ErrTimeout), "timed out"},
		{fmt.Errorf("list: %w", context.DeadlineExceeded), "timed out"},
		{errors.New("dial tcp 127.0.0.1:1: connection refused"), "failed"},
	} {
		if got := fleet.Failure(tc.err); got != tc.want {
			t.Errorf("Failure(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
