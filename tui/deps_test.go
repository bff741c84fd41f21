package tui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/charmbracelet/x/ansi"

	"statescope/stores"
)

// withMissingDep adds to the golden demo a record that depends on the
// load balancer and on an ID no record has.
func withMissingDep(t *testing.T) func(o *Options) {
	return func(o *Options) {
		gs := newGoldenStore(t)
		rec := &stores.State{ResourceID: "prod/api/gateway", ResourceType: "infra.api_gateway", Provider: "aws", Status: stores.StatusActive,
			Dependencies: []string{"prod/lb/api", "prod/vpc/legacy"}, CreatedAt: stores.FormatTime(clock.Add(-48 * time.Hour)),
			UpdatedAt: stores.FormatTime(clock.Add(-2 * time.Hour)), Outputs: map[string]any{}, Config: map[string]any{}}
		if err := gs.Save(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		o.Session.Store = gs
	}
}

// The table marks the records with a dependency no record has, and the
// mark is a word the filter finds; a refresh that brings the missing
// record clears the mark.
func TestTableFlagsMissingDependency(t *testing.T) {
	opts := Options{Session: Session{Name: "demo"}}
	withMissingDep(t)(&opts)
	h := newSyncHarness(t, opts)
	v := h.m.top().(*resourcesView)
	var flagged []string
	for _, r := range v.grid.Items() {
		if v.missing[r.ID] {
			flagged = append(flagged, r.ID)
		}
	}
	if !slices.Equal(flagged, []string{"prod/api/gateway"}) {
		t.Fatalf("flagged %v, want only prod/api/gateway", flagged)
	}
	h.keys("/")
	h.typeText("missing-dep")
	h.keys("enter")
	if got := v.grid.Visible(); got != 1 {
		t.Fatalf("the filter missing-dep shows %d rows, want 1", got)
	}

	s := h.m.env.session.Store
	if err := s.Save(context.Background(), &stores.State{ResourceID: "prod/vpc/legacy", Status: stores.StatusActive}); err != nil {
		t.Fatal(err)
	}
	h.keys("r")
	if v.missing["prod/api/gateway"] {
		t.Fatal("still flagged after the missing record appeared")
	}
	if got := v.grid.Visible(); got != 0 {
		t.Fatalf("the filter missing-dep still shows %d rows", got)
	}
}

// Detail lists what the record depends on, marking the missing IDs, and
// what depends on it; tab walks both lists and enter opens the line's
// record, or says there is none.
func TestDetailDependenciesBothWays(t *testing.T) {
	opts := Options{Session: Session{Name: "demo"}}
	withMissingDep(t)(&opts)
	h := newSyncHarness(t, opts)
	open := func(id string) *detailView {
		t.Helper()
		h.run(h.m.push(newDetailView(h.m.env, stores.Row{ID: id})))
		return h.m.top().(*detailView)
	}

	d := open("prod/lb/api")
	if want := []string{"prod/api/gateway", "prod/dns/api", "prod/dns/www"}; !slices.Equal(d.requiredBy, want) {
		t.Fatalf("required by %v, want %v", d.requiredBy, want)
	}
	// Read afresh with the record: r shows a record added since.
	if err := h.m.env.session.Store.Save(context.Background(), &stores.State{ResourceID: "prod/api/admin", Status: stores.StatusActive, Dependencies: []string{"prod/lb/api"}}); err != nil {
		t.Fatal(err)
	}
	h.keys("r")
	if want := []string{"prod/api/admin", "prod/api/gateway", "prod/dns/api", "prod/dns/www"}; !slices.Equal(d.requiredBy, want) {
		t.Fatalf("required by after r: %v, want %v", d.requiredBy, want)
	}
	h.keys("tab", "tab", "tab", "enter") // the first line is its dependency, then what requires it
	if top, ok := h.m.top().(*detailView); !ok || top.entry.ID != "prod/api/gateway" {
		t.Fatalf("enter on a required-by line opened %T %v", h.m.top(), h.m.top().Title())
	}

	d = h.m.top().(*detailView)
	if d.present["prod/lb/api"] != true || d.present["prod/vpc/legacy"] != false {
		t.Fatalf("dependencies present %v", d.present)
	}
	if len(d.requiredBy) != 0 || d.requiredBy == nil {
		t.Fatalf("required by %v, want an empty list read from the store", d.requiredBy)
	}
	h.keys("tab", "tab", "enter")
	if h.m.top() != d {
		t.Fatal("enter on a missing dependency opened something")
	}
	if !h.m.statusErr || h.m.status != "prod/vpc/legacy has no record: it is a dependency on a missing ID" {
		t.Fatalf("status %q", h.m.status)
	}
}

// slowListing lists its first time at once (the table's load) and every
// later time only once released or cancelled.
type slowListing struct {
	stores.Store
	listed  atomic.Int32
	release chan struct{}
}

func (s *slowListing) ListRows(ctx context.Context, f stores.Filter, known func(source, version string) (stores.Row, bool), yield func([]stores.Row) error) error {
	if s.listed.Add(1) > 1 {
		select {
		case <-s.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return stores.ListRows(ctx, s.Store, f, known, yield)
}

// Detail shows what depends on the record at once, from the table's rows,
// saying so, while it reads the store again; the store's answer replaces it.
func TestDetailRequiredByFromTableFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &slowListing{Store: newGoldenStore(t), release: make(chan struct{})}
		h := newAsyncHarnessWith(t, Options{Session: Session{Store: store, Name: "demo"}})
		defer h.close()
		for h.m.top().(*resourcesView).grid.Len() == 0 || h.m.top().Busy() {
			h.send(h.next(5 * time.Second))
		}
		// Added behind the table's back: only the store's answer has it.
		if err := store.Save(context.Background(), &stores.State{ResourceID: "prod/api/admin", Status: stores.StatusActive, Dependencies: []string{"prod/lb/api"}}); err != nil {
			t.Fatal(err)
		}
		h.run(h.m.push(newDetailView(h.m.env, stores.Row{ID: "prod/lb/api"})))
		d := h.m.top().(*detailView)
		for d.requiredBy == nil || d.state == nil {
			h.send(h.next(5 * time.Second))
		}
		if want := []string{"prod/dns/api", "prod/dns/www"}; !d.fromTable || !slices.Equal(d.requiredBy, want) {
			t.Fatalf("before the store answers: required by %v (from the table: %t), want %v from the table", d.requiredBy, d.fromTable, want)
		}
		if s := ansi.Strip(h.m.View().Content); !strings.Contains(s, "as the table listed them; reading the store again") {
			t.Errorf("the screen does not say where the list comes from:\n%s", s)
		}
		close(store.release)
		for d.fromTable {
			h.send(h.next(5 * time.Second))
		}
		if want := []string{"prod/api/admin", "prod/dns/api", "prod/dns/www"}; !slices.Equal(d.requiredBy, want) {
			t.Fatalf("after the store answered: %v, want %v", d.requiredBy, want)
		}
		if s := ansi.Strip(h.m.View().Content); strings.Contains(s, "as the table listed them") {
			t.Errorf("still says the list is the table's:\n%s", s)
		}
	})
}

// failingRelisting lists its first time (the table's load) and fails after.
type failingRelisting struct {
	stores.Store
	listed atomic.Int32
}

func (s *failingRelisting) ListRows(ctx context.Context, f stores.Filter, known func(source, version string) (stores.Row, bool), yield func([]stores.Row) error) error {
	if s.listed.Add(1) > 1 {
		return errors.New("connection reset by peer")
	}
	return stores.ListRows(ctx, s.Store, f, known, yield)
}

// When the store cannot be read again, detail keeps the table's answer,
// says it is the table's, and says why the store's is missing.
func TestDetailRequiredByWhenTheStoreFails(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: &failingRelisting{Store: newGoldenStore(t)}, Name: "demo"}})
	h.run(h.m.push(newDetailView(h.m.env, stores.Row{ID: "prod/lb/api"})))
	d := h.m.top().(*detailView)
	if want := []string{"prod/dns/api", "prod/dns/www"}; !slices.Equal(d.requiredBy, want) {
		t.Fatalf("required by %v, want the table's %v", d.requiredBy, want)
	}
	s := h.screen()
	for _, want := range []string{"unknown: connection reset by peer", "(as the table listed them)"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "reading the store again") {
		t.Errorf("still says it is reading:\n%s", s)
	}
}
