// Package objectstoretest checks what every object-store backend shares
// beyond the conformance suite: the key layout under a verbatim prefix,
// recursive listing, colliding object names and compare-and-swap writes.
package objectstoretest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"statescope/stores"
	"statescope/stores/storetest"
)

// Fixture is a store on a fresh bucket or container, with raw access to
// the objects behind its back.
type Fixture struct {
	// Store also implements stores.ConditionalStore.
	Store stores.Store
	// Base is the source of the bucket root, e.g. "gs://bucket/".
	Base string
	// Put writes an object as another writer would.
	Put func(t *testing.T, key, contentType, body string)
	// ContentType is an object's content type; "" when it does not exist.
	ContentType func(t *testing.T, key string) string
}

// Harness opens fixtures. path is the target's path: "" or "/state".
type Harness struct {
	Open func(t *testing.T, path string) Fixture
	// Interposed opens a store through an Interposer and one beside it on
	// the same fresh bucket (required by Run).
	Interposed func(t *testing.T) Interposed
	// Split is set for a backend whose listings split into key ranges.
	Split *Split
}

// Run runs every check as a subtest.
func Run(t *testing.T, h Harness) {
	t.Run("PrefixAndListing", func(t *testing.T) { prefixAndListing(t, h) })
	t.Run("NameCollision", func(t *testing.T) { nameCollision(t, h) })
	t.Run("Conditional", func(t *testing.T) { conditional(t, h) })
	t.Run("StaleConditional", func(t *testing.T) { staleConditional(t, h) })
	if h.Split != nil {
		t.Run("SplitListing", func(t *testing.T) { splitListing(t, h.Split) })
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func prefixAndListing(t *testing.T, h Harness) {
	tests := []struct {
		path      string
		recordKey string
	}{
		{"", "iac-state/db.json"},
		{"/", "iac-state/db.json"},
		{"/state", "statedb.json"},
		{"/env/prod/", "env/prod/db.json"},
	}
	for _, tt := range tests {
		t.Run("path="+tt.path, func(t *testing.T) {
			f, c := h.Open(t, tt.path), ctx(t)
			if err := f.Store.Save(c, storetest.Record("db")); err != nil {
				t.Fatal(err)
			}
			if ct := f.ContentType(t, tt.recordKey); ct != "application/json" {
				t.Fatalf("record at %s has content type %q, want application/json", tt.recordKey, ct)
			}
			prefix := strings.TrimSuffix(tt.recordKey, "db.json")
			// Listing is recursive, keeps only .json, and takes IDs from inside.
			raw, _ := stores.EncodeState(storetest.Record("deep/one"))
			f.Put(t, prefix+"nested/dir/whatever.json", "application/json", string(raw))
			f.Put(t, prefix+"notes.txt", "text/plain", "not a record")
			f.Put(t, prefix+"db.lock", "text/plain", "locked")
			f.Put(t, "elsewhere/other.json", "application/json", string(raw))
			entries, err := f.Store.List(c, stores.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.ID+" "+e.Source)
			}
			want := []string{"db " + f.Base + tt.recordKey, "deep/one " + f.Base + prefix + "nested/dir/whatever.json"}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("listed %q, want %q", got, want)
			}
		})
	}
}

func nameCollision(t *testing.T, h Harness) {
	f, c := h.Open(t, ""), ctx(t)
	if err := f.Store.Save(c, storetest.Record("a/b")); err != nil {
		t.Fatal(err)
	}
	if err := f.Store.Save(c, storetest.Record("a_b")); err == nil || !strings.Contains(err.Error(), "collide") {
		t.Errorf("saving a colliding ID: %v, want a refusal", err)
	}
	if _, err := f.Store.Get(c, "a_b"); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("get a_b: %v, want ErrNotFound", err)
	}
	if err := f.Store.Delete(c, "a_b"); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("delete a_b: %v, want ErrNotFound", err)
	}
	if _, err := f.Store.Get(c, "a/b"); err != nil {
		t.Errorf("a/b was damaged: %v", err)
	}
}

func conditional(t *testing.T, h Harness) {
	f, c := h.Open(t, ""), ctx(t)
	cs, ok := f.Store.(stores.ConditionalStore)
	if !ok {
		t.Fatal("store has no conditional writes")
	}
	rec := storetest.Record("db")
	if err := cs.SaveIf(c, rec, ""); err != nil {
		t.Fatalf("create-if-absent: %v", err)
	}
	v1, err := cs.GetVersioned(c, "db")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := stores.EncodeState(rec)
	if string(v1.Raw) != string(want) || v1.Version == "" || v1.State.ResourceID != "db" {
		t.Fatalf("GetVersioned = %+v", v1)
	}
	rec.Status = stores.StatusDestroyed
	if err := cs.SaveIf(c, rec, v1.Version); err != nil {
		t.Fatalf("save on the current version: %v", err)
	}
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"create-if-absent over a record", func() error { return cs.SaveIf(c, rec, "") }, stores.ErrConflict},
		{"save on a stale version", func() error { return cs.SaveIf(c, rec, v1.Version) }, stores.ErrConflict},
		{"save on a made-up version", func() error { return cs.SaveIf(c, rec, "12345") }, stores.ErrConflict},
		{"delete on a stale version", func() error { return cs.DeleteIf(c, "db", v1.Version) }, stores.ErrConflict},
		{"delete a missing record", func() error { return cs.DeleteIf(c, "nope", v1.Version) }, stores.ErrNotFound},
	}
	for _, tt := range tests {
		if err := tt.op(); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if got, _ := f.Store.Get(c, "db"); got == nil || got.Status != stores.StatusDestroyed {
		t.Fatalf("a refused write changed the record: %+v", got)
	}
	v2, _ := cs.GetVersioned(c, "db")
	if err := cs.DeleteIf(c, "db", v2.Version); err != nil {
		t.Fatalf("delete on the current version: %v", err)
	}
	// A corrupt record still has a version, so it can be repaired in place.
	f.Put(t, "iac-state/broken.json", "application/json", "{oops")
	bad, err := cs.GetVersioned(c, "broken")
	if !errors.Is(err, stores.ErrCorrupt) || bad.Version == "" || string(bad.Raw) != "{oops" {
		t.Fatalf("GetVersioned of a corrupt record: %+v, %v", bad, err)
	}
	if err := cs.SaveIf(c, storetest.Record("broken"), bad.Version); err != nil {
		t.Errorf("repair on the corrupt record's version: %v", err)
	}
}

// Planted adapts a Harness to the conformance and repair suites: fresh
// stores at the default prefix, and unreadable records planted behind
// their backs with the fixture's Put.
type Planted struct {
	Harness
	mu   sync.Mutex
	puts map[stores.Store]func(t *testing.T, key, contentType, body string)
}

// New opens a fresh store.
func (p *Planted) New(t *testing.T) stores.Store {
	f := p.Open(t, "")
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.puts == nil {
		p.puts = map[stores.Store]func(*testing.T, string, string, string){}
	}
	p.puts[f.Store] = f.Put
	return f.Store
}

// Corrupt writes garbage where the record for id lives.
func (p *Planted) Corrupt(t *testing.T, s stores.Store, id string) {
	p.Plant(t, s, id, []byte("\x00garbage{"))
}

// Plant writes exactly raw where the record for id lives.
func (p *Planted) Plant(t *testing.T, s stores.Store, id string, raw []byte) {
	p.mu.Lock()
	put := p.puts[s]
	p.mu.Unlock()
	put(t, "iac-state/"+id+".json", "application/json", string(raw))
}
