package tui_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"statescope/stores/demo"
	"statescope/stores/storetest/testserver"
)

// TestEndToEndSSH opens a store over SSH on a host missing from
// known_hosts: the UI comes up, asks about the host key with its SHA256
// fingerprint, and after a typed yes records it and shows the records the
// plugin started on that host serves.
func TestEndToEndSSH(t *testing.T) {
	tmp, bin := buildForTerminal(t)
	sshd, stop, err := testserver.StartSSHD()
	if err != nil {
		testserver.Unavailable(t, "OpenSSH sshd", err)
	}
	t.Cleanup(stop)
	hostKey, _, _, _, err := ssh.ParseAuthorizedKey([]byte(sshd.HostKey))
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(tmp, "home")
	knownHosts := filepath.Join(home, ".ssh", "known_hosts")
	if err := os.MkdirAll(filepath.Dir(knownHosts), 0o700); err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf("Host far\n  HostName 127.0.0.1\n  Port %d\n  User %s\n  IdentityFile %s\n  UserKnownHostsFile %s\n",
		sshd.Port, sshd.User, sshd.ClientKey, knownHosts)
	if err := os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(tmp, "state")
	if err := demo.Materialize(os.DirFS(filepath.Join("..", "testdata", "demo")), state, time.Now()); err != nil {
		t.Fatal(err)
	}
	q := url.Values{"plugin": {bin}}
	for _, a := range []string{"serve", "--plugin", "--store", state} {
		q.Add("arg", a)
	}
	target := "ssh://far?" + q.Encode()

	x := startTerminal(t, "ssh", tmp, 120, 40, "HOME="+home+" SSH_AUTH_SOCK=", bin+" --store '"+target+"'")

	x.waitFor("UNKNOWN SSH HOST KEY")
	x.waitFor(ssh.FingerprintSHA256(hostKey))
	if _, err := os.Stat(knownHosts); !os.IsNotExist(err) {
		t.Fatalf("known_hosts written before the answer: %v", err)
	}
	x.typeText("yes")
	x.send("Enter")
	screen := x.waitFor("58 records")
	if !strings.Contains(screen, "→ plugin") {
		t.Fatalf("the header does not show the transport:\n%s", screen)
	}
	known, err := os.ReadFile(knownHosts)
	if err != nil || !strings.Contains(string(known), strings.TrimSpace(sshd.HostKey)) {
		t.Fatalf("known_hosts does not hold the trusted key: %v\n%s", err, known)
	}
	x.send("q")
	x.waitFor("statescope exited 0")
}
