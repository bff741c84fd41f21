package azblob

import (
	"errors"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"statescope/stores"
)

// New takes Azure's whole lease range, 15 to 60 s, and nothing outside
// it; parallel= applies, and its default when unset.
func TestNewConfigBounds(t *testing.T) {
	base := Config{Container: "c", AccountURL: "http://127.0.0.1:1/devstoreaccount1", Auth: Auth{Account: "a", Key: "a2V5"}}
	for _, tc := range []struct {
		lease time.Duration
		ok    bool
	}{{15 * time.Second, true}, {60 * time.Second, true}, {0, true}, {15*time.Second - time.Millisecond, false}, {60*time.Second + time.Millisecond, false}} {
		cfg := base
		cfg.LeaseDuration = tc.lease
		s, err := New(t.Context(), cfg)
		if (err == nil) != tc.ok {
			t.Errorf("lease %s: %v, want accepted=%v", tc.lease, err, tc.ok)
		}
		if s != nil {
			s.Close()
		}
	}
	for _, tc := range []struct{ set, want int }{{0, stores.DefaultParallelism}, {3, 3}} {
		cfg := base
		cfg.Parallel = tc.set
		s, err := New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if s.cfg.Parallel != tc.want {
			t.Errorf("parallel=%d: %d fetches at once, want %d", tc.set, s.cfg.Parallel, tc.want)
		}
		s.Close()
	}
}

// Service errors read as Azure's error code and the HTTP status — the
// status alone when the reply had no code — and still match the original.
func TestSDKErrorNamesTheCode(t *testing.T) {
	s := &Store{}
	for _, tc := range []struct {
		err  *azcore.ResponseError
		want string
	}{
		{&azcore.ResponseError{StatusCode: 404, ErrorCode: "BlobNotFound"}, "BlobNotFound (HTTP 404)"},
		{&azcore.ResponseError{StatusCode: 412}, "HTTP 412"},
	} {
		err := s.sdkError(tc.err)
		var re *azcore.ResponseError
		if err.Error() != tc.want || !errors.As(err, &re) {
			t.Errorf("%+v: %q, want %q wrapping the response error", tc.err, err, tc.want)
		}
	}
}
