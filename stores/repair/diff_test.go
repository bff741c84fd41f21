package repair_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"statescope/stores"
	"statescope/stores/memory"
	"statescope/stores/redact"
	"statescope/stores/redact/redacttest"
	"statescope/stores/repair"
)

// rewritten is s with every secret value replaced by another, as an edit
// that rotates all credentials would leave it.
func rewritten(t *testing.T, s *stores.State) *stores.State {
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.NewReplacer("hunter2-", "swordfish-", "Pw-in-url", "Rotated-pw", "pem", "new").Replace(string(data)))
	var out stores.State
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// A diff masks every rule on both sides, and still shows which masked
// values change.
func TestDiffMasksEveryRule(t *testing.T) {
	before := redacttest.Record("team/db")
	before.Outputs["tokens"] = []any{"tok-kept", "tok-old"} // a list under a secret key
	before.Error = "dial postgres://app:old-pw@db:5432/app failed"
	after := rewritten(t, before)
	after.Outputs["tokens"] = []any{"tok-kept", "tok-new"}
	after.Error = "dial postgres://app:new-pw@db:5432/app failed"
	diff := repair.Diff("before", "after", before, after)
	if leaks := redacttest.Leaks(diff); len(leaks) > 0 {
		t.Errorf("the diff shows %d secrets of the old record:\n%s", len(leaks), strings.Join(leaks, "\n"))
	}
	for _, s := range []string{"swordfish", "Rotated-pw", "tok-", "old-pw", "new-pw"} {
		if strings.Contains(diff, s) {
			t.Errorf("the diff shows %q:\n%s", s, diff)
		}
	}
	if n := strings.Count(diff, redact.Mask+" (changed)"); n < len(redacttest.SecretKeys) {
		t.Errorf("%d masked values marked changed, want every changed secret:\n%s", n, diff)
	}
	if !strings.Contains(diff, `+  "error": "dial postgres://app:`+redact.Mask+`@db:5432/app failed (changed)"`) {
		t.Errorf("a change hidden inside masked text is not marked:\n%s", diff)
	}
}

// Plain changes are shown as they are, never marked as hidden changes.
func TestDiffPlainChangeIsNotMarked(t *testing.T) {
	before := &stores.State{ResourceID: "db", Status: "active", Error: "timeout", Outputs: map[string]any{"port": "5432", "ports": []any{"1", "2"}}}
	after := &stores.State{ResourceID: "db", Status: "error", Error: "refused", Outputs: map[string]any{"port": "5433", "ports": []any{"1", "3"}}}
	diff := repair.Diff("a", "b", before, after)
	if strings.Contains(diff, "(changed)") || !strings.Contains(diff, `+  "error": "refused"`) || !strings.Contains(diff, `+      "3"`) {
		t.Errorf("diff:\n%s", diff)
	}
}

func TestConflictErrorSaysWhatIsThereNow(t *testing.T) {
	seen := repair.Observed{ID: "db", Exists: true, SHA256: strings.Repeat("a", 64), Version: "v1"}
	now := repair.Observed{ID: "db", Exists: true, SHA256: strings.Repeat("b", 64), Version: "v2"}
	changed := (&repair.ConflictError{ID: "db", Seen: seen, Now: now}).Error()
	if !strings.Contains(changed, "is now sha256 ") || !strings.Contains(changed, "version v2") || strings.Contains(changed, "could not be read") {
		t.Errorf("changed: %q", changed)
	}
	unreadable := (&repair.ConflictError{ID: "db", Seen: seen, NowErr: errors.New("boom")}).Error()
	if !strings.Contains(unreadable, "could not be read: boom") || strings.Contains(unreadable, "is now") {
		t.Errorf("unreadable: %q", unreadable)
	}
	corrupt := repair.Observed{ID: "db", Exists: true, SHA256: "0123456789abcdef", Corrupt: "invalid JSON"}
	want := "db changed since it was read (it was sha256 aaaaaaaaaaaa, version v1 and is now unreadable, sha256 0123456789ab)"
	if got := (&repair.ConflictError{ID: "db", Seen: seen, Now: corrupt}).Error(); !strings.HasPrefix(got, want) {
		t.Errorf("got %q, want %q…", got, want)
	}
	if got := (&repair.ConflictError{ID: "db", Seen: repair.Observed{Exists: true, SHA256: "abc"}, Now: repair.Observed{}}).Error(); !strings.Contains(got, "it was sha256 abc and is now absent") {
		t.Errorf("short hash or absent record: %q", got)
	}
}

// A lock backup holds the lock's own bytes where there are some, else a
// description of the lock.
func TestLockBytes(t *testing.T) {
	if got := string(repair.LockBytes(stores.LockInfo{ResourceID: "db", Raw: []byte("2026-01-01T00:00:00Z")})); got != "2026-01-01T00:00:00Z" {
		t.Errorf("with bytes: %q", got)
	}
	if got := string(repair.LockBytes(stores.LockInfo{ResourceID: "db", Token: "t1"})); !strings.Contains(got, `"resource_id": "db"`) {
		t.Errorf("without bytes: %q", got)
	}
}

// A delete plan's diff is labelled as the record deleted.
func TestDeletePlanDiff(t *testing.T) {
	s := memory.New()
	if err := s.Save(t.Context(), &stores.State{ResourceID: "db", Status: stores.StatusActive}); err != nil {
		t.Fatal(err)
	}
	p, err := repair.New(s, "mem://", t.TempDir()).PlanDelete(t.Context(), "db", false)
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Diff(); !strings.Contains(d, "+++ deleted") || !strings.Contains(d, "--- current db") {
		t.Errorf("diff:\n%s", d)
	}
}

// A reason given with a status other than error is not stored in the
// record, and the plan says so; with error it is stored, and nothing is said.
func TestSetStatusNotesAnUnstoredReason(t *testing.T) {
	s := memory.New()
	if err := s.Save(t.Context(), &stores.State{ResourceID: "db", Status: stores.StatusProvisioning}); err != nil {
		t.Fatal(err)
	}
	eng := repair.New(s, "mem://", t.TempDir())
	tests := []struct {
		status, reason string
		note           bool
	}{
		{stores.StatusDestroyed, "cleaned up by hand", true},
		{stores.StatusActive, "  ", false},
		{stores.StatusError, "crashed", false},
	}
	for _, tt := range tests {
		p, err := eng.PlanSetStatus(t.Context(), "db", tt.status, tt.reason)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(p.Notes) > 0; got != tt.note {
			t.Errorf("set-status %s %q: notes %q, want a note: %v", tt.status, tt.reason, p.Notes, tt.note)
		}
	}
}
