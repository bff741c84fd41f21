package stores

import (
	"fmt"
	"os"
	"os/user"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Judge's order is total: verdict (orphaned, stale, unknown, held), then
// oldest first, then resource ID.
func TestJudgeOrder(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	old, older := now.Add(-time.Hour), now.Add(-2*time.Hour)
	locks := []LockInfo{
		{ResourceID: "held-b", AcquiredAt: now.Add(-time.Minute)},
		{ResourceID: "stale-b", AcquiredAt: old},
		{ResourceID: "held-a", AcquiredAt: now.Add(-time.Minute)},
		{ResourceID: "unknown"},
		{ResourceID: "stale-a", AcquiredAt: old},
		{ResourceID: "stale-older", AcquiredAt: older},
		{ResourceID: "orphan-new", AcquiredAt: now.Add(-time.Minute), HolderGone: true},
		{ResourceID: "orphan-old", AcquiredAt: older, HolderGone: true},
		// Two objects claim one resource (colliding names): their listed
		// order is kept.
		{ResourceID: "twin", AcquiredAt: old, Source: "first"},
		{ResourceID: "twin", AcquiredAt: old, Source: "second"},
	}
	Judge(locks, now, 15*time.Minute)
	var got []string
	for _, l := range locks {
		got = append(got, l.ResourceID+l.Source)
	}
	want := "orphan-old orphan-new stale-older stale-a stale-b twinfirst twinsecond unknown held-a held-b"
	if strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
}

// A lock exactly stale-after old is still held; a second more is stale.
func TestJudgeStaleBoundary(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	locks := []LockInfo{
		{ResourceID: "at", AcquiredAt: now.Add(-15 * time.Minute)},
		{ResourceID: "past", AcquiredAt: now.Add(-15*time.Minute - time.Second)},
		{ResourceID: "gone", HolderGone: true, Evidence: "the socket is closed"},
		{ResourceID: "gone-quietly", HolderGone: true},
	}
	Judge(locks, now, 15*time.Minute)
	want := map[string]string{
		"at":           "held: taken 15m ago; no holder recorded",
		"past":         "stale: held 15m, longer than 15m; no holder recorded",
		"gone":         "orphaned: the socket is closed",
		"gone-quietly": "orphaned: the holder is gone",
	}
	for _, l := range locks {
		if got := string(l.Verdict) + ": " + l.Evidence; got != want[l.ResourceID] {
			t.Errorf("%s: %q, want %q", l.ResourceID, got, want[l.ResourceID])
		}
	}
}

// A holder on this host is judged by its pid alone, whatever its age; a
// holder elsewhere (or without a pid) by age.
func TestJudgeLocalHolder(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	host, _ := os.Hostname()
	long := now.Add(-48 * time.Hour)
	locks := []LockInfo{
		{ResourceID: "alive", AcquiredAt: long, Holder: &Holder{Host: host, PID: os.Getpid()}},
		{ResourceID: "dead", AcquiredAt: now, Holder: &Holder{Host: host, PID: deadPID(t)}},
		{ResourceID: "no-pid", AcquiredAt: long, Holder: &Holder{Host: host}},
		{ResourceID: "no-host", AcquiredAt: long, Holder: &Holder{PID: deadPID(t)}},
	}
	Judge(locks, now, 15*time.Minute)
	want := map[string]Verdict{"alive": VerdictHeld, "dead": VerdictOrphaned, "no-pid": VerdictStale, "no-host": VerdictStale}
	for _, l := range locks {
		if l.Verdict != want[l.ResourceID] {
			t.Errorf("%s: %s (%s), want %s", l.ResourceID, l.Verdict, l.Evidence, want[l.ResourceID])
		}
	}
}

func TestProcessAlive(t *testing.T) {
	tests := []struct {
		pid  int
		want bool
	}{{os.Getpid(), true}, {0, false}, {-1, false}, {deadPID(t), false}}
	for _, tt := range tests {
		if got := ProcessAlive(tt.pid); got != tt.want {
			t.Errorf("ProcessAlive(%d) = %v, want %v", tt.pid, got, tt.want)
		}
	}
}

func TestNewHolder(t *testing.T) {
	h := NewHolder("apply")
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if h.Tool != "statescope" || h.PID != os.Getpid() || h.Operation != "apply" || h.User != u.Username || h.Host != host {
		t.Errorf("holder %+v", h)
	}
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(h.Nonce) || h.Since.Nanosecond() != 0 || h.Since.Location() != time.UTC {
		t.Errorf("nonce %q, since %v", h.Nonce, h.Since)
	}
}

// Notes on unreadable lock bodies quote at most 60 characters.
func TestLockBodyNotes(t *testing.T) {
	sixty := strings.Repeat("x", 60)
	tests := []struct{ body, note string }{
		{sixty, `lock body is not a timestamp: "` + sixty + `"`},
		{sixty + "y", `lock body is not a timestamp: "` + sixty + `…"`},
		{"0001-01-01T00:00:00Z", "lock body holds the zero time"},
		{"  2026-01-01T00:00:00Z  \n  \n", ""},
		{"\n\nlocked\n", `lock body is "locked" (no timestamp)`},
	}
	for _, tt := range tests {
		if _, _, note := DecodeLockBody([]byte(tt.body)); note != tt.note {
			t.Errorf("%q: note %q, want %q", tt.body, note, tt.note)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Hour, "0s"}, {0, "0s"}, {45 * time.Second, "45s"}, {time.Minute - time.Nanosecond, "59s"},
		{time.Minute, "1m"}, {90 * time.Minute, "1h"}, {time.Hour - time.Second, "59m"}, {time.Hour, "1h"},
		{48*time.Hour - time.Second, "47h"}, {48 * time.Hour, "2d"}, {100 * time.Hour, "4d"},
	}
	for _, tt := range tests {
		if got := HumanDuration(tt.d); got != tt.want {
			t.Errorf("HumanDuration(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for ts, want := range map[string]string{"": "-", "yesterday": "-", "2026-05-01T09:00:00Z": "3h"} {
		if got := RelativeAge(ts, now); got != want {
			t.Errorf("RelativeAge(%q) = %q, want %q", ts, got, want)
		}
	}
}

// A refusal names the operation and the resource.
func TestReadOnlyRefusalNamesTheResource(t *testing.T) {
	ro := ReadOnly(fakeStore{})
	ctx := t.Context()
	for err, want := range map[error]string{
		ro.Save(ctx, &State{ResourceID: "team/db"}): `save "team/db" refused`,
		ro.Save(ctx, nil):                                  `save "" refused`,
		ro.Delete(ctx, "team/db"):                          `delete "team/db" refused`,
		ro.(ForceUnlocker).ForceUnlock(ctx, "team/db", ""): `force unlock "team/db" refused`,
	} {
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%v, want %q", err, want)
		}
	}
}

func TestHolderString(t *testing.T) {
	tests := []struct {
		h    *Holder
		want string
	}{
		{nil, ""},
		{&Holder{}, ""},
		{&Holder{User: "ops", Host: "ci-1", PID: 42, Operation: "apply"}, "ops@ci-1 pid 42 (apply)"},
		{&Holder{Host: "ci-1"}, "@ci-1"},
		{&Holder{PID: 7}, "pid 7"},
		{&Holder{User: "ops", Operation: "destroy"}, "ops (destroy)"},
	}
	for _, tt := range tests {
		if got := tt.h.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.h, got, tt.want)
		}
	}
}

// The README's default: a lock becomes stale after 15 minutes.
func TestDefaultStaleAfter(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	locks := []LockInfo{{ResourceID: "14m", AcquiredAt: now.Add(-14 * time.Minute)}, {ResourceID: "16m", AcquiredAt: now.Add(-16 * time.Minute)}}
	Judge(locks, now, DefaultStaleAfter)
	if locks[0].ResourceID != "16m" || locks[0].Verdict != VerdictStale || locks[1].Verdict != VerdictHeld {
		t.Errorf("verdicts %+v", locks)
	}
}

func TestReadOnlyDescribe(t *testing.T) {
	if got, want := Describe(ReadOnly(fakeStore{})), Describe(fakeStore{})+" (read-only)"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
}

// Evidence says what is known of the holder: running here, gone, on
// another host (not checked), or none recorded at all — never the same
// words for "no holder" and "a holder we could not check".
func TestJudgeEvidenceNamesTheHolder(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	host, _ := os.Hostname()
	recent := now.Add(-time.Minute)
	locks := []LockInfo{
		{ResourceID: "running", AcquiredAt: recent, Holder: &Holder{Host: host, PID: os.Getpid()}},
		{ResourceID: "elsewhere", AcquiredAt: recent, Holder: &Holder{Host: "build-7", PID: 812}},
		{ResourceID: "pidless", AcquiredAt: recent, Holder: &Holder{Host: host}},
		{ResourceID: "upstream", AcquiredAt: recent},
		{ResourceID: "upstream-old", AcquiredAt: now.Add(-time.Hour)},
		{ResourceID: "bare"},
	}
	Judge(locks, now, 15*time.Minute)
	want := map[string]string{
		"running":      fmt.Sprintf("held: holder pid %d is running on this host", os.Getpid()),
		"elsewhere":    "held: taken 1m ago; holder pid 812 on build-7, not checked from this host",
		"pidless":      "held: taken 1m ago; holder recorded without a pid",
		"upstream":     "held: taken 1m ago; no holder recorded",
		"upstream-old": "stale: held 1h, longer than 15m; no holder recorded",
		"bare":         "unknown: acquisition time unknown; no holder recorded",
	}
	for _, l := range locks {
		if got := string(l.Verdict) + ": " + l.Evidence; got != want[l.ResourceID] {
			t.Errorf("%s: %q, want %q", l.ResourceID, got, want[l.ResourceID])
		}
	}
}
