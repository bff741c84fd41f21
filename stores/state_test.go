package stores

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// wfctlRecord is laid out as wfctl writes (config before outputs, no
// error key), with an unknown field, a hand-formatted number and an
// unescaped '<' that the engine would escape.
const wfctlRecord = `{
  "resource_id": "prod/db",
  "resource_type": "infra.database",
  "provider": "aws",
  "status": "active",
  "config": {"size": 1.50, "note": "<b>"},
  "outputs": {
    "port": 5432,
    "zeta": "z",
    "alpha": "a"
  },
  "future_field": {"nested": [1, 2.0, "x"], "on": true},
  "created_at": "2026-01-01T00:00:00Z",
  "updated_at": "2026-01-02T00:00:00Z"
}
`

// TestWritesChangeOnlyWhatChanged: every kind of change rewrites only the
// fields it touches; every other byte (unknown fields, key order, spacing,
// number formatting, escapes, the trailing newline) stays.
func TestWritesChangeOnlyWhatChanged(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		change func(*State)
		want   string
	}{
		{"unchanged", wfctlRecord, func(*State) {}, wfctlRecord},
		{"status and time", wfctlRecord, func(s *State) { s.Status, s.UpdatedAt = "error", "2026-03-03T00:00:00Z" },
			strings.NewReplacer(`"status": "active"`, `"status": "error"`, `"updated_at": "2026-01-02T00:00:00Z"`, `"updated_at": "2026-03-03T00:00:00Z"`).Replace(wfctlRecord)},
		{"error added where upstream puts it", wfctlRecord, func(s *State) { s.Error = "boom" },
			strings.Replace(wfctlRecord, `"updated_at": "2026-01-02T00:00:00Z"`, `"updated_at": "2026-01-02T00:00:00Z",`+"\n  "+`"error": "boom"`, 1)},
		{"one output changed, order kept", wfctlRecord, func(s *State) { s.Outputs["zeta"] = "Z" },
			strings.Replace(wfctlRecord, `"zeta": "z"`, `"zeta": "Z"`, 1)},
		{"an output added", wfctlRecord, func(s *State) { s.Outputs["new"] = json.Number("7") },
			strings.Replace(wfctlRecord, `"alpha": "a"`, `"alpha": "a",`+"\n    "+`"new": 7`, 1)},
		{"a config key removed from a compact object", wfctlRecord, func(s *State) { delete(s.Config, "size") },
			strings.Replace(wfctlRecord, `{"size": 1.50, "note": "<b>"}`, `{"note": "<b>"}`, 1)},
		{"error cleared", `{"resource_id":"a","status":"error","error":"x","zz":1}`, func(s *State) { s.Status, s.Error = "active", "" },
			`{"resource_id":"a","status":"active","zz":1}`},
		{"dependencies added to a compact record", `{"resource_id":"a","created_at":"","updated_at":""}`, func(s *State) { s.Dependencies = []string{"b"} },
			`{"resource_id":"a","dependencies":["b"],"created_at":"","updated_at":""}`},
		{"unknown field changed", wfctlRecord, func(s *State) { s.Unknown[0].Value = json.RawMessage(`{"on":false}`) },
			strings.Replace(wfctlRecord, `{"nested": [1, 2.0, "x"], "on": true}`, `{"on": false}`, 1)},
		{"unknown field removed", wfctlRecord, func(s *State) { s.Unknown = nil },
			strings.Replace(wfctlRecord, `  "future_field": {"nested": [1, 2.0, "x"], "on": true},`+"\n", "", 1)},
		{"a key written in other case", `{"Resource_ID":"a","STATUS":"active"}`, func(s *State) { s.Status = "error" },
			`{"Resource_ID":"a","STATUS":"error"}`},
		{"a repeated key: the one decoders keep", `{"resource_id":"a","status":"x","status":"active"}`, func(s *State) { s.Status = "error" },
			`{"resource_id":"a","status":"x","status":"error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := DecodeState([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			c := s.Clone()
			tt.change(c)
			got, err := EncodeState(c)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("wrote\n%s\nwant\n%s", got, tt.want)
			}
			back, err := DecodeState(got)
			if err != nil || !back.Equal(c) {
				t.Errorf("the written record reads back as %+v (%v), want %+v", back, err, c)
			}
		})
	}
}

func TestUnknownFields(t *testing.T) {
	s, err := DecodeState([]byte(wfctlRecord))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Unknown) != 1 || s.Unknown[0].Key != "future_field" || string(s.Unknown[0].Value) != `{"nested": [1, 2.0, "x"], "on": true}` {
		t.Fatalf("unknown fields: %+v", s.Unknown)
	}
	// A record built in memory writes them after the known fields, in the
	// engine's layout.
	fresh := *s.Clone()
	fresh.stored = nil
	got, err := EncodeState(&fresh)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(got), "\"updated_at\": \"2026-01-02T00:00:00Z\",\n  \"future_field\": {\n    \"nested\": [\n      1,\n      2.0,\n      \"x\"\n    ],\n    \"on\": true\n  }\n}") {
		t.Errorf("fresh encoding:\n%s", got)
	}
	other := s.Clone()
	other.Unknown[0].Value = json.RawMessage(`{"on": true, "nested": [1, 2.0, "x"]}`)
	if !other.Equal(s) {
		t.Error("the same unknown value with its keys in another order is not Equal")
	}
	other.Unknown[0].Value = json.RawMessage(`{"on": true, "nested": [1, 2, "x"]}`)
	if other.Equal(s) {
		t.Error("2.0 and 2 are Equal: a number's formatting is part of the record")
	}
}

// TestWithLayoutOf: a replacement record (an edit, parsed from the
// editor's text) is written in the stored record's layout.
func TestWithLayoutOf(t *testing.T) {
	stored, _ := DecodeState([]byte(wfctlRecord))
	edited, err := DecodeState([]byte(`{"resource_id":"prod/db","resource_type":"infra.database","provider":"aws","status":"destroyed",
		"outputs":{"alpha":"a","port":5432,"zeta":"z"},"config":{"note":"<b>","size":1.50},
		"future_field":{"on":true,"nested":[1,2.0,"x"]},"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-02T00:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := EncodeState(edited.WithLayoutOf(stored))
	if want := strings.Replace(wfctlRecord, `"status": "active"`, `"status": "destroyed"`, 1); string(got) != want {
		t.Errorf("edited record written as\n%s", got)
	}
}

// FormatTime writes what the engine's layout writes, whatever the zone
// and precision, across the years RFC 3339 allows.
func TestFormatTimeIsTheEngineLayout(t *testing.T) {
	zone := time.FixedZone("x", -(9*3600 + 30*60))
	for _, tm := range []time.Time{
		time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, zone),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 1, time.Local),
	} {
		if got, want := FormatTime(tm), tm.UTC().Format(TimeLayout); got != want {
			t.Errorf("%v: %q, want %q", tm, got, want)
		}
	}
}
