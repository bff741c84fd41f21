package sshx

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestResolve(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	conf := filepath.Join(home, "config")
	body := `Host db-bastion
  HostName 10.0.0.5
  User ops
  Port 2222
  IdentityFile ~/.ssh/ops_%h
  IdentityFile /keys/second
  UserKnownHostsFile ~/.ssh/kh_a /etc/kh_b
  ProxyJump jump@gw.example:22
  ServerAliveInterval 5

Host *
  User fallback
`
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := resolve(conf, Dest{Host: "db-bastion"})
	if err != nil {
		t.Fatal(err)
	}
	want := settings{
		alias: "db-bastion", user: "ops", hostname: "10.0.0.5", port: "2222",
		identities: []string{filepath.Join(home, ".ssh/ops_10.0.0.5"), "/keys/second"},
		knownHosts: []string{filepath.Join(home, ".ssh/kh_a"), "/etc/kh_b"},
		proxyJump:  "jump@gw.example:22", keepalive: 5 * time.Second,
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("resolve:\n got %+v\nwant %+v", s, want)
	}
	// The target's own user and port win; unknown hosts get the defaults.
	s, err = resolve(conf, Dest{Host: "other", User: "me", Port: "2200"})
	if err != nil {
		t.Fatal(err)
	}
	if s.user != "me" || s.port != "2200" || s.hostname != "other" || s.addr() != "other:2200" ||
		s.knownHosts[0] != filepath.Join(home, ".ssh/known_hosts") || len(s.identities) != 3 {
		t.Errorf("defaults: %+v", s)
	}
	if s, _ := resolve(conf, Dest{Host: "x"}); s.user != "fallback" || s.port != "22" {
		t.Errorf("Host * fallback: %+v", s)
	}
	if d := parseJump("jump@gw.example:2022"); d != (Dest{User: "jump", Host: "gw.example", Port: "2022"}) {
		t.Errorf("parseJump: %+v", d)
	}
	if _, err := resolve(conf, Dest{Host: "x", Port: "99999"}); err == nil {
		t.Error("a bad port was accepted")
	}
}
