package remote

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"statescope/stores"
	"statescope/stores/storetest"
)

// writeScript writes an executable shell script into dir.
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// uniqueSleep is a sleep duration no other test run uses, so the process
// can be found by its command line.
func uniqueSleep() string {
	return strconv.Itoa(700000 + int(time.Now().UnixNano()%90000))
}

// waitGone waits until no process's command line holds marker.
func waitGone(t *testing.T, marker string) bool {
	return storetest.Await(t, func() bool { return !running(marker) })
}

// A plugin that never completes the handshake, with a child holding its
// pipes open, is ended by the target's timeout= — locally and over SSH —
// and its whole process group is gone.
func TestHangingPluginEndedWithinTimeout(t *testing.T) {
	sshHost(t)
	for _, tc := range []struct{ name, target string }{
		{"local", "plugin://%s?timeout=2s"},
		{"ssh", "ssh://sshd?timeout=2s&plugin=%s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			marker := uniqueSleep()
			bin := writeScript(t, t.TempDir(), "hanging", "sleep "+marker+"1 &\nsleep "+marker+"2\n")
			target := fmt.Sprintf(tc.target, bin)
			if tc.name == "ssh" {
				target = fmt.Sprintf(tc.target, url.QueryEscape(bin))
			}
			// Old code waited go-plugin's minute (the message names the
			// timeout waited), then for the child for ever.
			err := openErr(t, target)
			if err == nil || !strings.Contains(err.Error(), "no handshake within 2s") {
				t.Errorf("a plugin that never completes the handshake: %v", err)
			}
			for _, m := range []string{"sleep " + marker + "1", "sleep " + marker + "2"} {
				if !waitGone(t, m) {
					t.Errorf("%q still runs after the launch was given up", m)
				}
			}
		})
	}
}

// A handshake announcing a TCP address off the host is refused with the
// address named, unless the target allows it.
func TestPluginRemoteAddressRefused(t *testing.T) {
	marker := "sleep " + uniqueSleep()
	bin := writeScript(t, t.TempDir(), "far", "echo '1|1|tcp|192.0.2.7:4711|grpc|'\nexec "+marker+"\n")
	err := openErr(t, "plugin://"+bin+"?timeout=1h")
	if err == nil || !strings.Contains(err.Error(), "192.0.2.7:4711") || !strings.Contains(err.Error(), "not loopback") {
		t.Errorf("a non-loopback plugin address: %v", err)
	}
	err = openErr(t, "plugin://"+bin+"?timeout=2s&allow_remote_addr=true")
	if err == nil || strings.Contains(err.Error(), "not loopback") {
		t.Errorf("with allow_remote_addr=true the address is tried: %v", err)
	}
	if !waitGone(t, marker) {
		t.Error("the refused plugin still runs")
	}
}

// A plugin path with "=" in it is the program, not an env assignment.
func TestSSHPluginPathWithEquals(t *testing.T) {
	sshHost(t)
	dir := filepath.Join(t.TempDir(), "a=b")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "statescope")
	if err := os.Symlink(statescopeBin, bin); err != nil {
		t.Fatal(err)
	}
	q := pluginArgs(t.TempDir())
	q.Set("plugin", bin)
	s := open(t, "ssh://sshd?"+q.Encode())
	defer stores.Close(s)
	if err := s.Save(ctxT(t), storetest.Record("eq")); err != nil {
		t.Error(err)
	}
}
