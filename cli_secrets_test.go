package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCredentialsNeverPrinted: a password with an unescaped @ is refused
// with how to write it, from --store and from a context, and no piece of
// it is printed; the same goes for what the backend says when it fails.
func TestCredentialsNeverPrinted(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte("contexts:\n  prod: {store: 'postgres://app:x@SECRET1@127.0.0.1:1/db'}\n"), 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"postgres", []string{"--store", "postgres://app:x@SECRET1@host/db", "list"}, "escape @ in the password as %40"},
		{"s3", []string{"--store", "s3://AKID:SECRET1@x@bucket/p", "locks"}, "escape @ in the password as %40"},
		{"context", []string{"--config", cfg, "--context", "prod", "show", "a"}, "escape @ in the password as %40"},
		// Escaped, it reaches the driver, which fails to connect; the
		// password is still not shown.
		{"escaped", []string{"--store", "postgres://app:x%40SECRET1@127.0.0.1:1/db?connect_timeout=5", "list"}, "xxxxx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(t, "", tt.args...)
			if code != 1 || !strings.Contains(errOut, tt.want) || strings.Contains(out+errOut, "SECRET1") {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1 and %q, without the password", code, out, errOut, tt.want)
			}
		})
	}
}
