package postgres

import (
	"strings"
	"testing"

	"statescope/stores"
)

// The server cuts application_name to 63 bytes: a field the cut went
// through is dropped, not read with half its value.
func TestAppNameCutInsideAValue(t *testing.T) {
	h := &stores.Holder{PID: 4242, Host: strings.Repeat("h", 30), User: "ci-runner", Operation: "repair"}
	app := appName(h, "db")[:maxAppName]
	if !strings.HasSuffix(app, " user=ci") {
		t.Fatalf("the cut is not inside the user's value: %q", app)
	}
	got, id, ok := parseAppName(app)
	if !ok || id != "" || got.Host != h.Host || got.User != "" {
		t.Errorf("parseAppName(%q) = %+v, %q, %v; want the host and no user", app, got, id, ok)
	}
}

// Only a real client port can prove its client gone: no port (0, or -1 for
// a unix socket) proves nothing.
func TestClientGoneNeedsAPort(t *testing.T) {
	l := &localServer{port: 5432, sockets: map[[2]uint16]string{}}
	loopback := "127.0.0.1"
	for _, port := range []int32{0, -1} {
		if gone, why := l.clientGone(lockRow{client: &loopback, clientPort: &port}); gone || why != "" {
			t.Errorf("client port %d: gone=%v %q", port, gone, why)
		}
	}
	port := int32(40000)
	if gone, _ := l.clientGone(lockRow{client: &loopback, clientPort: &port}); !gone {
		t.Error("a loopback client whose socket is gone was not judged gone")
	}
}
