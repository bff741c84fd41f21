package stores

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// upstreamRecord is byte for byte what the engine writes (MarshalIndent,
// two spaces, HTML escaped, no trailing newline).
const upstreamRecord = `{
  "resource_id": "prod/db",
  "resource_type": "infra.database",
  "provider": "aws",
  "provider_id": "db-1",
  "status": "active",
  "outputs": {
    "big": 12345678901234567890,
    "html": "\u003cb\u003e\u0026",
    "port": 5432
  },
  "config": null,
  "dependencies": [
    "vpc"
  ],
  "created_at": "2026-01-01T00:00:00Z",
  "updated_at": "2026-01-02T00:00:00Z"
}`

func TestRecordRoundTripIsByteIdentical(t *testing.T) {
	s, err := DecodeState([]byte(upstreamRecord))
	if err != nil {
		t.Fatal(err)
	}
	out, err := EncodeState(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != upstreamRecord {
		t.Errorf("re-encoded record differs:\n%s", out)
	}
}

func TestDecodeStateForms(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
		check   func(*State) bool
	}{
		{"missing maps", `{"resource_id":"a"}`, "", func(s *State) bool { return s.Outputs == nil && s.Config == nil }},
		{"null maps", `{"resource_id":"a","outputs":null,"config":null}`, "", func(s *State) bool { return s.Outputs == nil }},
		{"empty maps", `{"resource_id":"a","outputs":{},"config":{}}`, "", func(s *State) bool { return s.Outputs != nil && len(s.Outputs) == 0 }},
		{"wfctl order", `{"resource_id":"a","status":"active","config":{"k":1},"outputs":{"o":2}}`, "", func(s *State) bool { return s.Config["k"] == json.Number("1") }},
		{"no id", `{"resource_type":"x"}`, "no resource_id", nil},
		{"not json", `{"resource_id":`, "invalid JSON", nil},
		{"array outputs", `{"resource_id":"a","outputs":[1]}`, "invalid JSON", nil},
		{"trailing data", `{"resource_id":"a"} {}`, "trailing", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := DecodeState([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(s) {
				t.Errorf("unexpected record %+v", s)
			}
		})
	}
}

func TestGuessID(t *testing.T) {
	if got := GuessID([]byte(`{"resource_id": "a\/b \"q\"", "outputs": {`), "file"); got != `a/b "q"` {
		t.Errorf("GuessID = %q", got)
	}
	if got := GuessID([]byte("\x00\x01"), "file"); got != "file" {
		t.Errorf("GuessID fallback = %q", got)
	}
}

func TestIsStuck(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	rec := func(status string, age time.Duration) *State {
		return &State{Status: status, UpdatedAt: FormatTime(now.Add(-age))}
	}
	tests := []struct {
		s    *State
		want bool
	}{
		{rec(StatusProvisioning, time.Hour), true},
		{rec(StatusDestroying, 16*time.Minute), true},
		{rec(StatusProvisioning, 5*time.Minute), false},
		{rec(StatusActive, 100*time.Hour), false},
		{&State{Status: StatusProvisioning}, false},
	}
	for i, tt := range tests {
		if got := tt.s.IsStuck(now, 15*time.Minute); got != tt.want {
			t.Errorf("%d: IsStuck = %v, want %v", i, got, tt.want)
		}
	}
}

func TestJudge(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	host, _ := os.Hostname()
	locks := []LockInfo{
		{ResourceID: "fresh", AcquiredAt: now.Add(-time.Minute)},
		{ResourceID: "old", AcquiredAt: now.Add(-time.Hour)},
		{ResourceID: "nowhen"},
		{ResourceID: "mine", AcquiredAt: now.Add(-time.Hour), Holder: &Holder{Host: host, PID: os.Getpid()}},
		{ResourceID: "gone", AcquiredAt: now.Add(-time.Minute), Holder: &Holder{Host: host, PID: deadPID(t)}},
		{ResourceID: "proved", AcquiredAt: now.Add(-time.Minute), HolderGone: true},
		{ResourceID: "elsewhere", AcquiredAt: now.Add(-time.Hour), Holder: &Holder{Host: "other-host", PID: 1}},
	}
	Judge(locks, now, 15*time.Minute)
	got := map[string]Verdict{}
	var order []string
	for _, l := range locks {
		got[l.ResourceID] = l.Verdict
		order = append(order, l.ResourceID)
		if l.Evidence == "" {
			t.Errorf("%s: no evidence", l.ResourceID)
		}
	}
	want := map[string]Verdict{"fresh": VerdictHeld, "old": VerdictStale, "nowhen": VerdictUnknown, "mine": VerdictHeld,
		"gone": VerdictOrphaned, "proved": VerdictOrphaned, "elsewhere": VerdictStale}
	for id, v := range want {
		if got[id] != v {
			t.Errorf("%s: verdict %s, want %s", id, got[id], v)
		}
	}
	if got[order[0]] != VerdictOrphaned || got[order[len(order)-1]] != VerdictHeld {
		t.Errorf("not sorted orphaned first: %v", order)
	}
}

// deadPID is a pid no process can have: one past the kernel's pid_max.
// (Asking ProcessAlive for a free one would skip the test exactly when
// ProcessAlive is broken.)
func deadPID(t *testing.T) int {
	data, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	max, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return max + 1
}

func TestLockBody(t *testing.T) {
	h := NewHolder("apply")
	at, got, note := DecodeLockBody(EncodeLockBody(h))
	if note != "" || got == nil || got.PID != h.PID || got.Operation != "apply" || !at.Equal(h.Since) {
		t.Errorf("round trip: %v %+v %q", at, got, note)
	}
	body := EncodeLockBody(h)
	if !bytes.HasPrefix(body, []byte(FormatTime(h.Since)+"\n")) {
		t.Errorf("lock body must start with the upstream timestamp: %q", body)
	}
	tests := []struct {
		body     string
		wantTime bool
		wantNote string
	}{
		{"2026-01-01T00:00:00Z", true, ""},
		{"locked", false, "locked"},
		{"", false, "empty"},
		{"garbage", false, "not a timestamp"},
		{"2026-01-01T00:00:00Z\n{oops", true, "unreadable"},
	}
	for _, tt := range tests {
		at, _, note := DecodeLockBody([]byte(tt.body))
		if at.IsZero() == tt.wantTime || !strings.Contains(note, tt.wantNote) || (tt.wantNote == "") != (note == "") {
			t.Errorf("%q: time %v note %q", tt.body, at, note)
		}
	}
}

func TestParseTargetAndOpen(t *testing.T) {
	Register("test", "test://name", nil)
	tests := []struct {
		in, scheme, path, wantErr string
	}{
		{"/var/lib/x", "file", "/var/lib/x", ""},
		{"file:///var/lib/x/", "file", "/var/lib/x", ""},
		{"file://host/x", "", "", "no host"},
		{"file://relative", "", "", "no host"},
		{"S3://bucket/p", "s3", "", ""},
		{"host=db dbname=state", "postgres", "", ""},
		{"", "", "", "empty"},
		{"%%%://x", "", "", "malformed"},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: got %v, want error %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.Scheme != tt.scheme || got.Path != tt.path {
			t.Errorf("%q: got %+v, %v", tt.in, got, err)
		}
	}
	_, err := Open(t.Context(), "nope://x")
	if err == nil || !strings.Contains(err.Error(), "accepted forms") || !strings.Contains(err.Error(), "test://name") {
		t.Errorf("unknown scheme error should list accepted forms: %v", err)
	}
}

func TestRedactTarget(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://app:hunter2@db:5432/x", "postgres://app:xxxxx@db:5432/x"},
		{"s3://b/p?region=eu&secretKey=abc", "s3://b/p?region=eu&secretKey=xxxxx"},
		{"/plain/path", "/plain/path"},
		{"postgres://u:pw@h:badport/db", "postgres://u:xxxxx@h:badport/db"},
		{"host=db user=app password='se cret' dbname=x", "host=db user=app password=xxxxx dbname=x"},
		{"host=db password=hunter2", "host=db password=xxxxx"},
		{`ssh://ops@h?plugin=/p&config={"secretKey":"x"}&cfg.accessKey=y`, "ssh://ops@h?cfg.accessKey=xxxxx&config=%7B%22secretKey%22%3A%22xxxxx%22%7D&plugin=%2Fp"},
		{"s3://b/p?endpoint=https://u:pw@minio:9000", "s3://b/p?endpoint=https%3A%2F%2Fu%3Axxxxx%40minio%3A9000"},
		{"s3://b/%zz?secretKey=abc", "s3://b/%zz?secretKey=xxxxx"},
	}
	for _, tt := range tests {
		if got := RedactTarget(tt.in); got != tt.want {
			t.Errorf("RedactTarget(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReadOnlyRefusesEveryMutation(t *testing.T) {
	ro := ReadOnly(fakeStore{})
	ctx := t.Context()
	for name, err := range map[string]error{
		"save":         ro.Save(ctx, &State{ResourceID: "a"}),
		"delete":       ro.Delete(ctx, "a"),
		"lock":         ro.Lock(ctx, "a"),
		"unlock":       ro.Unlock(ctx, "a"),
		"force unlock": ro.(ForceUnlocker).ForceUnlock(ctx, "a", "t"),
	} {
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s: %v, want ErrReadOnly", name, err)
		}
	}
	if !IsReadOnly(ro) {
		t.Error("IsReadOnly false")
	}
}

// TestOpenReadOnlyTellsTheBackend: OpenReadOnly wraps the store and tells
// its backend it will only be read; Open does not.
func TestOpenReadOnlyTellsTheBackend(t *testing.T) {
	var told []bool
	Register("intent", "intent:// (test)", func(_ context.Context, tg Target) (Store, error) {
		told = append(told, tg.ReadOnly)
		return readOnly{}, nil // any Store will do: it is never used
	})
	ctx := context.Background()
	if _, err := Open(ctx, "intent://x"); err != nil {
		t.Fatal(err)
	}
	s, err := OpenReadOnly(ctx, "intent://x")
	if err != nil {
		t.Fatal(err)
	}
	if !IsReadOnly(s) || len(told) != 2 || told[0] || !told[1] {
		t.Errorf("read-only wrapper %v, backend told %v", IsReadOnly(s), told)
	}
}
