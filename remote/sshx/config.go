package sshx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kevinburke/ssh_config"
)

// settings is what ~/.ssh/config says about one destination, with
// OpenSSH's defaults filled in.
type settings struct {
	alias      string
	user       string
	hostname   string
	port       string
	identities []string
	knownHosts []string
	proxyJump  string
	keepalive  time.Duration
}

// addr is host:port for dialing and for known_hosts.
func (s settings) addr() string { return joinHostPort(s.hostname, s.port) }

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// resolve applies the config file (Host, HostName, User, Port,
// IdentityFile, UserKnownHostsFile, ProxyJump, ServerAliveInterval) to a
// destination; values given in the target win, as on ssh's command line.
func resolve(configFile string, d Dest) (settings, error) {
	home, _ := os.UserHomeDir()
	if configFile == "" {
		configFile = filepath.Join(home, ".ssh", "config")
	}
	cfg := &ssh_config.Config{}
	if f, err := os.Open(configFile); err == nil {
		cfg, err = ssh_config.Decode(f)
		f.Close()
		if err != nil {
			return settings{}, fmt.Errorf("ssh config %s: %w", configFile, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return settings{}, fmt.Errorf("ssh config: %w", err)
	}
	get := func(key string) string {
		v, _ := cfg.Get(d.Host, key)
		return v
	}
	s := settings{alias: d.Host, user: d.User, hostname: get("HostName"), port: d.Port, proxyJump: get("ProxyJump")}
	if s.hostname == "" {
		s.hostname = d.Host
	}
	if s.user == "" {
		s.user = get("User")
	}
	if s.user == "" {
		if u, err := user.Current(); err == nil {
			s.user = u.Username
		}
	}
	if s.port == "" {
		s.port = get("Port")
	}
	if s.port == "" {
		s.port = "22"
	}
	if _, err := strconv.ParseUint(s.port, 10, 16); err != nil {
		return settings{}, fmt.Errorf("ssh %s: bad port %q", d.Host, s.port)
	}
	expand := func(p string) string {
		p = strings.NewReplacer("%d", home, "%u", s.user, "%r", s.user, "%h", s.hostname, "%p", s.port, "%n", d.Host).Replace(p)
		if rest, ok := strings.CutPrefix(p, "~/"); ok {
			return filepath.Join(home, rest)
		}
		return p
	}
	ids, _ := cfg.GetAll(d.Host, "IdentityFile")
	for _, id := range ids {
		s.identities = append(s.identities, expand(id))
	}
	if len(ids) == 0 {
		for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			s.identities = append(s.identities, filepath.Join(home, ".ssh", n))
		}
	}
	for _, f := range strings.Fields(get("UserKnownHostsFile")) {
		s.knownHosts = append(s.knownHosts, expand(f))
	}
	if len(s.knownHosts) == 0 {
		s.knownHosts = []string{filepath.Join(home, ".ssh", "known_hosts")}
	}
	if v := get("ServerAliveInterval"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			s.keepalive = time.Duration(n) * time.Second
		}
	}
	return s, nil
}

// parseJump reads one ProxyJump hop: [user@]host[:port].
func parseJump(hop string) Dest {
	var d Dest
	if u, rest, ok := strings.Cut(hop, "@"); ok {
		d.User, hop = u, rest
	}
	if h, p, ok := strings.Cut(hop, ":"); ok && !strings.Contains(p, ":") {
		d.Host, d.Port = h, p
	} else {
		d.Host = hop
	}
	return d
}
