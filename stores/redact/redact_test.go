package redact

import (
	"testing"

	"statescope/stores"
)

func TestIsSecretKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"password", true}, {"db_password", true}, {"PASSWORD", true}, {"secret", true},
		{"client_secret", true}, {"token", true}, {"api_key", true}, {"apiKey", true},
		{"access_key", true}, {"private_key", true}, {"credentials", true},
		{"connection_string", true}, {"dsn", true}, {"key", true}, {"ssh-key", true},
		{"endpoint", false}, {"port", false}, {"hostname", false}, {"keyspace", false},
		{"monkey_count", false}, {"region", false}, {"public_ip", false},
	}
	for _, tt := range tests {
		if got := IsSecretKey(tt.key); got != tt.want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestStateMasksWithoutTouchingOriginal(t *testing.T) {
	s := &stores.State{ResourceID: "db", Outputs: map[string]any{
		"host":     "db.internal",
		"password": "hunter2",
		"nested":   map[string]any{"token": "abc", "url": "postgres://app:s3cret@db:5432/app"},
		"list":     []any{"-----BEGIN RSA PRIVATE KEY-----\nxyz"},
	}}
	m := State(s)
	if m.Outputs["password"] != Mask || m.Outputs["host"] != "db.internal" {
		t.Errorf("masking: %v", m.Outputs)
	}
	nested := m.Outputs["nested"].(map[string]any)
	if nested["token"] != Mask || nested["url"] != Mask {
		t.Errorf("nested masking: %v", nested)
	}
	if m.Outputs["list"].([]any)[0] != Mask {
		t.Errorf("PEM in a list not masked")
	}
	if s.Outputs["password"] != "hunter2" {
		t.Error("masking changed the original record")
	}
	if n := Count(s); n != 4 {
		t.Errorf("Count = %d, want 4", n)
	}
}

func TestText(t *testing.T) {
	got := Text("dial postgres://app:s3cret@db:5432/x failed")
	if got != "dial postgres://app:"+Mask+"@db:5432/x failed" {
		t.Errorf("Text = %q", got)
	}
}
