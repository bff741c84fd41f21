package stores

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestUnescapedAtIsRefused: a password with a raw "@" is read differently
// by different parsers; the driver then quotes the rest of the password
// as a host name. Such a target is refused before any backend sees it,
// and the refusal shows no part of the password.
func TestUnescapedAtIsRefused(t *testing.T) {
	for _, raw := range []string{
		"postgres://app:x@SECRET@host/db",
		"postgresql://app:p@ss@SECRET@host:5432/db?sslmode=disable",
		"s3://id:SECRET@x@bucket/p",
		"ssh://ops:SECRET@x@host?plugin=/p",
	} {
		_, err := ParseTarget(raw)
		if err == nil || !strings.Contains(err.Error(), "escape @ in the password as %40") || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%q: %v", raw, err)
		}
	}
	for _, raw := range []string{"postgres://app:x%40SECRET@host/db", "ssh://ops@host?plugin=/p&arg=a@b", "s3://b/p?endpoint=https://u:pw@minio:9000"} {
		if _, err := ParseTarget(raw); err != nil {
			t.Errorf("%q refused: %v", raw, err)
		}
	}
}

// TestRedactorMasksCredentialsInAnyWords: whatever a driver or SDK says,
// the target's credentials do not survive, in any encoding or piece; the
// error chain survives; ordinary words are untouched.
func TestRedactorMasksCredentialsInAnyWords(t *testing.T) {
	t.Setenv("AZURE_STORAGE_KEY", "QXp1cml0ZUtleVNlY3JldA==")
	t.Setenv("SOME_TOKEN_ENABLED", "true")
	t.Setenv("POSTGRES_PASSWORD", "postgres") // a word, not masked wherever it appears
	tests := []struct {
		target, text, secret string
	}{
		{"postgres://app:x@SECRET1@host/db", "lookup SECRET1@host: no such host", "SECRET1"},
		{"postgres://app:hunter2%2Fz@db/x", "auth failed for hunter2/z and hunter2%2Fz", "hunter2"},
		{"host=db user=app password='se cret42' dbname=x", "could not connect with se cret42", "cret42"},
		{"host=db password=hunter3", "failed: password=hunter3 rejected", "hunter3"},
		{"s3://b/p?region=eu&secretKey=abc123def", "signature for abc123def does not match", "abc123def"},
		{"azblob://c?account_url=https://acct.blob.core.windows.net/?sv=1%26sig=SIGVALUE9", "GET https://acct.blob.core.windows.net/c?comp=list&sig=SIGVALUE9: 403", "SIGVALUE9"},
		{"s3://b/p?endpoint=https://u:pw0rd99@minio:9000", `Get "https://u:pw0rd99@minio:9000/b": EOF`, "pw0rd99"},
		{"/plain/dir", "open https://user:inline99@elsewhere/x failed", "inline99"},
		{"/plain/dir", "shared key QXp1cml0ZUtleVNlY3JldA== rejected", "QXp1cml0ZUtleVNlY3JldA=="},
	}
	for _, tt := range tests {
		base := errors.New(tt.text)
		err := NewRedactor(tt.target).Error(fmt.Errorf("wrapped: %w", base))
		if strings.Contains(err.Error(), tt.secret) || !strings.Contains(err.Error(), "xxxxx") {
			t.Errorf("%q: %q", tt.target, err)
		}
		if !errors.Is(err, base) {
			t.Errorf("%q: the error chain was lost", tt.target)
		}
	}
	plain := errors.New("context canceled; status true; host db; postgres")
	if got := NewRedactor("postgres://a:x@db/y").Error(plain); got != plain {
		t.Errorf("ordinary words changed: %q", got)
	}
	if NewRedactor().Error(nil) != nil {
		t.Error("nil error is not nil")
	}
}

// TestOpenErrorsAreRedacted: a backend's open error passes through the
// target's redaction before anyone sees it.
func TestOpenErrorsAreRedacted(t *testing.T) {
	Register("leaky", "leaky://u:p@host", func(_ context.Context, tg Target) (Store, error) {
		pw, _ := tg.URL.User.Password()
		return nil, fmt.Errorf("dial %s: auth %s rejected: %w", tg.URL.Host, pw, ErrUnsupported)
	})
	_, err := Open(t.Context(), "leaky://app:Sup3rSecret@host")
	if err == nil || strings.Contains(err.Error(), "Sup3rSecret") || !errors.Is(err, ErrUnsupported) {
		t.Errorf("open error: %v", err)
	}
}
