package sshx

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func newKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The three decisions a host key gets, without a server: known and equal
// passes; known with another key is refused naming both fingerprints, even
// when the user would accept anything; unknown is refused unless accepted,
// and an accepted key is recorded as OpenSSH writes it.
func TestHostKeyDecisions(t *testing.T) {
	const host = "db.example:2222"
	addr := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 2222}
	known, other := newKey(t), newKey(t)
	line := knownhosts.Line([]string{knownhosts.Normalize(host)}, known)

	type want struct {
		err      error    // nil: accepted
		contains []string // in the error
		asked    bool     // the prompt was consulted
		recorded bool     // the offered key is in known_hosts afterwards
	}
	for _, tc := range []struct {
		name    string
		file    string // known_hosts content; "-" means no file at all
		offered ssh.PublicKey
		accept  *bool // nil: no prompt configured
		want    want
	}{
		{name: "known key", file: line + "\n", offered: known, want: want{recorded: true}},
		{name: "known key, prompt never asked", file: line + "\n", offered: known, accept: ptr(false), want: want{recorded: true}},
		{name: "changed key", file: line + "\n", offered: other, accept: ptr(true),
			want: want{err: ErrHostKeyMismatch, contains: []string{"[db.example]:2222", ssh.FingerprintSHA256(other), ssh.FingerprintSHA256(known), "known_hosts:1"}}},
		{name: "unknown host, no prompt", file: "-", offered: other,
			want: want{err: ErrHostKeyUnknown, contains: []string{ssh.FingerprintSHA256(other), "--accept-new-host-key"}}},
		{name: "unknown host, answered no", file: "", offered: other, accept: ptr(false),
			want: want{err: ErrHostKeyUnknown, asked: true, contains: []string{ssh.FingerprintSHA256(other)}}},
		{name: "unknown host, answered yes", file: "", offered: other, accept: ptr(true), want: want{asked: true, recorded: true}},
		{name: "other host known, this one accepted", file: knownhosts.Line([]string{"elsewhere"}, known), offered: known, accept: ptr(true),
			want: want{asked: true, recorded: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "known_hosts")
			if tc.file != "-" {
				if err := os.WriteFile(file, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var asked []string
			h := hostKeys{files: []string{file}}
			if tc.accept != nil {
				h.accept = func(host, fp string) bool {
					asked = append(asked, host+" "+fp)
					return *tc.accept
				}
			}
			err := h.callback(host, addr, tc.offered)
			switch {
			case tc.want.err == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want.err != nil && !errors.Is(err, tc.want.err):
				t.Fatalf("got %v, want %v", err, tc.want.err)
			}
			for _, s := range tc.want.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q: %v", s, err)
				}
			}
			if wantAsk := "[db.example]:2222 " + ssh.FingerprintSHA256(tc.offered); tc.want.asked != (len(asked) == 1 && asked[0] == wantAsk) {
				t.Errorf("prompt asked %q, want asked=%v with %q", asked, tc.want.asked, wantAsk)
			}
			again := hostKeys{files: []string{file}}.check(host, addr, tc.offered)
			if tc.want.recorded != (again == nil) {
				t.Errorf("after the decision the offered key is known: %v, want %v", again == nil, tc.want.recorded)
			}
		})
	}
}

// An accepted key is appended on its own line even when the file does not
// end with a newline, and the file stays private.
func TestRecordedKeyOnItsOwnLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ssh", "known_hosts")
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		t.Fatal(err)
	}
	first := knownhosts.Line([]string{"elsewhere"}, newKey(t))
	if err := os.WriteFile(file, []byte(first), 0o600); err != nil {
		t.Fatal(err)
	}
	k := newKey(t)
	h := hostKeys{files: []string{file}, accept: func(string, string) bool { return true }}
	if err := h.callback("db.example:22", &net.TCPAddr{}, k); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(file)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || lines[0] != first || lines[1] != knownhosts.Line([]string{"db.example"}, k) {
		t.Errorf("known_hosts = %q", data)
	}
	if info, err := os.Stat(file); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("known_hosts mode %v, %v", info.Mode(), err)
	}
}

func ptr[T any](v T) *T { return &v }
