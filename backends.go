package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"statescope/remote"
	"statescope/stores/infra"

	// The backends --store can name; each registers its schemes.
	_ "statescope/stores/azblob"
	_ "statescope/stores/gcs"
	_ "statescope/stores/postgres"
	_ "statescope/stores/s3"
)

// backendFlags are the global flags that shape how stores are reached.
type backendFlags struct {
	infraPath        string
	pluginDir        string
	acceptNewHostKey bool
}

// configureRemote hands the remote transports their options. Plugin
// stderr and connection events go to the application log, never to the
// terminal the TUI draws on.
func (a *app) configureRemote() {
	remote.Configure(remote.Options{
		PluginDir:        a.backend.pluginDir,
		AcceptNewHostKey: a.backend.acceptNewHostKey,
		HostKeyPrompt:    a.askHostKey,
		Log:              a.appLog(),
	})
}

// askHostKey asks on the terminal before an unknown SSH host key is
// trusted. Without a terminal the answer is no: --accept-new-host-key is
// the explicit yes for scripts.
func (a *app) askHostKey(host, fingerprint string) bool {
	if h := a.hostKeys.Load(); h != nil {
		return h.Ask(host, fingerprint)
	}
	if !a.isTerminal() {
		return false
	}
	fmt.Fprintf(a.errOut, "The authenticity of host %s can't be established.\nIts key fingerprint is %s.\nTrust it and add it to known_hosts? (yes/no): ", host, fingerprint)
	var answer string
	fmt.Fscanln(a.in, &answer)
	return answer == "yes"
}

// appLog is the application log, $XDG_STATE_HOME/statescope/statescope.log
// (mode 0600), opened on the first write so commands that log nothing
// create nothing.
func (a *app) appLog() io.Writer {
	l := &lazyLog{}
	a.closers = append(a.closers, l)
	return redacting{l, a.redact}
}

// lazyLog opens the log file when first written to. When it cannot be
// opened, logs are discarded rather than written over the TUI.
type lazyLog struct {
	once sync.Once
	f    *os.File
}

func (l *lazyLog) Write(p []byte) (int, error) {
	l.once.Do(func() {
		base := os.Getenv("XDG_STATE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".local", "state")
		}
		dir := filepath.Join(base, "statescope")
		if os.MkdirAll(dir, 0o700) == nil {
			l.f, _ = os.OpenFile(filepath.Join(dir, "statescope.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		}
	})
	if l.f == nil {
		return len(p), nil
	}
	return l.f.Write(p)
}

func (l *lazyLog) Close() error {
	l.once.Do(func() {}) // a later Write must not reopen the file
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

// infraTarget resolves --infra: the first iac.state module of a workflow
// config. Credentials from the config go to the environment the backend
// reads, never into the target that is shown.
func (a *app) infraTarget() (string, error) {
	r, err := infra.Target(a.backend.infraPath)
	if err != nil {
		return "", err
	}
	for k, v := range r.Env {
		os.Setenv(k, v)
	}
	for _, n := range r.Notes {
		fmt.Fprintln(a.errOut, "note:", n)
	}
	return r.URL, nil
}
