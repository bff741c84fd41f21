package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"go.uber.org/goleak"

	"statescope/stores"
	"statescope/stores/fleet"
	"statescope/stores/memory"
)

// fleetOpener opens the test fleet's targets: "crit" is the demo (two
// orphaned locks), "clean" an empty store, "down" fails, and "slow" waits
// for release or its context, reporting both on slow.
type fleetOpener struct {
	t       *testing.T
	release chan struct{}
	slow    *blockingStore
}

func (o *fleetOpener) open(ctx context.Context, target string) (stores.Store, error) {
	switch target {
	case "crit":
		return newGoldenStore(o.t), nil
	case "clean":
		return memory.New(), nil
	case "slow":
		o.slow.started <- "open"
		select {
		case <-o.release:
			return memory.New(), nil
		case <-ctx.Done():
			o.slow.returned <- "open"
			return nil, ctx.Err()
		}
	}
	if target == "down-multiline" { // as pgx words it
		return nil, errors.New("failed to connect:\n\tdial tcp 10.0.0.9:5432: connection refused")
	}
	return nil, errors.New("dial tcp 10.0.0.9:5432: connection refused")
}

func fleetOptions(o *fleetOpener) Options {
	return Options{
		Session:    Session{Store: newGoldenStore(o.t), Name: "crit"},
		OpenTarget: o.open,
		Fleet: []fleet.Member{
			{Name: "a-slow", Target: "slow"}, {Name: "b-clean", Target: "clean"},
			{Name: "c-down", Target: "down"}, {Name: "d-crit", Target: "crit"},
		},
	}
}

// TestFleetRowsFillInWorstFirst: the slow context does not hold up the
// others; rows come in as they answer, critical and unreachable first.
func TestFleetRowsFillInWorstFirst(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	synctest.Test(t, func(t *testing.T) {
		o := &fleetOpener{t: t, release: make(chan struct{}), slow: newBlockingStore()}
		h := newAsyncHarnessWith(t, fleetOptions(o))
		defer h.close()
		for range 2 { // the home view's list and locks
			h.send(h.next(time.Second))
		}
		h.keys(":", "f", "l", "e", "e", "t", "enter")
		settled(t, o.slow.started, "the slow context's open")
		for !strings.Contains(h.screen(), "3 answered") { // the others answer while the slow one waits
			h.send(h.next(5 * time.Second))
		}
		s := h.screen()
		order := []string{"c-down", "d-crit", "b-clean", "a-slow"}
		last := -1
		for _, name := range order {
			i := strings.Index(s, name)
			if i < last {
				t.Fatalf("rows not worst first (want %v):\n%s", order, s)
			}
			last = i
		}
		for _, want := range []string{"4 contexts  3 answered", "failed", "3c 3w", "none", "checking…", "connection refused"} {
			if !strings.Contains(s, want) {
				t.Errorf("fleet lacks %q:\n%s", want, s)
			}
		}
		close(o.release)
		for !strings.Contains(h.screen(), "4 answered") {
			h.send(h.next(5 * time.Second))
		}
		if s := h.screen(); !strings.Contains(s, "4 answered") || strings.Contains(s, "checking…") {
			t.Errorf("the slow context did not fill in:\n%s", s)
		}
	})
}

// TestFleetCursor: until the operator moves it, the cursor stays on the
// first row, the worst context, while rows answer and re-sort; once moved,
// it stays on the context chosen wherever that context sorts to.
func TestFleetCursor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &fleetOpener{t: t, release: make(chan struct{}), slow: newBlockingStore()}
		h := newAsyncHarnessWith(t, fleetOptions(o))
		defer h.close()
		for range 2 {
			h.send(h.next(time.Second))
		}
		h.keys(":", "f", "l", "e", "e", "t", "enter")
		settled(t, o.slow.started, "the slow context's open")
		v := h.m.top().(*fleetView)
		for !strings.Contains(h.screen(), "3 answered") {
			h.send(h.next(5 * time.Second))
		}
		if r, _ := v.grid.Selected(); r.member.Name != "c-down" {
			t.Errorf("untouched, the cursor is on %q, not the first row c-down", r.member.Name)
		}
		h.keys("G") // a-slow, still checking, last
		close(o.release)
		for !strings.Contains(h.screen(), "4 answered") {
			h.send(h.next(5 * time.Second))
		}
		if r, _ := v.grid.Selected(); r.member.Name != "a-slow" || v.grid.Cursor() != 2 {
			t.Errorf("the cursor is on %q at %d, not on a-slow re-sorted before b-clean", r.member.Name, v.grid.Cursor())
		}
	})
}

// TestLeavingTheFleetCancelsEveryLoad: each context's load has its own
// context under the view's; leaving the view ends them all and leaks
// nothing.
func TestLeavingTheFleetCancelsEveryLoad(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	synctest.Test(t, func(t *testing.T) {
		o := &fleetOpener{t: t, release: make(chan struct{}), slow: newBlockingStore()}
		opts := fleetOptions(o)
		opts.Fleet = []fleet.Member{{Name: "s1", Target: "slow"}, {Name: "s2", Target: "slow"}, {Name: "ok", Target: "clean"}}
		h := newAsyncHarnessWith(t, opts)
		defer h.close()
		for range 2 {
			h.send(h.next(time.Second))
		}
		h.run(h.m.push(newFleetView(h.m.env)))
		v := h.m.top()
		settled(t, o.slow.started, "s1")
		settled(t, o.slow.started, "s2")
		h.keys("esc")
		settled(t, o.slow.returned, "s1 cancelled")
		settled(t, o.slow.returned, "s2 cancelled")
		if h.m.find(v.base().id) != nil || !v.base().left {
			t.Fatal("the fleet view is still open")
		}
	})
}

// TestFleetOpensAContextsViews: enter, L and c switch to the selected
// context and open its resources, locks or findings.
func TestFleetOpensAContextsViews(t *testing.T) {
	o := &fleetOpener{t: t}
	opts := fleetOptions(o)
	opts.Fleet = opts.Fleet[1:] // nothing slow: the sync harness runs every command to the end
	opts.OpenContext = func(ctx context.Context, name string) (Session, error) {
		for _, m := range opts.Fleet {
			if m.Name == name {
				s, err := o.open(ctx, m.Target)
				return Session{Store: s, Name: name}, err
			}
		}
		return Session{}, errors.New("unknown")
	}
	for _, tc := range []struct{ key, crumb string }{{"enter", "resources"}, {"L", "locks"}, {"c", "findings"}} {
		h := newSyncHarness(t, opts)
		h.keys(":")
		h.typeText("fleet")
		h.keys("enter", "g", "down", tc.key) // the second row: d-crit, after c-down
		if s := h.screen(); !strings.Contains(s, "statescope › d-crit › fleet › resources") || !strings.Contains(s, tc.crumb) {
			t.Errorf("%s did not open d-crit's %s over the fleet:\n%s", tc.key, tc.crumb, s)
		}
		// Back leads to the fleet, on the context it opened.
		for range len(h.m.stack) - 1 {
			h.keys("esc")
		}
		f, ok := h.m.top().(*fleetView)
		if !ok {
			t.Fatalf("esc after %s did not return to the fleet:\n%s", tc.key, h.screen())
		}
		if r, _ := f.grid.Selected(); r.member.Name != "d-crit" {
			t.Errorf("back on the fleet after %s, the cursor is on %q, not d-crit", tc.key, r.member.Name)
		}
	}
}

// startFleetOptions start the UI on the fleet of three (none slow), no
// context open; each opens as an empty store.
func startFleetOptions(t *testing.T) Options {
	opts := fleetOptions(&fleetOpener{t: t})
	opts.Fleet = opts.Fleet[1:]
	opts.Session = Session{}
	opts.StartFleet = true
	opts.OpenContext = func(ctx context.Context, name string) (Session, error) {
		return Session{Store: memory.New(), Name: name}, nil
	}
	return opts
}

// TestStartOnTheFleet: with several contexts and none chosen the UI opens
// on the fleet, with no session; enter picks one.
func TestStartOnTheFleet(t *testing.T) {
	h := newSyncHarness(t, startFleetOptions(t))
	if s := h.screen(); !strings.Contains(s, "3 contexts  3 answered") || !strings.HasPrefix(s, "statescope › fleet") {
		t.Fatalf("not on the fleet, under a trail without an empty context:\n%s", s)
	}
	h.keys("g", "enter")
	if s := h.screen(); !strings.Contains(s, "statescope › c-down › fleet › resources") {
		t.Fatalf("enter did not open the context:\n%s", s)
	}
}

// TestStartFleetGlobalKeys: on the start fleet (no context open yet) ?
// opens the help, : the command bar (:ctx switches; commands that need a
// store say so), and no key typed after : reaches the fleet (c there
// opens a context's findings); R and L say a context must be opened.
func TestStartFleetGlobalKeys(t *testing.T) {
	h := newSyncHarness(t, startFleetOptions(t))
	if s := h.screen(); !strings.Contains(s, "? help • : command") {
		t.Errorf("the start fleet's footer does not offer help and the command bar:\n%s", s)
	}
	h.keys("?")
	if s := h.screen(); !strings.Contains(s, "fleet.findings") {
		t.Fatalf("? on the start fleet did not open the help:\n%s", s)
	}
	h.keys("esc")
	for _, cmd := range []string{"check", "locks", "resources", "audit", "backups"} {
		h.keys(":")
		h.typeText(cmd)
		h.keys("enter")
		if s := h.screen(); !strings.HasPrefix(s, "statescope › fleet\n") || !strings.Contains(s, "no context is open yet") {
			t.Fatalf(":%s on the start fleet:\n%s", cmd, s)
		}
	}
	h.keys("R")
	if s := h.screen(); !strings.HasPrefix(s, "statescope › fleet\n") || !strings.Contains(s, "no context is open yet") {
		t.Fatalf("R on the start fleet:\n%s", s)
	}
	h.keys(":")
	h.typeText("ctx b-clean")
	h.keys("enter")
	if s := h.screen(); !strings.Contains(s, "statescope › b-clean › resources") {
		t.Fatalf(":ctx on the start fleet did not switch:\n%s", s)
	}
}

// listCountingStore counts its listings and whether it was closed.
type listCountingStore struct {
	stores.Store
	lists, closes atomic.Int32
}

func (s *listCountingStore) ListRows(ctx context.Context, f stores.Filter, known func(source, version string) (stores.Row, bool), yield func([]stores.Row) error) error {
	s.lists.Add(1)
	return stores.ListRows(ctx, s.Store, f, known, yield)
}

func (s *listCountingStore) Close() error {
	s.closes.Add(1)
	return nil
}

// TestFleetAutoRefresh: with the config's refresh the fleet checks every
// context again on the interval, on the store it opened once, and stops
// (closing it) when it is left.
func TestFleetAutoRefresh(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	synctest.Test(t, func(t *testing.T) {
		var opens atomic.Int32
		store := &listCountingStore{Store: memory.New()}
		opts := Options{
			Session: Session{Store: memory.New(), Name: "x"},
			OpenTarget: func(context.Context, string) (stores.Store, error) {
				opens.Add(1)
				return store, nil
			},
			Fleet:   []fleet.Member{{Name: "only", Target: "clean"}},
			Refresh: 5 * time.Millisecond,
		}
		h := newAsyncHarnessWith(t, opts)
		defer h.close()
		h.run(h.m.push(newFleetView(h.m.env)))
		for store.lists.Load() < 3 {
			h.send(h.next(5 * time.Second))
		}
		if n := opens.Load(); n != 1 {
			t.Errorf("the store was opened %d times for %d checks; want once", n, store.lists.Load())
		}
		h.keys("esc")
		synctest.Wait()
		if store.closes.Load() != 1 {
			t.Error("leaving the fleet did not close the store it kept open")
		}
	})
}

// TestFleetReopensAfterAFailedCheck: a store whose check failed is closed
// and the next check dials again.
func TestFleetReopensAfterAFailedCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opened := make(chan *listCountingStore, 2)
		opts := Options{
			Session: Session{Store: memory.New(), Name: "x"},
			OpenTarget: func(context.Context, string) (stores.Store, error) {
				s := &listCountingStore{Store: failingList{memory.New()}}
				opened <- s
				return s, nil
			},
			Fleet: []fleet.Member{{Name: "only", Target: "flaky"}},
		}
		h := newAsyncHarnessWith(t, opts)
		defer h.close()
		h.run(h.m.push(newFleetView(h.m.env)))
		first := <-opened
		for first.lists.Load() == 0 || h.m.top().(*fleetView).Busy() {
			h.send(h.next(5 * time.Second))
		}
		h.keys("r")
		for len(opened) == 0 {
			h.send(h.next(5 * time.Second))
		}
		synctest.Wait()
		if first.closes.Load() != 1 {
			t.Errorf("the store whose check failed was closed %d times; want once", first.closes.Load())
		}
	})
}

// failingList is a store whose listing fails.
type failingList struct{ stores.Store }

func (failingList) List(context.Context, stores.Filter) ([]stores.Entry, error) {
	return nil, errors.New("connection reset by peer")
}

// versionedStore lists its records at version v1 and notes, per listing,
// how many rows the caller already knew at that version.
type versionedStore struct {
	stores.Store
	reused chan int
}

func (s versionedStore) ListRows(ctx context.Context, f stores.Filter, known func(source, version string) (stores.Row, bool), yield func([]stores.Row) error) error {
	entries, err := s.List(ctx, f)
	if err != nil {
		return err
	}
	rows, reused := make([]stores.Row, len(entries)), 0
	for i, e := range entries {
		rows[i] = stores.RowOf(e, "v1")
		if known != nil {
			if r, ok := known(e.Source, "v1"); ok {
				rows[i] = r
				reused++
			}
		}
	}
	s.reused <- reused
	return yield(rows)
}

// TestFleetRecheckReusesRows: the fleet's periodic check offers the last
// check's rows, so a store re-reads only the records whose version changed.
func TestFleetRecheckReusesRows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := versionedStore{Store: memory.New(), reused: make(chan int, 4)}
		for _, id := range []string{"a", "b"} {
			if err := store.Save(context.Background(), &stores.State{ResourceID: id, Status: stores.StatusActive}); err != nil {
				t.Fatal(err)
			}
		}
		opts := Options{
			Session:    Session{Store: memory.New(), Name: "x"},
			OpenTarget: func(context.Context, string) (stores.Store, error) { return store, nil },
			Fleet:      []fleet.Member{{Name: "only", Target: "v"}},
			Refresh:    5 * time.Millisecond,
		}
		h := newAsyncHarnessWith(t, opts)
		defer h.close()
		h.run(h.m.push(newFleetView(h.m.env)))
		var reused []int
		for len(reused) < 2 {
			select {
			case n := <-store.reused:
				reused = append(reused, n)
			default:
				h.send(h.next(5 * time.Second))
			}
		}
		if reused[0] != 0 || reused[1] != 2 {
			t.Errorf("rows reused by the first and second check: %v, want 0 then 2", reused)
		}
	})
}

// TestFleetHostileContextNames: characters that do not print in a
// context's name (YAML's "\e" and "\a" escapes, a right-to-left override
// that makes one name look like another) show escaped, as the CLI writes
// them, in the fleet, its error lines and the trail, and never reach the
// terminal, the window title included, whose OSC a BEL would end early.
func TestFleetHostileContextNames(t *testing.T) {
	const evil = "ev\x1b]0;PWNED\x07il\x9b2J\xff\u202emoor"
	o := &fleetOpener{t: t}
	opts := fleetOptions(o)
	opts.Fleet = []fleet.Member{{Name: evil, Target: "clean"}, {Name: evil + "-down", Target: "down"}}
	opts.OpenContext = func(ctx context.Context, name string) (Session, error) {
		return Session{Store: memory.New(), Name: name}, nil
	}
	h := newSyncHarness(t, opts)
	h.keys(":")
	h.typeText("fleet")
	h.keys("enter")
	// As the CLI writes it: whole in the error line, cut in the two rows.
	const shown = `ev\x1b]0;PWNED\ail\x9b2J\xff\u202emoor`
	if s := h.screen(); strings.Count(s, `ev\x1b]0;PWNED`) != 3 || !strings.Contains(s, shown+"-down: dial tcp") {
		t.Errorf("the names are not drawn escaped:\n%s", s)
	}
	h.keys("G", "enter")
	frame := h.m.View()
	if s := ansi.Strip(frame.Content); !strings.Contains(s, "statescope › "+shown+" › fleet") {
		t.Errorf("the trail does not show the name as drawn:\n%s", s)
	}
	for what, text := range map[string]string{"frame": frame.Content, "window title": frame.WindowTitle} {
		for _, bad := range []string{"\x07", "\x1b]", "\u009b", "\xff", "\u202e"} {
			if strings.Contains(text, bad) {
				t.Errorf("the %s carries %q to the terminal: %q", what, bad, text)
			}
		}
	}
}

// TestFleetFailureKinds: a failed context's row says what the CLI's
// table says: timed out (no answer within the timeout), unsupported, or
// failed (a config error is not "unreachable").
func TestFleetFailureKinds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &fleetOpener{t: t, release: make(chan struct{}), slow: newBlockingStore()}
		opts := fleetOptions(o)
		opts.OperationTimeout = time.Second
		opts.Fleet = []fleet.Member{{Name: "a-slow", Target: "slow"}, {Name: "b-broken", Target: "bogus://x"},
			{Name: "c-typo", Problem: "line 7: cannot unmarshal !!seq into string"}}
		h := newAsyncHarnessWith(t, opts)
		defer h.close()
		for range 2 {
			h.send(h.next(time.Second))
		}
		h.run(h.m.push(newFleetView(h.m.env)))
		v := h.m.top().(*fleetView)
		for v.Busy() {
			h.send(h.next(5 * time.Second))
		}
		s := h.screen()
		for _, want := range []string{"3 contexts  3 answered  3 failed", "a-slow: no answer within 1s", "timed out", "failed"} {
			if !strings.Contains(s, want) {
				t.Errorf("the fleet lacks %q:\n%s", want, s)
			}
		}
		if strings.Contains(s, "unreachable") {
			t.Errorf("a failure is called unreachable:\n%s", s)
		}
		// A context whose config entry cannot be read says so, not dialled.
		h.keys("/")
		h.typeText("c-typo")
		h.keys("enter")
		if s := h.screen(); !strings.Contains(s, `context "c-typo" in the config cannot be read: line 7`) {
			t.Errorf("the unreadable context's error:\n%s", s)
		}
		<-o.slow.returned
	})
}

// TestFleetManyUnreachable: when most of a large fleet is unreachable the
// error lines under the table take at most a quarter of the screen, the
// table keeps its rows (scrolling to every context), and the selected
// context's error always shows.
func TestFleetManyUnreachable(t *testing.T) {
	o := &fleetOpener{t: t}
	opts := fleetOptions(o)
	opts.Fleet = nil
	for i := range 40 {
		opts.Fleet = append(opts.Fleet, fleet.Member{Name: fmt.Sprintf("down-%02d", i), Target: "down-multiline"})
	}
	h := newSyncHarness(t, opts)
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.keys(":")
	h.typeText("fleet")
	h.keys("enter")
	s := h.screen()
	rows := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "down-") && strings.Contains(l, "  failed") {
			rows++
		}
	}
	if rows < 10 {
		t.Errorf("the table shows %d rows of 40 at 80x24:\n%s", rows, s)
	}
	if !strings.Contains(s, "… 36 more failed") {
		t.Errorf("the error lines do not say how many more there are:\n%s", s)
	}
	if s := h.screen(); !strings.Contains(s, "down-00: failed to connect: dial tcp") {
		t.Errorf("a driver's multi-line error is not one line with single spaces:\n%s", s)
	}
	h.keys("G")
	if s := h.screen(); !strings.Contains(s, "down-39  ") || !strings.Contains(s, "down-39: failed to connect: dial tcp") {
		t.Errorf("the last context or its error is not on screen when selected:\n%s", s)
	}
}

// TestFleetLaterOpenWins: a context still opening when the operator opens
// another does not take over when it finally answers: the later choice
// stands and the late store is closed.
func TestFleetLaterOpenWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		late := &listCountingStore{Store: memory.New()}
		opts := Options{
			Session:    Session{Store: memory.New(), Name: "x"},
			OpenTarget: func(context.Context, string) (stores.Store, error) { return memory.New(), nil },
			Fleet:      []fleet.Member{{Name: "a-slow", Target: "a"}, {Name: "b-quick", Target: "b"}},
			OpenContext: func(ctx context.Context, name string) (Session, error) {
				if name == "a-slow" {
					<-release
					return Session{Store: late, Name: name}, nil
				}
				return Session{Store: memory.New(), Name: name}, nil
			},
		}
		h := newAsyncHarnessWith(t, opts)
		defer h.close()
		h.run(h.m.push(newFleetView(h.m.env)))
		for h.m.top().(*fleetView).Busy() {
			h.send(h.next(5 * time.Second))
		}
		h.keys("enter", "down", "enter") // a-slow, then b-quick
		for h.m.env.session.Name != "b-quick" {
			h.send(h.next(5 * time.Second))
		}
		close(release)
		synctest.Wait()
		for len(h.msgs) > 0 {
			h.send(<-h.msgs)
			synctest.Wait()
		}
		if name := h.m.env.session.Name; name != "b-quick" {
			t.Errorf("the context opened first took over when it answered: now on %s", name)
		}
		if late.closes.Load() != 1 {
			t.Error("the late context's store was not closed")
		}
	})
}

// TestEscStopsOpeningAContext: a context that does not answer (a dial to a
// host that drops packets) is stopped by esc, not left to run to its
// timeout; the fleet stays, and a later answer is not adopted.
func TestEscStopsOpeningAContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stopped := make(chan error, 1)
		opts := Options{
			Session:    Session{Store: memory.New(), Name: "x"},
			OpenTarget: func(context.Context, string) (stores.Store, error) { return memory.New(), nil },
			Fleet:      []fleet.Member{{Name: "hangs", Target: "a"}},
			OpenContext: func(ctx context.Context, name string) (Session, error) {
				<-ctx.Done()
				stopped <- ctx.Err()
				return Session{}, ctx.Err()
			},
			OperationTimeout: time.Hour,
		}
		h := newAsyncHarnessWith(t, opts)
		defer h.close()
		h.run(h.m.push(newFleetView(h.m.env)))
		for h.m.top().(*fleetView).Busy() {
			h.send(h.next(5 * time.Second))
		}
		h.keys("enter")
		if !strings.Contains(h.m.status, "opening context hangs… (esc stops)") {
			t.Fatalf("status %q", h.m.status)
		}
		h.keys("esc")
		synctest.Wait()
		select {
		case err := <-stopped:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("the open ended with %v, want it cancelled", err)
			}
		default:
			t.Fatal("esc did not stop the open")
		}
		if !strings.Contains(h.m.status, "stopped opening context hangs") {
			t.Errorf("status %q", h.m.status)
		}
		for len(h.msgs) > 0 {
			h.send(<-h.msgs)
			synctest.Wait()
		}
		if _, still := h.m.top().(*fleetView); !still || h.m.env.session.Name != "x" || strings.Contains(h.m.status, "canceled") {
			t.Errorf("after esc: top %T, session %q, status %q", h.m.top(), h.m.env.session.Name, h.m.status)
		}
	})
}

// firstListBlocks is a store whose first listing waits for its context
// and which fails every listing once closed.
type firstListBlocks struct {
	stores.Store
	lists, closes atomic.Int32
}

func (s *firstListBlocks) ListRows(ctx context.Context, f stores.Filter, known func(source, version string) (stores.Row, bool), yield func([]stores.Row) error) error {
	if s.lists.Add(1) == 1 {
		<-ctx.Done()
		return ctx.Err()
	}
	if s.closes.Load() > 0 {
		return errors.New("store is closed")
	}
	return stores.ListRows(ctx, s.Store, f, known, yield)
}

func (s *firstListBlocks) Close() error {
	s.closes.Add(1)
	return nil
}

// TestFleetRecheckWhileChecking: r while a context's check runs cancels
// that check without closing the store the new check reads.
func TestFleetRecheckWhileChecking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &firstListBlocks{Store: memory.New()}
		opts := Options{
			Session:    Session{Store: memory.New(), Name: "x"},
			OpenTarget: func(context.Context, string) (stores.Store, error) { return store, nil },
			Fleet:      []fleet.Member{{Name: "only", Target: "t"}},
		}
		h := newAsyncHarnessWith(t, opts)
		defer h.close()
		h.run(h.m.push(newFleetView(h.m.env)))
		v := h.m.top().(*fleetView)
		synctest.Wait() // the first check waits in its listing
		h.keys("r")
		for v.Busy() {
			h.send(h.next(5 * time.Second))
		}
		synctest.Wait()
		if r := v.rows["only"]; r.err != nil || store.closes.Load() != 0 {
			t.Errorf("after r during a check: row error %v, store closed %d times", r.err, store.closes.Load())
		}
	})
}

// TestFleetFilterByState: "/" finds contexts by what is wrong with them,
// not only by name: failed, a severity, a finding's kind, clean.
func TestFleetFilterByState(t *testing.T) {
	for _, tc := range []struct {
		query     string
		want, not []string
	}{
		{"failed", []string{"c-down"}, []string{"d-crit", "b-clean"}},
		{"orphaned-lock", []string{"d-crit"}, []string{"c-down", "b-clean"}},
		{"clean", []string{"b-clean"}, []string{"c-down", "d-crit"}},
	} {
		h := newSyncHarness(t, startFleetOptions(t))
		h.keys("/")
		h.typeText(tc.query)
		h.keys("enter")
		s := h.screen()
		table := s[:strings.Index(s, "/"+tc.query)]
		for _, w := range tc.want {
			if !strings.Contains(table, w) {
				t.Errorf("/%s lacks %s:\n%s", tc.query, w, s)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(table, n+" ") {
				t.Errorf("/%s shows %s:\n%s", tc.query, n, s)
			}
		}
	}
}

// TestFleetFilterHidesOthersErrors: the error lines follow the filter: a
// failed context the filter hides does not show its error.
func TestFleetFilterHidesOthersErrors(t *testing.T) {
	h := newSyncHarness(t, startFleetOptions(t))
	h.keys("/")
	h.typeText("crit")
	h.keys("enter")
	if s := h.screen(); strings.Contains(s, "connection refused") {
		t.Errorf("/crit shows the error of a context it hides:\n%s", s)
	}
}

// TestFleetRechecksARepairedContext: a repair made in a context opened
// from the fleet re-checks that context's row, so going back shows the
// fleet as it is now, not as it was before the repair.
func TestFleetRechecksARepairedContext(t *testing.T) {
	gs := newGoldenStore(t)
	opts := Options{
		OpenTarget: func(context.Context, string) (stores.Store, error) { return gs, nil },
		Fleet:      []fleet.Member{{Name: "prod", Target: "golden"}},
		StartFleet: true,
		OpenContext: func(context.Context, string) (Session, error) {
			return Session{Store: gs, Name: "prod"}, nil
		},
	}
	h := newSyncHarness(t, opts)
	if s := h.screen(); !strings.Contains(s, "2/0") || !strings.Contains(s, "3c 3w") {
		t.Fatalf("the fleet before the repair:\n%s", s)
	}
	h.keys("L", "F")
	h.typeText("prod/db/orders")
	h.keys("enter")
	if s := h.screen(); !strings.Contains(s, "released the lock on prod/db/orders") {
		t.Fatalf("the release did not happen:\n%s", s)
	}
	h.keys("esc", "esc")
	if s := h.screen(); !strings.Contains(s, "1/0") || !strings.Contains(s, "2c 3w") {
		t.Errorf("back on the fleet, the repaired context's row is stale:\n%s", s)
	}
}

// TestFleetCommandReturnsToTheFleet: :fleet from a context opened from
// the fleet goes back to that fleet (its rows and cursor) rather than
// stacking a second one that checks every context again.
func TestFleetCommandReturnsToTheFleet(t *testing.T) {
	h := newSyncHarness(t, startFleetOptions(t))
	first := h.m.top()
	h.keys("j", "enter", ":")
	h.typeText("fleet")
	h.keys("enter")
	fleets := 0
	for _, v := range h.m.stack {
		if _, ok := v.(*fleetView); ok {
			fleets++
		}
	}
	if h.m.top() != first || fleets != 1 {
		t.Errorf(":fleet did not return to the fleet (%d fleets on the stack):\n%s", fleets, h.screen())
	}
}

// TestResourcesKeyKeepsTheFleet: R in a context opened from the fleet
// goes to its resources with the fleet still under them.
func TestResourcesKeyKeepsTheFleet(t *testing.T) {
	h := newSyncHarness(t, startFleetOptions(t))
	h.keys("j", "L", "R")
	if s := h.screen(); !strings.Contains(s, "› fleet › resources") || strings.Contains(s, "› locks") {
		t.Fatalf("R did not open the resources over the fleet:\n%s", s)
	}
	h.keys("esc")
	if !isFleet(h.m.top()) {
		t.Errorf("esc after R did not return to the fleet:\n%s", h.screen())
	}
}
