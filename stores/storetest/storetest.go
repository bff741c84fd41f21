// Package storetest is the conformance suite every store backend runs, the
// same checks against memory, the filesystem and each real server.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"statescope/stores"
)

// Harness describes a backend under test.
type Harness struct {
	// New returns a fresh, empty store; the suite closes it.
	New func(t *testing.T) stores.Store
	// Corrupt plants an unreadable record that a listing would find under
	// id (garbage bytes where the record lives). Set exactly when
	// Capabilities has CorruptRecords.
	Corrupt func(t *testing.T, s stores.Store, id string)
	// Capabilities the store has; Run fails when they differ from the
	// store's, so no check is skipped unless the backend lacks its feature.
	Capabilities Capabilities
	// ServerTimestamps: the backend sets created_at/updated_at itself
	// (PostgreSQL), so the suite checks they are RFC 3339 instead of equal.
	ServerTimestamps bool
	// NoErrorField: the backend cannot store the error field (PostgreSQL).
	NoErrorField bool
	// MaxRecordBytes: records larger than this must fail with
	// stores.ErrTooLarge instead of being stored (gRPC's 4 MiB limit).
	MaxRecordBytes int
}

// Run runs every conformance check as a subtest.
func Run(t *testing.T, h Harness) {
	checks := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"RoundTrip", roundTrip},
		{"LargeRecord", largeRecord},
		{"SaveReplaces", saveReplaces},
		{"SaveRejectsEmptyID", saveRejectsEmptyID},
		{"Filters", filters},
		{"NotFound", notFound},
		{"Delete", deleteRecord},
		{"LockContention", lockContention},
		{"UnlockUnheld", unlockUnheld},
		{"ForceUnlock", forceUnlock},
		{"CorruptSurfaced", corruptSurfaced},
		{"Cancelled", cancelled},
		{"StreamMatchesList", streamMatchesList},
		{"RowsMatchList", rowsMatchList},
		{"RefreshFetchesChanged", refreshFetchesChanged},
	}
	probe := h.New(t)
	h.Capabilities.Check(t, probe, h.Corrupt != nil)
	stores.Close(probe)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.fn(t, h) })
	}
}

func open(t *testing.T, h Harness) stores.Store {
	t.Helper()
	s := h.New(t)
	t.Cleanup(func() { stores.Close(s) })
	return s
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// Record returns a record with every field set.
func Record(id string) *stores.State {
	return &stores.State{
		ResourceID:   id,
		ResourceType: "infra.database",
		Provider:     "aws",
		ProviderRef:  "cloud",
		ProviderID:   "arn:aws:rds:eu-west-1:123:db/" + id,
		ConfigHash:   strings.Repeat("ab", 32),
		Status:       stores.StatusActive,
		Outputs: map[string]any{
			"endpoint": "db.example.com",
			"port":     json.Number("5432"),
			"big":      json.Number("9007199254740993"),
			"nested":   map[string]any{"list": []any{"a", json.Number("1"), true, nil}, "html": "<a&b>"},
		},
		Config:       map[string]any{"engine": "postgres", "size": "db-s-1vcpu-1gb"},
		Dependencies: []string{"vpc-main", "subnet/a"},
		CreatedAt:    "2026-01-02T03:04:05Z",
		UpdatedAt:    "2026-01-02T03:04:06Z",
		Error:        "",
	}
}

func normalise(h Harness, s *stores.State) *stores.State {
	c := s.Clone()
	if len(c.Dependencies) == 0 {
		c.Dependencies = nil
	}
	if h.ServerTimestamps {
		c.CreatedAt, c.UpdatedAt = "", ""
	}
	if h.NoErrorField {
		c.Error = ""
	}
	return c
}

func assertSame(t *testing.T, h Harness, want, got *stores.State) {
	t.Helper()
	if h.ServerTimestamps {
		for _, ts := range []string{got.CreatedAt, got.UpdatedAt} {
			if _, ok := stores.ParseTime(ts); !ok {
				t.Errorf("%s: timestamp %q is not RFC 3339", want.ResourceID, ts)
			}
		}
	}
	w, g := normalise(h, want), normalise(h, got)
	if !w.Equal(g) {
		wj, _ := stores.EncodeState(w)
		gj, _ := stores.EncodeState(g)
		t.Errorf("round trip of %q changed the record:\nwant %s\n got %s", want.ResourceID, wj, gj)
	}
}

func roundTrip(t *testing.T, h Harness) {
	s, c := open(t, h), ctx(t)
	cases := []*stores.State{Record("db-main")}
	withErr := Record("failed-db")
	withErr.Status, withErr.Error = stores.StatusError, "quota exceeded: 5 instances"
	cases = append(cases, withErr)
	nullMaps := Record("null-maps")
	nullMaps.Outputs, nullMaps.Config, nullMaps.Dependencies = nil, nil, nil
	cases = append(cases, nullMaps)
	emptyMaps := Record("empty-maps")
	emptyMaps.Outputs, emptyMaps.Config = map[string]any{}, map[string]any{}
	cases = append(cases, emptyMaps)
	for _, id := range []string{"数据库-主", "team/prod/db", `win\path`, "has:colon*star", "a b", "ünïcødé ✓"} {
		cases = append(cases, Record(id))
	}
	minimal := &stores.State{ResourceID: "minimal", Status: "weird-status"}
	cases = append(cases, minimal)
	for _, want := range cases {
		if err := s.Save(c, want); err != nil {
			t.Fatalf("save %q: %v", want.ResourceID, err)
		}
	}
	for _, want := range cases {
		got, err := s.Get(c, want.ResourceID)
		if err != nil {
			t.Fatalf("get %q: %v", want.ResourceID, err)
		}
		assertSame(t, h, want, got)
	}
	entries, err := s.List(c, stores.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*stores.State{}
	for _, e := range entries {
		if e.Corrupt() {
			t.Errorf("unexpected corrupt entry %+v", e)
			continue
		}
		byID[e.State.ResourceID] = e.State
	}
	if len(byID) != len(cases) {
		t.Errorf("list returned %d records, want %d: %v", len(byID), len(cases), keys(byID))
	}
	for _, want := range cases {
		if got, ok := byID[want.ResourceID]; !ok {
			t.Errorf("list lacks %q", want.ResourceID)
		} else {
			assertSame(t, h, want, got)
		}
	}
}

func keys(m map[string]*stores.State) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func largeRecord(t *testing.T, h Harness) {
	s, c := open(t, h), ctx(t)
	big := Record("large")
	big.Outputs["blob"] = strings.Repeat("0123456789abcdef", 5<<20/16)
	err := s.Save(c, big)
	if h.MaxRecordBytes > 0 {
		if !errors.Is(err, stores.ErrTooLarge) {
			t.Fatalf("saving a 5 MB record: got %v, want ErrTooLarge", err)
		}
		if strings.Contains(err.Error(), "ResourceExhausted") {
			t.Errorf("too-large error is a raw transport error: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("save 5 MB record: %v", err)
	}
	got, err := s.Get(c, "large")
	if err != nil {
		t.Fatal(err)
	}
	assertSame(t, h, big, got)
}

func saveReplaces(t *testing.T, h Harness) {
	s, c := open(t, h), ctx(t)
	r := Record("replace-me")
	if err := s.Save(c, r); err != nil {
		t.Fatal(err)
	}
	r2 := Record("replace-me")
	r2.Status, r2.Outputs, r2.Dependencies = stores.StatusDestroyed, map[string]any{"only": "this"}, nil
	if err := s.Save(c, r2); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(c, "replace-me")
	if err != nil {
		t.Fatal(err)
	}
	assertSame(t, h, r2, got)
	entries, _ := s.List(c, stores.Filter{})
	if len(entries) != 1 {
		t.Errorf("after replace, list has %d entries, want 1", len(entries))
	}
}

func saveRejectsEmptyID(t *testing.T, h Harness) {
	s, c := open(t, h), ctx(t)
	if err := s.Save(c, &stores.State{Status: "active"}); err == nil {
		t.Error("saving a record without resource_id succeeded")
	}
	if err := s.Save(c, nil); err == nil {
		t.Error("saving nil succeeded")
	}
}

func filters(t *testing.T, h Harness) {
	s, c := open(t, h), ctx(t)
	mk := func(id, typ, prov, status string) {
		r := Record(id)
		r.ResourceType, r.Provider, r.Status = typ, prov, status
		if err := s.Save(c, r); err != nil {
			t.Fatal(err)
		}
	}
	mk("a", "infra.database", "aws", "active")
	mk("b", "infra.database", "gcp", "error")
	mk("c", "infra.vpc", "aws", "active")
	mk("d", "infra.vpc", "AWS", "active")
	tests := []struct {
		f    stores.Filter
		want []string
	}{
		{stores.Filter{}, []string{"a", "b", "c", "d"}},
		{stores.Filter{ResourceType: "infra.database"}, []string{"a", "b"}},
		{stores.Filter{Provider: "aws"}, []string{"a", "c"}},
		{stores.Filter{Provider: "aws", Status: "active"}, []string{"a", "c"}},
		{stores.Filter{ResourceType: "infra.vpc", Provider: "aws"}, []string{"c"}},
		{stores.Filter{Status: "planned"}, nil},
	}
	for _, tt := range tests {
		entries, err := s.List(c, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.ID)
		}
		sort.Strings(got)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("filter %+v: got %v, want %v", tt.f, got, tt.want)
		}
	}
}

func notFound(t *testing.T, h Harness) {
	s, c := open(t, h), ctx(t)
	if _, err := s.Get(c, "nope"); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("get missing: %v, want ErrNotFound", err)
	}
	if err := s.Delete(c, "nope"); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("delete missing: %v, want ErrNotFound", err)
	}
}

func deleteRecord(t *testing.T, h Harness) {
	s, c := open(t, h), ctx(t)
	for _, id := range []string{"keep", "drop/me"} {
		if err := s.Save(c, Record(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(c, "drop/me"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(c, "drop/me"); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	}
	if _, err := s.Get(c, "keep"); err != nil {
		t.Errorf("delete removed the wrong record: %v", err)
	}
}

func lockContention(t *testing.T, h Harness) {
	s, c := open(t, h), ctx(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.Lock(c, "contended/db")
		}()
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, stores.ErrLocked):
		default:
			t.Errorf("lock: unexpected error %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent lockers won, want exactly 1", wins, n)
	}
	if err := s.Lock(c, "contended/db"); !errors.Is(err, stores.ErrLocked) {
		t.Errorf("second lock: %v, want ErrLocked", err)
	}
	if err := s.Lock(c, "other"); err != nil {
		t.Errorf("a different ID is not blocked: %v", err)
	}
	for _, id := range []string{"contended/db", "other"} {
		if err := s.Unlock(c, id); err != nil {
			t.Errorf("unlock %q: %v", id, err)
		}
	}
	if err := s.Lock(c, "contended/db"); err != nil {
		t.Errorf("relock after unlock: %v", err)
	}
	if err := s.Unlock(c, "contended/db"); err != nil {
		t.Error(err)
	}
}

func unlockUnheld(t *testing.T, h Harness) {
	s, c := open(t, h), ctx(t)
	if err := s.Unlock(c, "never-locked"); !errors.Is(err, stores.ErrNotLocked) {
		t.Errorf("unlock of an unheld lock: %v, want ErrNotLocked", err)
	}
}

func findLock(t *testing.T, c context.Context, ll stores.LockLister, id string) (stores.LockInfo, bool) {
	t.Helper()
	locks, err := ll.Locks(c)
	if err != nil {
		t.Fatalf("locks: %v", err)
	}
	for _, l := range locks {
		if l.ResourceID == id {
			return l, true
		}
	}
	return stores.LockInfo{}, false
}

func forceUnlock(t *testing.T, h Harness) {
	h.Capabilities.Need(t, LockInventory)
	s, c := open(t, h), ctx(t)
	ll, fu := s.(stores.LockLister), s.(stores.ForceUnlocker)
	const id = "locked/db"
	if err := s.Save(c, Record(id)); err != nil {
		t.Fatal(err)
	}
	if err := s.Lock(c, id); err != nil {
		t.Fatal(err)
	}
	first, ok := findLock(t, c, ll, id)
	if !ok {
		t.Fatalf("inventory lacks the lock on %q", id)
	}
	if first.Token == "" {
		t.Fatal("lock has no token")
	}
	if err := fu.ForceUnlock(c, id, "not-the-token"); !errors.Is(err, stores.ErrLockChanged) {
		t.Errorf("force unlock with a wrong token: %v, want ErrLockChanged", err)
	}
	if _, ok := findLock(t, c, ll, id); !ok {
		t.Fatal("a refused force unlock released the lock")
	}
	// The lock changes hands: released and taken again.
	if err := s.Unlock(c, id); err != nil {
		t.Fatal(err)
	}
	if err := s.Lock(c, id); err != nil {
		t.Fatal(err)
	}
	second, ok := findLock(t, c, ll, id)
	if !ok {
		t.Fatal("inventory lacks the new lock")
	}
	if second.Token == first.Token {
		t.Fatalf("a new lock instance kept the old token %q", first.Token)
	}
	if err := fu.ForceUnlock(c, id, first.Token); !errors.Is(err, stores.ErrLockChanged) {
		t.Errorf("force unlock with a stale token: %v, want ErrLockChanged", err)
	}
	if _, ok := findLock(t, c, ll, id); !ok {
		t.Fatal("a stale token released the live lock")
	}
	if err := fu.ForceUnlock(c, id, second.Token); err != nil {
		t.Fatalf("force unlock with the current token: %v", err)
	}
	if _, ok := findLock(t, c, ll, id); ok {
		t.Error("lock still listed after force unlock")
	}
	if err := fu.ForceUnlock(c, id, second.Token); !errors.Is(err, stores.ErrNotLocked) {
		t.Errorf("force unlock with no lock: %v, want ErrNotLocked", err)
	}
	if err := s.Lock(c, id); err != nil {
		t.Errorf("lock after force unlock: %v", err)
	}
	_ = s.Unlock(c, id)
	if _, err := s.Get(c, id); err != nil {
		t.Errorf("force unlock touched the record: %v", err)
	}
}

func corruptSurfaced(t *testing.T, h Harness) {
	h.Capabilities.Need(t, CorruptRecords)
	s, c := open(t, h), ctx(t)
	if err := s.Save(c, Record("good")); err != nil {
		t.Fatal(err)
	}
	h.Corrupt(t, s, "broken")
	entries, err := s.List(c, stores.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var good, bad int
	for _, e := range entries {
		switch {
		case e.Corrupt():
			bad++
			if e.Source == "" || !strings.Contains(e.ID+e.Source, "broken") {
				t.Errorf("corrupt entry does not say where it is: %+v", e)
			}
		case e.State.ResourceID == "good":
			good++
		}
	}
	if good != 1 || bad != 1 {
		t.Fatalf("list: %d good, %d corrupt entries; want 1 and 1 (%+v)", good, bad, entries)
	}
	// A filter never hides an unreadable record.
	entries, _ = s.List(c, stores.Filter{Provider: "nobody"})
	if len(entries) != 1 || !entries[0].Corrupt() {
		t.Errorf("filtered list hid the corrupt record: %+v", entries)
	}
}

func cancelled(t *testing.T, h Harness) {
	s := open(t, h)
	c, cancel := context.WithCancel(context.Background())
	cancel()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", op, err)
		}
	}
	_, err := s.Get(c, "x")
	check("get", err)
	check("save", s.Save(c, Record("x")))
	_, err = s.List(c, stores.Filter{})
	check("list", err)
	check("delete", s.Delete(c, "x"))
	check("lock", s.Lock(c, "x"))
	check("unlock", s.Unlock(c, "x"))
	if ll, ok := s.(stores.LockLister); ok {
		_, err = ll.Locks(c)
		check("locks", err)
	}
	if fu, ok := s.(stores.ForceUnlocker); ok {
		check("force unlock", fu.ForceUnlock(c, "x", "t"))
	}
	live := ctx(t)
	if _, err := s.Get(live, "x"); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("a cancelled save did the work anyway: get = %v", err)
	}
	if err := s.Lock(live, "x"); err != nil {
		t.Errorf("a cancelled lock did the work anyway: %v", err)
	} else {
		_ = s.Unlock(live, "x")
	}
}

func streamMatchesList(t *testing.T, h Harness) {
	s, c := open(t, h), ctx(t)
	for i := range 40 {
		if err := s.Save(c, Record(fmt.Sprintf("r%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	var streamed []string
	err := stores.Stream(c, s, stores.Filter{}, func(batch []stores.Entry) error {
		for _, e := range batch {
			streamed = append(streamed, e.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(streamed)
	entries, _ := s.List(c, stores.Filter{})
	var listed []string
	for _, e := range entries {
		listed = append(listed, e.ID)
	}
	sort.Strings(listed)
	if !reflect.DeepEqual(streamed, listed) {
		t.Errorf("stream delivered %d entries, list %d", len(streamed), len(listed))
	}
	// Stopping early: the yield's error comes back.
	stop := errors.New("stop")
	if err := stores.Stream(c, s, stores.Filter{}, func([]stores.Entry) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("stream did not return the yield's error: %v", err)
	}
}
