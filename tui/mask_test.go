package tui

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"statescope/stores"
	"statescope/stores/memory"
)

// secretCase puts one secret where a masking rule must find it.
type secretCase struct {
	name string
	// place puts the secret value v into a record's outputs.
	place func(v string) map[string]any
}

// secretCases cover every secret-key and secret-value rule of
// stores/redact, in mixed case, nested in maps and lists.
func secretCases() []secretCase {
	key := func(k string) func(string) map[string]any {
		return func(v string) map[string]any { return map[string]any{k: v, "plain": "visible"} }
	}
	return []secretCase{
		{"password", key("password")}, {"passwd", key("db_passwd")}, {"pwd", key("PWD")},
		{"secret", key("client_secret")}, {"token", key("Access_Token")}, {"api_key", key("api_key")},
		{"apikey", key("ApiKey")}, {"api-key", key("x-api-key")}, {"access_key", key("AWS_ACCESS_KEY")},
		{"private", key("private_blob")}, {"credential", key("Credentials")}, {"connection_string", key("connection_string")},
		{"connstr", key("ConnStr")}, {"conn_str", key("conn_str")}, {"dsn", key("DSN")}, {"auth", key("basic_auth")},
		{"cert_key", key("cert_key")}, {"certificate-key", key("certificate-key")}, {"signing", key("signing_material")},
		{"session_key", key("SESSION_KEY")}, {"key alone", key("key")}, {"_key suffix", key("encryption_key")},
		{"-key suffix", key("master-key")}, {"sas", key("sas")},
		{"nested map", func(v string) map[string]any {
			return map[string]any{"db": map[string]any{"admin": map[string]any{"Password": v}}}
		}},
		{"list of maps", func(v string) map[string]any {
			return map[string]any{"users": []any{map[string]any{"name": "a", "token": v}}}
		}},
		{"url with password", func(v string) map[string]any {
			return map[string]any{"endpoint": "postgres://app:" + v + "@db.internal:5432/app"}
		}},
		{"url in a list", func(v string) map[string]any {
			return map[string]any{"replicas": []any{"mysql://root:" + v + "@replica/db"}}
		}},
		{"pem private key", func(v string) map[string]any {
			return map[string]any{"tls": "-----BEGIN RSA PRIVATE KEY-----\n" + v + "\n-----END RSA PRIVATE KEY-----"}
		}},
	}
}

func secretRecord(id string, outputs map[string]any) *stores.State {
	return &stores.State{ResourceID: id, ResourceType: "infra.database", Provider: "aws", Status: stores.StatusActive,
		Outputs: outputs, Config: map[string]any{"size": "small"}, CreatedAt: "2025-01-01T00:00:00Z", UpdatedAt: "2025-01-01T00:00:00Z"}
}

// TestSecretsMaskedInEveryTUISurface: for every rule, the detail view,
// the copy of its values, and the structural and text diffs never show
// the secret until x reveals it in that view.
func TestSecretsMaskedInEveryTUISurface(t *testing.T) {
	for i, tc := range secretCases() {
		t.Run(tc.name, func(t *testing.T) {
			mine, theirs := fmt.Sprintf("S3CRETmine%02d", i), fmt.Sprintf("S3CRETtheirs%02d", i)
			here, there := memory.New(), memory.New()
			if err := here.Save(context.Background(), secretRecord("db", tc.place(mine))); err != nil {
				t.Fatal(err)
			}
			if err := there.Save(context.Background(), secretRecord("db", tc.place(theirs))); err != nil {
				t.Fatal(err)
			}
			h := newSyncHarness(t, Options{Session: Session{Store: here, Name: "here"}, Contexts: []string{"there"},
				OpenContext: func(context.Context, string) (Session, error) { return Session{Store: there, Name: "there"}, nil }})
			h.run(h.m.push(newDetailView(h.m.env, stores.Row{ID: "db"})))
			leaks := func(where, text string) {
				t.Helper()
				if strings.Contains(text, "S3CRET") {
					t.Errorf("%s shows the secret:\n%s", where, text)
				}
			}
			leaks("detail", h.screen())
			h.keys("c")
			leaks("copied values", h.clipboard)
			h.keys("x", "c")
			if !strings.Contains(h.clipboard, mine) {
				t.Errorf("revealed copy lacks the secret (the test cannot see it):\n%s", h.clipboard)
			}
			h.keys("x", "d", "tab", "enter")
			s := h.screen()
			leaks("structural diff", s)
			if !strings.Contains(s, "differences") {
				t.Errorf("the changed secret is not a difference:\n%s", s)
			}
			h.keys("u")
			leaks("text diff", h.screen())
			h.keys("x")
			if !strings.Contains(h.screen(), theirs) {
				t.Errorf("the revealed text diff lacks the secret:\n%s", h.screen())
			}
		})
	}
}

// osc52 is every OSC 52 clipboard payload written in out, decoded.
var osc52 = regexp.MustCompile("\x1b]52;c;([A-Za-z0-9+/=]*)\x07")

// TestCopyWritesMaskedOSC52: the bytes the program writes to the terminal
// carry masked values unless they were revealed in that view.
func TestCopyWritesMaskedOSC52(t *testing.T) {
	m, err := New(context.Background(), Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}, Now: fixedNow, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	var payloads []string
	waitCopy := func() string {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
			for _, m := range osc52.FindAllSubmatch(b, -1) {
				text, err := base64.StdEncoding.DecodeString(string(m[1]))
				if err != nil {
					t.Fatalf("OSC 52 payload is not base64: %v", err)
				}
				payloads = append(payloads, string(text))
			}
			return len(payloads) > 0
		}, teatest.WithDuration(5*time.Second))
		p := payloads[len(payloads)-1]
		payloads = nil
		return p
	}
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("58 records")) }, teatest.WithDuration(5*time.Second))
	tm.Type("/prod/db/users")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("secret-looking values masked")) }, teatest.WithDuration(5*time.Second))
	tm.Type("c")
	if p := waitCopy(); strings.Contains(p, "Xk9#mP2vL8qR") || !strings.Contains(p, "••••••••") {
		t.Fatalf("masked copy wrote %q", p)
	}
	tm.Type("x")
	tm.Type("c")
	if p := waitCopy(); !strings.Contains(p, "Xk9#mP2vL8qR") {
		t.Fatalf("revealed copy wrote %q", p)
	}
	tm.Type("qq") // back from the detail, then quit
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// TestSecretsMaskedInCorruptBytes: a record cut off anywhere around a
// secret shows none of it in the stored bytes, as text or hex, until x.
func TestSecretsMaskedInCorruptBytes(t *testing.T) {
	for i, tc := range secretCases() {
		secret := fmt.Sprintf("S3CRETmine%02d", i)
		raw, err := stores.EncodeState(secretRecord("db", tc.place(secret)))
		if err != nil {
			t.Fatal(err)
		}
		at := bytes.Index(raw, []byte(secret))
		for _, cut := range []int{at + 5, at + len(secret), at + len(secret) + 1, len(raw) - 1} {
			t.Run(fmt.Sprintf("%s/cut at %d", tc.name, cut), func(t *testing.T) {
				s := memory.New()
				s.PutRaw("db", raw[:cut])
				h := newSyncHarness(t, Options{Session: Session{Store: s, Name: "here"}})
				h.run(h.m.push(newDetailView(h.m.env, stores.Row{ID: "db", Problem: "truncated"})))
				if s := h.screen(); strings.Contains(s, "S3C") || !strings.Contains(s, "stored bytes") {
					t.Errorf("text view shows the secret:\n%s", s)
				}
				h.keys("H")
				if s := h.screen(); strings.Contains(s, "S3C") || strings.Contains(s, "53 33 43") {
					t.Errorf("hex view shows the secret:\n%s", s)
				}
				h.keys("H", "x")
				if s := h.screen(); !strings.Contains(s, "S3C") {
					t.Errorf("x does not reveal the secret:\n%s", s)
				}
			})
		}
	}
}
