package tui

import (
	"context"
	"slices"
	"testing"
	"time"

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
