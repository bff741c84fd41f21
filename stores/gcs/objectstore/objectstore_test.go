package objectstore

import (
	"strings"
	"testing"

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
