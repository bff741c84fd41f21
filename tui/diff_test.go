package tui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"statescope/stores"
	"statescope/stores/memory"
)

// twinRecord is a record that differs from base only where change says.
func twinRecord(id string, change func(s *stores.State)) *stores.State {
	s := &stores.State{
		ResourceID: id, ResourceType: "infra.database", Provider: "aws", ProviderID: "db-1",
		Status: stores.StatusActive, Outputs: map[string]any{"endpoint": "db.internal", "password": "hunter2"},
		Config: map[string]any{"size": "small"}, Dependencies: []string{"prod/vpc/aws"},
		CreatedAt: "2025-01-01T00:00:00Z", UpdatedAt: "2025-01-02T00:00:00Z",
	}
	if change != nil {
		change(s)
	}
	return s
}

// diffAgainst opens the diff of "a" and compares it with the file at path.
func diffAgainst(t *testing.T, h *syncHarness, path string) string {
	t.Helper()
	h.run(h.m.push(newDiffView(h.m.env, "a", twinRecord("a", nil))))
	h.keys("tab", "tab", "tab")
	h.typeText(path)
	h.keys("enter")
	return h.screen()
}

func writeJSON(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "other.json")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDiffComparesTheWholeRecord: records that differ outside outputs and
// config are never "No differences"; each field shows under its name.
func TestDiffComparesTheWholeRecord(t *testing.T) {
	tests := []struct {
		name   string
		change func(s *stores.State)
		want   string
	}{
		{"nothing", nil, "No differences"},
		{"status", func(s *stores.State) { s.Status = stores.StatusError }, `~ status  "active" → "error"`},
		{"dependencies", func(s *stores.State) { s.Dependencies = append(s.Dependencies, "prod/dns/api") }, `+ dependencies[1]`},
		{"provider_id", func(s *stores.State) { s.ProviderID = "db-2" }, `~ provider_id`},
		{"error", func(s *stores.State) { s.Error = "quota exceeded" }, `+ error`},
		{"timestamps", func(s *stores.State) { s.UpdatedAt = "2025-02-01T00:00:00Z" }, `~ updated_at`},
		{"type", func(s *stores.State) { s.ResourceType = "infra.cache" }, `~ resource_type`},
		{"config", func(s *stores.State) { s.Config["size"] = "large" }, `~ config.size`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other := memory.New()
			if err := other.Save(context.Background(), twinRecord("a", tt.change)); err != nil {
				t.Fatal(err)
			}
			h := newSyncHarness(t, Options{Session: Session{Store: memory.New(), Name: "mem"}, Contexts: []string{"staging"},
				OpenContext: func(context.Context, string) (Session, error) { return Session{Store: other, Name: "staging"}, nil }})
			h.run(h.m.push(newDiffView(h.m.env, "a", twinRecord("a", nil))))
			h.keys("tab", "enter")
			s := h.screen()
			if strings.Contains(s, "No differences") != (tt.change == nil) || !strings.Contains(s, tt.want) || !strings.Contains(s, "whole record") {
				t.Fatalf("want %q and no \"No differences\":\n%s", tt.want, s)
			}
		})
	}
}

func TestDiffPartialAndFailedSources(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: memory.New(), Name: "mem"}})
	same := writeJSON(t, `{"outputs": {"endpoint": "db.internal", "password": "hunter2"}}`)
	s := diffAgainst(t, h, same)
	if !strings.Contains(s, "only outputs compared") || !strings.Contains(s, "No differences in outputs") || !strings.Contains(s, "outputs only ·") {
		t.Fatalf("an outputs-only file is not said to be a partial comparison:\n%s", s)
	}
	h.keys("esc")

	bare := writeJSON(t, `{"endpoint": "db.other"}`)
	s = diffAgainst(t, h, bare)
	if !strings.Contains(s, "~ outputs.endpoint") || !strings.Contains(s, "- outputs.password") || strings.Contains(s, "config") && strings.Contains(s, "- config") {
		t.Fatalf("a bare outputs object is compared as outputs only:\n%s", s)
	}

	// A failed compare after a good one: nothing of the old one remains.
	h.keys("tab")
	h.typeText(filepath.Join(t.TempDir(), "missing.json"))
	h.keys("enter")
	s = h.screen()
	if strings.Contains(s, bare) || !strings.Contains(s, "missing.json  (not compared)") || !strings.Contains(s, "cannot compare") {
		t.Fatalf("the header still names the previous source after a failed compare:\n%s", s)
	}
}
