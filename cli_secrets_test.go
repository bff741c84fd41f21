package main

import (
	"io"
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

// TestPrintedCommandsLeaveCredentialsOut: the unlock line printed for a
// script names the store without its secrets, and says so.
func TestPrintedCommandsLeaveCredentialsOut(t *testing.T) {
	dir := demoDir(t)
	code, _, errOut := cli(t, "", "--store", "file://"+dir+"?token=Sup3rSecret", "unlock", "prod/db/orders")
	if code != 3 || strings.Contains(errOut, "Sup3rSecret") || !strings.Contains(errOut, "token=xxxxx") || !strings.Contains(errOut, "credentials are not shown") {
		t.Errorf("exit %d:\n%s", code, errOut)
	}
}

// TestApplicationLogIsRedacted: what backends log goes through the same
// redaction as what is printed.
func TestApplicationLogIsRedacted(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	a := &app{storeTarget: "postgres://app:Sup3rSecret@db/x"}
	w := a.appLog()
	io.WriteString(w, "plugin: dial postgres://app:Sup3rSecret@db/x failed (Sup3rSecret)\n")
	for _, c := range a.closers {
		c.Close()
	}
	b, err := os.ReadFile(filepath.Join(state, "statescope", "statescope.log"))
	if err != nil || strings.Contains(string(b), "Sup3rSecret") || !strings.Contains(string(b), "dial postgres://app:xxxxx@db/x") {
		t.Errorf("log: %v\n%s", err, b)
	}
}
