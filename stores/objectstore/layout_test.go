package objectstore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"statescope/stores"
)

// versioned is an in-memory bucket for the Layout's checked writes: each
// object has a body and a version, and the conditional write fails with
// ErrConflict for the first conflicts calls, as if another writer got in.
type versioned struct {
	objects   map[string]string // key → body
	readErr   error
	conflicts int
	calls     []string // "saveIf <version>", "deleteIf <version>"
}

func (v *versioned) read(_ context.Context, key string) ([]byte, string, error) {
	if v.readErr != nil {
		return nil, "", v.readErr
	}
	body, ok := v.objects[key]
	if !ok {
		return nil, "", stores.ErrNotFound
	}
	return []byte(body), "v-" + body[:min(len(body), 8)], nil
}

func (v *versioned) write(op, version string) error {
	v.calls = append(v.calls, op+" "+version)
	if v.conflicts > 0 {
		v.conflicts--
		return stores.ErrConflict
	}
	return nil
}

func (v *versioned) saveIf(_ context.Context, _ *stores.State, version string) error {
	return v.write("saveIf", version)
}

func (v *versioned) deleteIf(_ context.Context, _, version string) error {
	return v.write("deleteIf", version)
}

func encoded(t *testing.T, id string) string {
	data, err := stores.EncodeState(&stores.State{ResourceID: id, Status: "active"})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestLayoutSave(t *testing.T) {
	l := Layout{Scheme: "s3", Bucket: "b", Prefix: "p/"}
	own, other := encoded(t, "a/b"), encoded(t, "a_b")
	tests := []struct {
		name      string
		stored    string // at a/b's key, "" for none
		readErr   error
		conflicts int
		wantCalls []string
		wantErr   error  // errors.Is
		wantText  string // in the error
	}{
		{name: "new record is created only if still absent", wantCalls: []string{"saveIf "}},
		{name: "own record is replaced at the version read", stored: own, wantCalls: []string{"saveIf v-" + own[:8]}},
		{name: "an unreadable record is replaced", stored: "garbage", wantCalls: []string{"saveIf v-garbage"}},
		{name: "a colliding resource is refused", stored: other, wantText: `refused: s3://b/p/a_b.json: the object holds resource "a_b"`},
		{name: "a read error is returned", readErr: errors.New("boom"), wantText: "boom"},
		{name: "a conflict is retried", stored: own, conflicts: 2, wantCalls: []string{"saveIf v-" + own[:8], "saveIf v-" + own[:8], "saveIf v-" + own[:8]}},
		{name: "conflicts past the last attempt are returned", stored: own, conflicts: 3, wantErr: stores.ErrConflict,
			wantCalls: []string{"saveIf v-" + own[:8], "saveIf v-" + own[:8], "saveIf v-" + own[:8]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &versioned{objects: map[string]string{}, readErr: tt.readErr, conflicts: tt.conflicts}
			if tt.stored != "" {
				v.objects["p/a_b.json"] = tt.stored
			}
			err := l.Save(context.Background(), &stores.State{ResourceID: "a/b"}, v.read, v.saveIf)
			checkErr(t, err, tt.wantErr, tt.wantText)
			if strings.Join(v.calls, "|") != strings.Join(tt.wantCalls, "|") {
				t.Errorf("writes %q, want %q", v.calls, tt.wantCalls)
			}
		})
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		ctx context.Context
		st  *stores.State
	}{{cancelled, &stores.State{ResourceID: "x"}}, {context.Background(), nil}, {context.Background(), &stores.State{}}} {
		v := &versioned{readErr: errors.New("must not read")}
		if err := l.Save(c.ctx, c.st, v.read, v.saveIf); err == nil || strings.Contains(err.Error(), "must not read") || len(v.calls) > 0 {
			t.Errorf("Save(%v) = %v after %q: want refused before any request", c.st, err, v.calls)
		}
	}
}

func TestLayoutDelete(t *testing.T) {
	l := Layout{Scheme: "s3", Bucket: "b", Prefix: "p/"}
	own, other := encoded(t, "a/b"), encoded(t, "a_b")
	tests := []struct {
		name      string
		stored    string
		conflicts int
		wantCalls []string
		wantErr   error
		wantText  string
	}{
		{name: "own record is deleted at the version read", stored: own, wantCalls: []string{"deleteIf v-" + own[:8]}},
		{name: "an unreadable record is deleted", stored: "garbage", wantCalls: []string{"deleteIf v-garbage"}},
		{name: "a missing record is not found", wantErr: stores.ErrNotFound},
		{name: "a colliding resource is not this one", stored: other, wantErr: stores.ErrNotFound, wantText: `holds resource "a_b"`},
		{name: "a conflict is retried", stored: own, conflicts: 1, wantCalls: []string{"deleteIf v-" + own[:8], "deleteIf v-" + own[:8]}},
		{name: "conflicts past the last attempt are returned", stored: own, conflicts: 5, wantErr: stores.ErrConflict,
			wantCalls: []string{"deleteIf v-" + own[:8], "deleteIf v-" + own[:8], "deleteIf v-" + own[:8]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &versioned{objects: map[string]string{}, conflicts: tt.conflicts}
			if tt.stored != "" {
				v.objects["p/a_b.json"] = tt.stored
			}
			err := l.Delete(context.Background(), "a/b", v.read, v.deleteIf)
			checkErr(t, err, tt.wantErr, tt.wantText)
			if strings.Join(v.calls, "|") != strings.Join(tt.wantCalls, "|") {
				t.Errorf("writes %q, want %q", v.calls, tt.wantCalls)
			}
		})
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	v := &versioned{readErr: errors.New("must not read")}
	if err := l.Delete(cancelled, "a/b", v.read, v.deleteIf); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a cancelled context: %v", err)
	}
}

func TestLayoutGet(t *testing.T) {
	l := Layout{Scheme: "gs", Bucket: "b", Prefix: "p/"}
	own, other := encoded(t, "a/b"), encoded(t, "a_b")
	v := &versioned{objects: map[string]string{"p/a_b.json": own}}
	got, err := l.Get(context.Background(), "a/b", v.read)
	if err != nil || got.State == nil || got.State.ResourceID != "a/b" || got.Version != "v-"+own[:8] || string(got.Raw) != own {
		t.Errorf("Get = %+v, %v", got, err)
	}
	v.objects["p/a_b.json"] = "garbage"
	got, err = l.Get(context.Background(), "a/b", v.read)
	if !errors.Is(err, stores.ErrCorrupt) || !strings.Contains(err.Error(), "gs://b/p/a_b.json") || got.Version != "v-garbage" || string(got.Raw) != "garbage" || got.State != nil {
		t.Errorf("Get of an unreadable record = %+v, %v; want ErrCorrupt with its version and bytes", got, err)
	}
	v.objects["p/a_b.json"] = other
	if got, err := l.Get(context.Background(), "a/b", v.read); !errors.Is(err, stores.ErrNotFound) || got.Raw != nil {
		t.Errorf("Get of a colliding resource = %+v, %v; want ErrNotFound", got, err)
	}
	if _, err := l.Get(context.Background(), "x", v.read); !errors.Is(err, stores.ErrNotFound) {
		t.Errorf("Get of a missing record: %v", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Get(cancelled, "a/b", v.read); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a cancelled context: %v", err)
	}
}

func TestLockID(t *testing.T) {
	l := Layout{Scheme: "gs", Bucket: "b", Prefix: "p/"}
	v := &versioned{objects: map[string]string{
		"p/a_b.json":   encoded(t, "a/b"), // maps back: a/b
		"p/c_d.json":   encoded(t, "e"),   // another resource: keep the name
		"p/bad.json":   "garbage",
		"p/plain.json": encoded(t, "plain"),
	}}
	tests := []struct {
		lock, id   string
		fromRecord bool
	}{
		{"p/a_b.lock", "a/b", true}, {"p/plain.lock", "plain", true},
		{"p/c_d.lock", "c_d", false}, {"p/bad.lock", "bad", false}, {"p/none.lock", "none", false},
	}
	for _, tt := range tests {
		if id, from := l.LockID(context.Background(), tt.lock, v.read); id != tt.id || from != tt.fromRecord {
			t.Errorf("LockID(%s) = %q, %v; want %q, %v", tt.lock, id, from, tt.id, tt.fromRecord)
		}
	}
}

func TestListSortsByIDThenSource(t *testing.T) {
	e := func(id, src string) stores.Entry { return stores.Entry{ID: id, Source: src} }
	got, err := List(func(yield func([]stores.Entry) error) error {
		if err := yield([]stores.Entry{e("b", "2"), e("a", "9")}); err != nil {
			return err
		}
		return yield([]stores.Entry{e("b", "1"), e("a", "1")})
	})
	want := []stores.Entry{e("a", "1"), e("a", "9"), e("b", "1"), e("b", "2")}
	if err != nil || len(got) != len(want) {
		t.Fatalf("List = %v, %v", got, err)
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Source != want[i].Source {
			t.Errorf("List = %v, want %v", got, want)
			break
		}
	}
	boom := errors.New("boom")
	if got, err := List(func(func([]stores.Entry) error) error { return boom }); !errors.Is(err, boom) || got != nil {
		t.Errorf("List of a failed stream = %v, %v", got, err)
	}
}

// Records adds the backend's name, the operation and the ID to every error
// and checks a save before any request.
func TestRecordsWrapErrors(t *testing.T) {
	v := &versioned{objects: map[string]string{"p/a.json": encoded(t, "a")}, conflicts: 100}
	r := NewRecords("gcs", Layout{Scheme: "gs", Bucket: "b", Prefix: "p/"}, 2, Backend{Read: v.read, SaveIf: v.saveIf, DeleteIf: v.deleteIf})
	ctx := context.Background()
	checks := []struct {
		err  error
		want string
	}{
		{r.SaveIf(ctx, &stores.State{ResourceID: "a"}, "v1"), `gcs: save "a": `},
		{r.SaveIf(ctx, &stores.State{}, "v1"), `gcs: save "": record has no resource_id`},
		{r.SaveIf(ctx, nil, "v1"), `gcs: save "": record has no resource_id`},
		{r.DeleteIf(ctx, "a", "v1"), `gcs: delete "a": `},
		{r.Save(ctx, &stores.State{ResourceID: "a"}), `gcs: save "a": `},
		{r.Delete(ctx, "a"), `gcs: delete "a": `},
	}
	for _, c := range checks {
		if c.err == nil || !strings.HasPrefix(c.err.Error(), c.want) {
			t.Errorf("error %v, want it to start %q", c.err, c.want)
		}
	}
	_, err := r.Get(ctx, "missing")
	if !errors.Is(err, stores.ErrNotFound) || !strings.HasPrefix(err.Error(), `gcs: get "missing": `) {
		t.Errorf("Get: %v", err)
	}
	if st, err := r.Get(ctx, "a"); err != nil || st.ResourceID != "a" {
		t.Errorf("Get = %v, %v", st, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := r.DeleteIf(cancelled, "a", "v1"); !errors.Is(err, context.Canceled) {
		t.Errorf("DeleteIf with a cancelled context: %v", err)
	}
}

func checkErr(t *testing.T, err, wantErr error, wantText string) {
	t.Helper()
	switch {
	case wantErr == nil && wantText == "":
		if err != nil {
			t.Errorf("error %v, want none", err)
		}
	case wantErr != nil && !errors.Is(err, wantErr):
		t.Errorf("error %v, want %v", err, wantErr)
	case wantText != "" && (err == nil || !strings.Contains(err.Error(), wantText)):
		t.Errorf("error %v, want it to say %q", err, wantText)
	}
}
