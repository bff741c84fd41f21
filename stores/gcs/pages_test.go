package gcs

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"google.golang.org/api/option"

	"statescope/stores"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

func openFresh(t *testing.T) *Store {
	t.Helper()
	srv := testserver.SharedFakeGCS(t)
	tgt, err := stores.ParseTarget("gs://" + srv.NewBucket(t) + "/")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), tgt, option.WithEndpoint(srv.Endpoint), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A listing hands on the server's pages whole, not key by key.
func TestKeyPagesAreTheServersPages(t *testing.T) {
	s, ctx := openFresh(t), t.Context()
	for i := range 12 {
		if err := s.Save(ctx, storetest.Record(fmt.Sprintf("r%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	var sizes []int
	for keys, err := range s.listAfter(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(keys))
	}
	if !slices.Equal(sizes, []int{12}) {
		t.Errorf("pages of %v keys, want one of 12", sizes)
	}
}

// Generation 0 names no object: a conditional save with it is refused
// instead of becoming an unconditional write.
func TestSaveIfGenerationZeroIsRefused(t *testing.T) {
	s, ctx := openFresh(t), t.Context()
	if err := s.Save(ctx, storetest.Record("db")); err != nil {
		t.Fatal(err)
	}
	changed := storetest.Record("db")
	changed.Status = stores.StatusError
	if err := s.SaveIf(ctx, changed, "0"); !errors.Is(err, stores.ErrConflict) {
		t.Errorf("save if generation 0: %v, want ErrConflict", err)
	}
	if got, err := s.Get(ctx, "db"); err != nil || got.Status == stores.StatusError {
		t.Errorf("the record was overwritten: %+v, %v", got, err)
	}
}
