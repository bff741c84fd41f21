package repair_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"statescope/stores"
	"statescope/stores/repair"
	"statescope/stores/repair/repairtest"
)

func TestParseEdited(t *testing.T) {
	orig := repairtest.Record("db")
	good, err := stores.EncodeState(orig)
	if err != nil {
		t.Fatal(err)
	}
	with := func(key string, v any) string {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		m[key] = v
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name, text string
		wantErr    string // "" for valid
	}{
		{"unchanged", string(good), ""},
		{"new status", with("status", "destroyed"), ""},
		{"null outputs", with("outputs", nil), ""},
		{"empty created_at", with("created_at", ""), ""},
		{"renamed", with("resource_id", "db2"), `resource_id must stay "db"`},
		{"unknown status", with("status", "running"), `status "running" is not one of`},
		{"outputs array", with("outputs", []any{}), "outputs must be an object or null"},
		{"config string", with("config", "x"), "config must be an object or null"},
		{"bad time", with("updated_at", "yesterday"), `updated_at "yesterday" is not an RFC 3339 time`},
		{"no updated_at", with("updated_at", ""), `updated_at "" is not an RFC 3339 time`},
		{"typo key", with("stauts", "active"), "unknown keys stauts"},
		{"wrong type", with("dependencies", "x"), "dependencies"},
		{"syntax", strings.Replace(string(good), `"provider": "aws",`, `"provider": "aws"`, 1), "invalid JSON at line 5"},
		{"not an object", `["db"]`, "must be a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := repair.ParseEdited(orig, []byte(tt.text))
			if tt.wantErr == "" {
				if err != nil || st == nil {
					t.Fatalf("valid edit rejected: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, repair.ErrInvalid) {
				t.Errorf("error %v, want ErrInvalid containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestDiffMasksSecrets(t *testing.T) {
	a := repairtest.Record("db")
	a.Outputs["password"] = "old-pass-value"
	a.Outputs["token"] = "same-token-value"
	a.Config["conn"] = map[string]any{"url": "postgres://u:inline-pass@h/db"}
	a.Error = "connect postgres://u:err-pass@h failed"
	b := a.Clone()
	b.Outputs["password"] = "new-pass-value"
	b.Config["conn"] = map[string]any{"url": "postgres://u:inline-pass2@h/db"}
	b.Status = stores.StatusError
	d := repair.Diff("a", "b", a, b)
	for _, secret := range []string{"old-pass-value", "new-pass-value", "same-token-value", "inline-pass", "err-pass"} {
		if strings.Contains(d, secret) {
			t.Errorf("diff shows secret %q:\n%s", secret, d)
		}
	}
	for _, want := range []string{`+  "status": "error"`, `"password": "••••••••"`, `"password": "•••••••• (changed)"`, `"url": "•••••••• (changed)"`} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, `"token": "•••••••• (changed)"`) {
		t.Errorf("an unchanged secret is marked changed:\n%s", d)
	}
	if got := repair.Diff("a", "b", a, a.Clone()); got != "(no differences)\n" {
		t.Errorf("diff of equal records: %q", got)
	}
	if created := repair.Diff("none", "new", nil, a); strings.Contains(created, "old-pass-value") || !strings.Contains(created, `+  "resource_id": "db"`) {
		t.Errorf("diff of a created record:\n%s", created)
	}
}

func TestPin(t *testing.T) {
	o := repair.Observed{ID: "x", Exists: true, SHA256: "abc"}
	for _, pin := range []string{"", "abc", "sha256:abc"} {
		if err := o.Pin(pin); err != nil {
			t.Errorf("pin %q: %v", pin, err)
		}
	}
	if err := o.Pin("abd"); !errors.Is(err, repair.ErrRefused) || !errors.Is(err, stores.ErrConflict) {
		t.Errorf("wrong pin: %v", err)
	}
}

func TestTargetName(t *testing.T) {
	if got := repair.TargetName("postgres://u:pw@h/db?sslmode=disable"); strings.Contains(got, "pw") {
		t.Errorf("credentials kept: %s", got)
	}
	if got := repair.TargetName("/var/lib/state"); got != "file:///var/lib/state" {
		t.Errorf("directory: %s", got)
	}
}
