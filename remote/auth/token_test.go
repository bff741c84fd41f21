package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A missing token file is created once, private, with 256 random bits;
// later loads read the same token; none of the errors quote a token.
func TestTokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ci.token")
	tok, created, err := LoadOrCreateToken(path)
	if err != nil || !created || tok.Name != "ci.token" {
		t.Fatalf("first load: %+v %v %v", tok, created, err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", info.Mode(), err)
	}
	secret, err := ReadToken(path)
	if err != nil || len(secret) != 64 || strings.Trim(secret, "0123456789abcdef") != "" {
		t.Fatalf("token %d characters, %v; want 64 hex digits", len(secret), err)
	}
	again, created, err := LoadOrCreateToken(path)
	if err != nil || created || again.sum != tok.sum {
		t.Errorf("second load: created %v, same %v, %v", created, again.sum == tok.sum, err)
	}
	other, _, _ := LoadOrCreateToken(filepath.Join(t.TempDir(), "other.token"))
	if other.sum == tok.sum {
		t.Error("two generated tokens are equal")
	}

	secretText := strings.Repeat("s3cr3t", 8)
	for _, tc := range []struct {
		name, body string
		mode       os.FileMode
		want       string
	}{
		{"readable by others", secretText, 0o644, "chmod 600"},
		{"readable by the group", secretText, 0o640, "chmod 600"},
		{"too short", "short", 0o600, "at least 32"},
		{"two tokens", secretText + "\n" + secretText, 0o600, "one token on one line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "t")
			if err := os.WriteFile(p, []byte(tc.body), tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadOrCreateToken(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the error quotes the token: %v", err)
			}
		})
	}
}

// TCP without a token or mutual TLS is refused; either one, or the test
// switch, allows it.
func TestCheckTCP(t *testing.T) {
	if err := (Config{}).CheckTCP(); err == nil {
		t.Error("TCP without authentication allowed")
	}
	for _, c := range []Config{{Insecure: true}, {Tokens: []Token{{Name: "t"}}}} {
		if err := c.CheckTCP(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
