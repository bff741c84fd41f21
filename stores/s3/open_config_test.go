package s3

import (
	"fmt"
	"slices"
	"testing"

	"statescope/stores"
	"statescope/stores/objectstore"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

// parallel= sets how many fetches run at once; unset, the default applies.
func TestOpenParallelism(t *testing.T) {
	gw := testserver.SharedVersityGW(t)
	bucket := gw.NewBucket(t)
	for _, tc := range []struct{ set, want int }{{0, stores.DefaultParallelism}, {3, 3}} {
		c := gwConfig(gw, bucket, "")
		c.Parallel = tc.set
		s := openStore(t, c)
		if s.cfg.Parallel != tc.want {
			t.Errorf("parallel=%d: %d fetches at once, want %d", tc.set, s.cfg.Parallel, tc.want)
		}
	}
}

// Describe adds a parenthesis only when there is a region or endpoint.
func TestDescribePlainBucket(t *testing.T) {
	s := &Store{layout: objectstore.Layout{Scheme: "s3", Bucket: "b", Prefix: "p/"}}
	if got, want := s.Describe(), s.layout.String(); got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
	s.cfg.Region = "fra1"
	if got := s.Describe(); got != s.layout.String()+" (region fra1)" {
		t.Errorf("with a region: %q", got)
	}
}

// A listing that fails is an error, never a short list.
func TestListFailureIsAnError(t *testing.T) {
	s := newStore(t, "")
	if err := s.Save(testCtx(t), &stores.State{ResourceID: "db", Status: stores.StatusActive}); err != nil {
		t.Fatal(err)
	}
	s.cfg.Bucket += "-gone"
	if entries, err := s.List(testCtx(t), stores.Filter{}); err == nil {
		t.Errorf("listing a missing bucket: %d entries and no error", len(entries))
	}
}

// A listing asks for pages of the store's page size.
func TestListPagesOfPageSize(t *testing.T) {
	s, c := newStore(t, DefaultPrefix), testCtx(t)
	for i := range 12 {
		if err := s.Save(c, storetest.Record(fmt.Sprintf("r%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	s.pageSize = 5
	var sizes []int
	for keys, err := range s.listAfter(c, "") {
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(keys))
	}
	if !slices.Equal(sizes, []int{5, 5, 2}) {
		t.Errorf("pages of %v keys, want 5, 5, 2", sizes)
	}
}
