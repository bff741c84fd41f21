package sshx

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Host key errors, for callers that offer a way out.
var (
	// ErrHostKeyMismatch: known_hosts has a different key for the host.
	ErrHostKeyMismatch = errors.New("host key mismatch")
	// ErrHostKeyUnknown: the host is not in known_hosts and nobody accepted it.
	ErrHostKeyUnknown = errors.New("unknown host key")
)

// knownHostsMu serialises appends to known_hosts within this process.
var knownHostsMu sync.Mutex

// hostKeys checks host keys against the known_hosts files strictly: a
// mismatch always fails; an unknown host passes only if accept says yes,
// and is then appended to the first file.
type hostKeys struct {
	files  []string
	accept func(host, fingerprint string) bool
}

func (h hostKeys) existing() []string {
	var out []string
	for _, f := range h.files {
		if _, err := os.Stat(f); err == nil {
			out = append(out, f)
		}
	}
	return out
}

// check returns knownhosts' verdict; with no files every host is unknown.
func (h hostKeys) check(host string, remote net.Addr, key ssh.PublicKey) error {
	files := h.existing()
	if len(files) == 0 {
		return &knownhosts.KeyError{}
	}
	cb, err := knownhosts.New(files...)
	if err != nil {
		return fmt.Errorf("reading known_hosts: %w", err)
	}
	return cb(host, remote, key)
}

// algorithms lists the host key algorithms known_hosts has for host, so
// the server is asked for a key type we can verify instead of reporting a
// different type as a mismatch. Nil means no preference (unknown host).
func (h hostKeys) algorithms(host string) []string {
	_, throwaway, _ := ed25519.GenerateKey(rand.Reader)
	probe, _ := ssh.NewSignerFromKey(throwaway)
	var ke *knownhosts.KeyError
	if err := h.check(host, &net.TCPAddr{}, probe.PublicKey()); !errors.As(err, &ke) {
		return nil
	}
	var algs []string
	for _, k := range ke.Want {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			algs = append(algs, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		default:
			algs = append(algs, t)
		}
	}
	return algs
}

func (h hostKeys) callback(host string, remote net.Addr, key ssh.PublicKey) error {
	err := h.check(host, remote, key)
	var ke *knownhosts.KeyError
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &ke):
		return err
	case len(ke.Want) > 0:
		var known []string
		for _, w := range ke.Want {
			known = append(known, fmt.Sprintf("%s %s (%s:%d)", w.Key.Type(), ssh.FingerprintSHA256(w.Key), w.Filename, w.Line))
		}
		return fmt.Errorf("%w for %s: the server offered %s %s but known_hosts has %s. "+
			"Someone may be intercepting the connection, or the host was reinstalled: check with its administrator before removing the old line",
			ErrHostKeyMismatch, knownhosts.Normalize(host), key.Type(), ssh.FingerprintSHA256(key), strings.Join(known, ", "))
	}
	fp := ssh.FingerprintSHA256(key)
	if h.accept == nil || !h.accept(knownhosts.Normalize(host), fp) {
		return fmt.Errorf("%w: %s is not in %s; its %s key is %s. After checking that fingerprint, accept it with --accept-new-host-key (or add it to known_hosts)",
			ErrHostKeyUnknown, knownhosts.Normalize(host), strings.Join(h.files, ", "), key.Type(), fp)
	}
	return h.record(host, key)
}

// record appends the accepted key as OpenSSH writes it ([host]:port for a
// non-22 port).
func (h hostKeys) record(host string, key ssh.PublicKey) error {
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	file := h.files[0]
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("recording host key: %w", err)
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("recording host key: %w", err)
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(host)}, key) + "\n"
	if info, err := f.Stat(); err == nil && info.Size() > 0 && !endsWithNewline(file) {
		line = "\n" + line
	}
	_, err = f.WriteString(line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("recording host key in %s: %w", file, err)
	}
	return nil
}

func endsWithNewline(file string) bool {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	return err == nil && (len(data) == 0 || data[len(data)-1] == '\n')
}
