package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"go.uber.org/goleak"

	"statescope/remote"
	"statescope/stores"
	"statescope/stores/repair"
)

const testFingerprint = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"

// sshOpener opens like an ssh:// target met with an unknown host: it asks
// the host key question and fails the way the remote package does on no.
func sshOpener(hostKeys *HostKeys, store stores.Store, opens *atomic.Int32) func(context.Context) (Session, error) {
	return func(ctx context.Context) (Session, error) {
		opens.Add(1)
		if !hostKeys.Ask("[db.example]:22", testFingerprint) {
			return Session{}, fmt.Errorf("ssh ops@db.example: %w: [db.example]:22 is not in ~/.ssh/known_hosts; its ssh-ed25519 key is %s", remote.ErrHostKeyUnknown, testFingerprint)
		}
		return Session{Store: store, Name: "ssh://ops@db.example"}, nil
	}
}

// hostKeyHarness starts the UI on a session that must connect first; the
// host key questions Ask sends arrive on the returned channel.
func hostKeyHarness(t *testing.T, store stores.Store, opens *atomic.Int32) (*asyncHarness, <-chan tea.Msg) {
	t.Helper()
	asked := make(chan tea.Msg, 4)
	hostKeys := NewHostKeys()
	hostKeys.Attach(func(msg tea.Msg) { asked <- msg })
	h := newAsyncHarnessWith(t, Options{
		Session:  Session{Name: "ssh://ops@db.example", Open: sshOpener(hostKeys, store, opens)},
		HostKeys: hostKeys,
	})
	return h, asked
}

// pump feeds the commands' messages back until done reports true.
func (h *asyncHarness) pump(done func() bool) {
	h.t.Helper()
	for !done() {
		h.send(h.next(5 * time.Second))
	}
}

func (h *asyncHarness) screen() string { return ansi.Strip(h.m.View().Content) }

func (h *asyncHarness) typeText(s string) {
	for _, r := range s {
		h.send(keyPress(string(r)))
	}
}

func question(t *testing.T, asked <-chan tea.Msg) tea.Msg {
	t.Helper()
	select {
	case q := <-asked:
		return q
	case <-time.After(5 * time.Second):
		t.Fatal("the open never asked about the host key")
		return nil
	}
}

func TestUnknownHostKeyAsksInTheUI(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	t.Run("yes trusts and connects", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var opens atomic.Int32
			store := &closeRecorder{goldenStore: newGoldenStore(t)}
			h, asked := hostKeyHarness(t, store, &opens)
			defer h.close()
			if s := h.screen(); !strings.Contains(s, "connecting to ssh://ops@db.example…") {
				t.Fatalf("no connecting screen:\n%s", s)
			}
			h.send(question(t, asked))
			s := h.screen()
			for _, want := range []string{"UNKNOWN SSH HOST KEY", "[db.example]:22", testFingerprint, "type yes to trust it"} {
				if !strings.Contains(s, want) {
					t.Fatalf("dialog lacks %q:\n%s", want, s)
				}
			}
			h.keys("y", "enter") // y alone is no answer
			if s := h.screen(); !strings.Contains(s, "answer yes or no") || h.m.dialog == nil {
				t.Fatalf("y+enter must not trust the key:\n%s", s)
			}
			h.keys("e", "s", "enter")
			h.pump(func() bool { _, ok := h.m.top().(*resourcesView); return ok && h.m.top().(*resourcesView).loaded })
			if s := h.screen(); !strings.Contains(s, "58 records") || !strings.Contains(s, "golden demo") {
				t.Fatalf("not connected after yes:\n%s", s)
			}
			if opens.Load() != 1 || store.closed.Load() {
				t.Fatalf("opens=%d closed=%v", opens.Load(), store.closed.Load())
			}
		})
	})
	t.Run("esc refuses and the open fails", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var opens atomic.Int32
			h, asked := hostKeyHarness(t, newGoldenStore(t), &opens)
			defer h.close()
			h.send(question(t, asked))
			h.keys("esc")
			h.pump(func() bool { v, ok := h.m.top().(*connectView); return ok && v.err != nil })
			s := h.screen()
			for _, want := range []string{"SSH HOST KEY NOT TRUSTED", "unknown host key", "r tries again"} {
				if !strings.Contains(s, want) {
					t.Fatalf("failed open lacks %q:\n%s", want, s)
				}
			}
			if !errors.Is(h.m.top().(*connectView).err, remote.ErrHostKeyUnknown) {
				t.Fatal("the refusal did not fail the open")
			}
			// r asks again; typed no refuses like esc.
			h.keys("r")
			h.send(question(t, asked))
			h.typeText("no")
			h.keys("enter")
			h.pump(func() bool { v, ok := h.m.top().(*connectView); return ok && v.err != nil })
			if opens.Load() != 2 {
				t.Fatalf("%d opens, want 2", opens.Load())
			}
		})
	})
	t.Run("quitting answers no and ends the open", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var opens atomic.Int32
			h, asked := hostKeyHarness(t, newGoldenStore(t), &opens)
			h.send(question(t, asked))
			h.send(tea.PasteMsg{Content: "yes"})
			if d, ok := h.m.dialog.(*hostKeyDialog); !ok || d.typed.in.Value() != "yes" {
				t.Fatal("a paste did not reach the dialog")
			}
			h.keys("ctrl+c")
			h.close() // fails if the open still waits for an answer
		})
	})
}

// errMismatch is how the remote package reports a changed host key.
var errMismatch = fmt.Errorf("ssh ops@db.example: %w for [db.example]:22: the server offered ssh-ed25519 SHA256:newnewnew but known_hosts has ssh-ed25519 SHA256:oldoldold (/home/ops/.ssh/known_hosts:3). "+
	"Someone may be intercepting the connection, or the host was reinstalled: check with its administrator before removing the old line", remote.ErrHostKeyMismatch)

func TestHostKeyMismatchIsAnAlert(t *testing.T) {
	h := newSyncHarness(t, Options{
		Session:     Session{Store: newGoldenStore(t), Name: "demo"},
		Contexts:    []string{"far"},
		OpenContext: func(context.Context, string) (Session, error) { return Session{}, errMismatch },
	})
	h.keys(":")
	h.typeText("ctx far")
	h.keys("enter")
	s := h.screen()
	for _, want := range []string{"SSH HOST KEY MISMATCH", "[db.example]:22", "SHA256:newnewnew", "SHA256:oldoldold"} {
		if !strings.Contains(s, want) {
			t.Fatalf("alert lacks %q:\n%s", want, s)
		}
	}
	h.keys("esc")
	if h.m.dialog != nil || !strings.Contains(h.screen(), "58 records") {
		t.Fatalf("esc did not close the alert:\n%s", h.screen())
	}
}

// deadStore is a remote store whose connection was lost.
type deadStore struct {
	*closeRecorder
}

func (d *deadStore) List(context.Context, stores.Filter) ([]stores.Entry, error) {
	return nil, fmt.Errorf("list: %w: connection to ssh ops@db.example → plugin /opt/wf/plugin failed or was lost (EOF); reconnect to retry", remote.ErrUnreachable)
}

func TestReconnectAfterLostConnection(t *testing.T) {
	dead := &deadStore{&closeRecorder{goldenStore: newGoldenStore(t)}}
	fresh := &closeRecorder{goldenStore: newGoldenStore(t)}
	var opens atomic.Int32
	h := newSyncHarness(t, Options{Session: Session{Store: dead, Name: "far", Open: func(context.Context) (Session, error) {
		opens.Add(1)
		return Session{Store: fresh, Name: "far"}, nil
	}}})
	if s := h.screen(); !strings.Contains(s, "backend unreachable") || !strings.Contains(s, "press r to reconnect") {
		t.Fatalf("no reconnect offer:\n%s", s)
	}
	h.keys("r")
	if opens.Load() != 1 || !dead.closed.Load() || fresh.closed.Load() {
		t.Fatalf("opens=%d old closed=%v new closed=%v", opens.Load(), dead.closed.Load(), fresh.closed.Load())
	}
	if h.m.env.session.Store != fresh || h.m.env.repair.Store != fresh {
		t.Fatal("the session and the repair engine still use the dead store")
	}
	if s := h.screen(); !strings.Contains(s, "58 records") || !strings.Contains(s, "reconnected to far") {
		t.Fatalf("not reloaded on the new store:\n%s", s)
	}
}

// stockPluginStore is a remote store served by a stock plugin: no lock
// inventory, only the contract's plain Unlock.
type stockPluginStore struct {
	*goldenStore
	unlocked []string
}

func (s *stockPluginStore) Describe() string {
	return "ssh ops@db.example → plugin /opt/wf/plugin (backend fs)"
}

func (s *stockPluginStore) Locks(context.Context) ([]stores.LockInfo, error) {
	return nil, fmt.Errorf("lock inventory is unavailable over this backend (ssh ops@db.example → plugin /opt/wf/plugin backend \"fs\" has no statescope LockAdmin service): %w. %s",
		stores.ErrUnsupported, s.UnlockWarning())
}

func (s *stockPluginStore) UnlockWarning() string {
	return "A plain Unlock on a filesystem backend deletes the lock file/object without checking who holds it: if the holder is still running it silently loses its lock and two writers can proceed."
}

func (s *stockPluginStore) Unlock(_ context.Context, id string) error {
	s.unlocked = append(s.unlocked, id)
	return nil
}

// words is s's text on one line, without the box drawn around it.
func words(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "│", " ")), " ")
}

func TestPlainUnlockOverStockPlugin(t *testing.T) {
	t.Run("confirm shows the warning and needs the ID back", func(t *testing.T) {
		store := &stockPluginStore{goldenStore: newGoldenStore(t)}
		h := newSyncHarness(t, Options{Session: Session{Store: store, Name: "far", Target: "ssh://ops@db.example"}})
		h.keys("L")
		s := h.screen()
		if !strings.Contains(s, "lock inventory is unavailable over this backend") || !strings.Contains(s, "press U to unlock") {
			t.Fatalf("locks view does not explain:\n%s", s)
		}
		h.keys("U")
		h.typeText("prod/db/orders")
		h.keys("enter")
		s = h.screen()
		if !strings.Contains(words(s), words(store.UnlockWarning())) {
			t.Fatalf("the warning is not shown verbatim:\n%s", s)
		}
		h.typeText("prod/db/order")
		h.keys("enter")
		if len(store.unlocked) != 0 || !strings.Contains(h.screen(), "does not match") {
			t.Fatalf("unlocked on a wrong ID: %v", store.unlocked)
		}
		h.keys("s", "enter")
		if strings.Join(store.unlocked, ",") != "prod/db/orders" {
			t.Fatalf("unlocked %v", store.unlocked)
		}
		if !strings.Contains(h.screen(), "unlocked prod/db/orders with the backend's plain Unlock") {
			t.Fatalf("no outcome:\n%s", h.screen())
		}
		entries, err := repair.AuditLog(h.m.env.opts.StateDir).Read()
		if err != nil || len(entries) != 1 {
			t.Fatalf("audit: %v %v", entries, err)
		}
		if e := entries[0]; e.Action != "unlock" || e.Resource != "prod/db/orders" || e.Result != "applied" || e.Target != "ssh://ops@db.example" {
			t.Fatalf("audit entry %+v", e)
		}
	})
	t.Run("read-only refuses", func(t *testing.T) {
		store := &stockPluginStore{goldenStore: newGoldenStore(t)}
		h := newSyncHarness(t, Options{Session: Session{Store: stores.ReadOnly(store), Name: "far", ReadOnly: true}})
		h.keys("L", "U")
		if s := h.screen(); !strings.Contains(s, "unlock is disabled: the store is opened read-only") || h.m.top().(*locksView).unlock != nil {
			t.Fatalf("read-only did not refuse:\n%s", s)
		}
	})
}

// TestHostKeysOnlyAnswerTheUIsOpens: a question from outside an open the UI
// started is answered no without showing anything, and opens take turns so
// each question belongs to one of them.
func TestHostKeysOnlyAnswerTheUIsOpens(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	synctest.Test(t, func(t *testing.T) {
		asked := make(chan tea.Msg, 1)
		h := NewHostKeys()
		h.Attach(func(msg tea.Msg) { asked <- msg })
		if h.Ask("stray", testFingerprint) || len(asked) != 0 {
			t.Fatal("a question outside an open was asked or accepted")
		}
		inFirst, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, err := opening(h, context.Background(), func(context.Context) (int, error) {
				close(inFirst)
				<-release
				return 0, nil
			})
			done <- err
		}()
		<-inFirst
		// Fake time: the deadline passes only once the second open is
		// blocked waiting for its turn.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := opening(h, ctx, func(context.Context) (int, error) { return 0, nil }); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a second open ran beside the first: %v", err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
