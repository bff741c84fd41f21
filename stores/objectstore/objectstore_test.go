package objectstore

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"go.uber.org/goleak"

	"statescope/stores"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		raw      string
		prefix   string
		parallel int
		wantErr  string
	}{
		{"gs://b", DefaultPrefix, stores.DefaultParallelism, ""},
		{"gs://b/", DefaultPrefix, stores.DefaultParallelism, ""},
		{"gs://b/state", "state", stores.DefaultParallelism, ""},
		{"gs://b/a/b/?parallel=1", "a/b/", 1, ""},
		{"gs://b?parallel=256", DefaultPrefix, 256, ""},
		{"gs://b?parallel=257", "", 0, "from 1 to 256"},
		{"gs://b?parallel=x", "", 0, "from 1 to 256"},
		{"gs://b?parallel=1&parallel=2", "", 0, "given 2 times"},
		{"gs://b?region=x", "", 0, `unknown option "region"`},
		{"gs:///p", "", 0, "names no bucket"},
	}
	for _, tt := range tests {
		st, err := stores.ParseTarget(tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseTarget(st, "gs://BUCKET")
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.raw, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.Prefix != tt.prefix || got.Parallel != tt.parallel || got.Bucket != "b" || got.Query.Has("parallel") {
			t.Errorf("%s: %+v, %v", tt.raw, got, err)
		}
	}
}

func TestLayout(t *testing.T) {
	l := Layout{Scheme: "gs", Bucket: "b", Prefix: "state/"}
	tests := []struct{ got, want string }{
		{l.RecordKey(`team/db\x`), "state/team_db_x.json"},
		{l.LockKey("team/db"), "state/team_db.lock"},
		{l.Source("state/x.json"), "gs://b/state/x.json"},
		{l.String(), "gs://b/state/"},
		{l.name("state/team_db.lock"), "team_db"},
		{l.name("state/sub/x.json"), "sub/x"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// fakeBucket serves Stream from memory: listed pages, and object bodies
// ("" for one deleted after the listing).
type fakeBucket struct {
	pages   [][]string
	listErr error
	objects map[string]string
}

// list reports every object at version v1, the version read returns.
func (fb fakeBucket) list(ctx context.Context) iter.Seq2[[]Object, error] {
	return func(yield func([]Object, error) bool) {
		for _, p := range fb.pages {
			objs := make([]Object, len(p))
			for i, k := range p {
				objs[i] = Object{Key: k, Version: "v1"}
			}
			if ctx.Err() != nil || !yield(objs, nil) {
				return
			}
		}
		if fb.listErr != nil {
			yield(nil, fb.listErr)
		}
	}
}

func (fb fakeBucket) read(_ context.Context, key string) ([]byte, string, error) {
	body, ok := fb.objects[key]
	if !ok || body == "" {
		return nil, "", stores.ErrNotFound
	}
	return []byte(body), "v1", nil
}

func TestStream(t *testing.T) {
	defer goleak.VerifyNone(t)
	l := Layout{Scheme: "gs", Bucket: "b", Prefix: "p/"}
	rec := func(id, provider string) string {
		data, _ := stores.EncodeState(&stores.State{ResourceID: id, Provider: provider, Status: "active"})
		return string(data)
	}
	bucket := fakeBucket{
		pages: [][]string{{"p/a.json", "p/b.lock", "p/team_db.json"}, {"p/gone.json", "p/bad.json", "p/notes.txt", "p/sub/c.json"}},
		objects: map[string]string{
			"p/a.json": rec("a", "aws"), "p/team_db.json": rec("team/db", "gcp"),
			"p/gone.json": "", "p/bad.json": "{", "p/sub/c.json": rec("c", "aws"),
		},
	}
	stop := errors.New("stop")
	tests := []struct {
		name    string
		bucket  fakeBucket
		filter  stores.Filter
		stopAt  int // yield fails on this call (1-based); 0: never
		want    []string
		wantErr error
	}{
		{"everything", bucket, stores.Filter{}, 0, []string{"a", "bad!", "c", "team/db"}, nil},
		{"filtered, corrupt kept", bucket, stores.Filter{Provider: "aws"}, 0, []string{"a", "bad!", "c"}, nil},
		{"listing fails", fakeBucket{pages: bucket.pages[:1], objects: bucket.objects, listErr: errors.New("boom")}, stores.Filter{}, 0, nil, errors.New("boom")},
		{"caller stops", bucket, stores.Filter{}, 1, nil, stop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			calls := 0
			err := l.Stream(context.Background(), tt.bucket.list, 2, tt.bucket.read, tt.filter, func(batch []stores.Entry) error {
				calls++
				if calls == tt.stopAt {
					return stop
				}
				for _, e := range batch {
					if e.Corrupt() {
						got = append(got, e.ID+"!")
						if e.Source != "gs://b/p/"+e.ID+".json" {
							t.Errorf("corrupt entry source %q", e.Source)
						}
						continue
					}
					got = append(got, e.ID)
				}
				return nil
			})
			if tt.wantErr != nil {
				if err == nil || err.Error() != tt.wantErr.Error() {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		err := l.Stream(ctx, bucket.list, 1, bucket.read, stores.Filter{}, func([]stores.Entry) error {
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	})
}

// StreamRows yields the rows of what Stream yields, and fetches only the
// records known does not recognise at their listed version.
func TestStreamRows(t *testing.T) {
	defer goleak.VerifyNone(t)
	l := Layout{Scheme: "gs", Bucket: "b", Prefix: "p/"}
	data, _ := stores.EncodeState(&stores.State{ResourceID: "team/db", ResourceType: "db", Provider: "gcp", Status: "active", UpdatedAt: "2024-01-02T03:04:05Z", Outputs: map[string]any{"k": "v"}})
	bucket := fakeBucket{
		pages:   [][]string{{"p/team_db.json", "p/b.lock", "p/bad.json"}, {"p/gone.json", "p/kept.json"}},
		objects: map[string]string{"p/team_db.json": string(data), "p/bad.json": "{", "p/gone.json": "", "p/kept.json": "{"},
	}
	var mu sync.Mutex
	var reads []string
	read := func(ctx context.Context, key string) ([]byte, string, error) {
		mu.Lock()
		reads = append(reads, key)
		mu.Unlock()
		return bucket.read(ctx, key)
	}
	kept := stores.Row{ID: "kept", Source: "gs://b/p/kept.json", Readable: true, Status: "active", Version: "v1"}
	known := func(source, version string) (stores.Row, bool) {
		if source == kept.Source && version == "v1" {
			return kept, true
		}
		return stores.Row{}, false
	}
	var got []stores.Row
	err := l.StreamRows(context.Background(), bucket.list, 2, read, stores.Filter{}, known, func(batch []stores.Row) error {
		got = append(got, batch...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b stores.Row) int { return strings.Compare(a.ID, b.ID) })
	_, badErr := stores.DecodeState([]byte("{"))
	want := []stores.Row{
		{ID: "bad", Source: "gs://b/p/bad.json", Problem: badErr.Error(), Version: "v1"},
		kept,
		{ID: "team/db", Source: "gs://b/p/team_db.json", Readable: true, ResourceType: "db", Provider: "gcp", Status: "active", UpdatedAt: "2024-01-02T03:04:05Z", Version: "v1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n%+v\nwant\n%+v", got, want)
	}
	slices.Sort(reads)
	if want := []string{"p/bad.json", "p/gone.json", "p/team_db.json"}; !slices.Equal(reads, want) {
		t.Errorf("fetched %v, want %v (the known record is not fetched)", reads, want)
	}
}

// A slow record does not hold up the next page's: a record listed on the
// second page is fetched while one from the first is still being read
// (otherwise the bubble deadlocks and the test fails).
func TestStreamFetchesAcrossPages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := Layout{Scheme: "gs", Bucket: "b", Prefix: "p/"}
		data, _ := stores.EncodeState(&stores.State{ResourceID: "x", Status: "active"})
		bucket := fakeBucket{pages: [][]string{{"p/a.json"}, {"p/b.json"}}, objects: map[string]string{"p/a.json": string(data), "p/b.json": string(data)}}
		secondRead := make(chan struct{})
		read := func(ctx context.Context, key string) ([]byte, string, error) {
			if key == "p/a.json" {
				<-secondRead
			} else {
				close(secondRead)
			}
			return bucket.read(ctx, key)
		}
		n := 0
		err := l.Stream(t.Context(), bucket.list, 2, read, stores.Filter{}, func(batch []stores.Entry) error {
			n += len(batch)
			return nil
		})
		if err != nil || n != 2 {
			t.Errorf("streamed %d records, %v; want 2", n, err)
		}
	})
}

// A caller that stops while the next page is still being listed gets its
// error back at once: the listing is cancelled, not waited for.
func TestStreamStopsWhileListing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := Layout{Scheme: "gs", Bucket: "b", Prefix: "p/"}
		data, _ := stores.EncodeState(&stores.State{ResourceID: "x", Status: "active"})
		bucket := fakeBucket{objects: map[string]string{"p/a.json": string(data)}}
		slowList := func(ctx context.Context) iter.Seq2[[]Object, error] {
			return func(yield func([]Object, error) bool) {
				if yield([]Object{{Key: "p/a.json"}}, nil) {
					<-ctx.Done() // the next page never comes
				}
			}
		}
		stop := errors.New("stop")
		err := l.Stream(t.Context(), slowList, 2, bucket.read, stores.Filter{}, func([]stores.Entry) error { return stop })
		if !errors.Is(err, stop) {
			t.Errorf("stream: %v, want stop", err)
		}
	})
}
