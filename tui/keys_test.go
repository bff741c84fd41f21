package tui

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"statescope/stores"
	"statescope/stores/repair"
	"statescope/stores/repair/audit"
)

// TestQuitOnlyFromTheTop: q and esc close help, dialogs and pushed views;
// ctrl+c cancels what is being typed first; only the top-level view quits.
func TestQuitOnlyFromTheTop(t *testing.T) {
	tests := []struct {
		name  string
		steps func(h *syncHarness)
		quit  bool
		check func(t *testing.T, h *syncHarness)
	}{
		{name: "q on the home view quits", steps: func(h *syncHarness) { h.keys("q") }, quit: true},
		{name: "q closes help", steps: func(h *syncHarness) { h.keys("?", "q") }, check: func(t *testing.T, h *syncHarness) {
			if _, ok := h.m.top().(*resourcesView); !ok {
				t.Fatalf("q left %s on top, want the resources", h.m.top().Title())
			}
		}},
		{name: "q closes a detail view", steps: func(h *syncHarness) {
			h.run(h.m.push(newDetailView(h.m.env, stores.Row{ID: "prod/db/users"})))
			h.keys("q")
		}, check: func(t *testing.T, h *syncHarness) {
			if len(h.m.stack) != 1 {
				t.Fatalf("%d views open, want the home view only", len(h.m.stack))
			}
		}},
		{name: "q closes an alert", steps: func(h *syncHarness) {
			h.m.dialog = &alertDialog{title: "SOMETHING FAILED", err: errors.New("boom")}
			h.keys("q")
		}, check: func(t *testing.T, h *syncHarness) {
			if h.m.dialog != nil {
				t.Fatal("the alert is still open")
			}
		}},
		{name: "ctrl+c clears a filter being typed, then quits", steps: func(h *syncHarness) {
			h.keys("/")
			h.typeText("prod")
			h.keys("ctrl+c")
			v := h.m.top().(*resourcesView)
			if v.filter.typing || v.grid.Query() != "" || len(h.m.stack) != 1 {
				t.Fatalf("ctrl+c did not clear the filter: typing=%v query=%q", v.filter.typing, v.grid.Query())
			}
			h.keys("ctrl+c")
		}, quit: true},
		{name: "ctrl+c closes the command bar", steps: func(h *syncHarness) { h.keys(":", "l", "ctrl+c") }, check: func(t *testing.T, h *syncHarness) {
			if h.m.command != nil {
				t.Fatal("the command bar is still open")
			}
		}},
		{name: "ctrl+c quits from a pushed view", steps: func(h *syncHarness) {
			h.run(h.m.push(newDetailView(h.m.env, stores.Row{ID: "prod/db/users"})))
			h.keys("ctrl+c")
		}, quit: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}})
			tt.steps(h)
			if quit := len(h.m.stack) == 0; quit != tt.quit {
				t.Fatalf("quit=%v, want %v", quit, tt.quit)
			}
			if tt.check != nil {
				tt.check(t, h)
			}
		})
	}
}

// TestCopyEverywhere: y copies the selected row's ID in every table; the
// locks view also copies the token and the exact unlock command, which a
// shell reads back word for word (S3 tokens hold quotes, Azure ones |).
func TestCopyEverywhere(t *testing.T) {
	for _, token := range []string{`"9b2cf535f27731c974343645a3985328"`, "lease|2026-01-01T00:00:00Z|a1b2"} {
		gs := newGoldenStore(t)
		gs.locks[0].Token = token
		h := newSyncHarness(t, Options{Session: Session{Store: gs, Name: "demo", Args: []string{"--store", "s3://bucket/state prefix"}}, StateDir: t.TempDir()})
		h.keys("y")
		if h.clipboard != "azure-app-gateway" {
			t.Errorf("resources: y copied %q", h.clipboard)
		}
		h.keys("L", "y")
		if h.clipboard != "prod/db/orders" {
			t.Errorf("locks: y copied %q", h.clipboard)
		}
		h.keys("t")
		if h.clipboard != token {
			t.Errorf("locks: t copied %q, want the token %q", h.clipboard, token)
		}
		h.keys("c")
		line := h.clipboard
		args, ok := strings.CutPrefix(line, "statescope ")
		if !ok {
			t.Fatalf("copied command %q", line)
		}
		out, err := exec.Command("sh", "-c", `printf '%s\n' `+args).Output()
		want := strings.Join([]string{"unlock", "prod/db/orders", "--token", token, "--store", "s3://bucket/state prefix"}, "\n") + "\n"
		if err != nil || string(out) != want {
			t.Errorf("sh reads %q as:\n%s(%v), want:\n%s", line, out, err, want)
		}
	}
	h := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}, StateDir: auditDir(t)})
	h.keys(":")
	h.typeText("audit")
	h.keys("enter", "y")
	if h.clipboard == "" || strings.Contains(h.clipboard, " ") {
		t.Errorf("audit: y copied %q, want a resource ID", h.clipboard)
	}
}

func auditDir(t *testing.T) string {
	dir := t.TempDir()
	writeAudit(t, dir)
	return dir
}

// TestLongMessagesReadInFull: a status line wider than the screen says
// how to read it, ! opens it whole, and :messages lists the session's
// messages newest first, each openable.
func TestLongMessagesReadInFull(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}})
	long := "lock conflict: " + strings.Repeat("the holder wrote a reason that is much longer than the screen ", 3) + "END-OF-REASON postgres://u:hunter2@db/x"
	h.send(statusMsg{text: "first message", isErr: false})
	h.send(statusMsg{text: long, isErr: true})
	s := h.screen()
	if !strings.Contains(s, "… (! shows all)") || strings.Contains(s, "END-OF-REASON") {
		t.Fatalf("the cut status does not say how to read it:\n%s", s)
	}
	h.keys("!")
	s = h.screen()
	if !strings.Contains(s, "END-OF-REASON") || strings.Contains(s, "hunter2") {
		t.Fatalf("! does not show the message in full, masked:\n%s", s)
	}
	h.keys("esc", ":")
	h.typeText("messages")
	h.keys("enter")
	s = h.screen()
	if !strings.Contains(s, "2 messages") || strings.Index(s, "lock conflict") > strings.Index(s, "first message") {
		t.Fatalf(":messages does not list them newest first:\n%s", s)
	}
	h.keys("enter")
	if !strings.Contains(h.screen(), "END-OF-REASON") {
		t.Fatalf("enter does not open the message:\n%s", h.screen())
	}
}

// TestAuditEntryInFull: enter on an audit row shows its whole JSON line,
// newest first, secret-looking values masked.
func TestAuditEntryInFull(t *testing.T) {
	dir := t.TempDir()
	log := repair.AuditLog(dir)
	for i, e := range []audit.Entry{
		{Action: "edit", Resource: "prod/db/orders", Result: audit.ResultApplied},
		{Action: "delete", Resource: "prod/db/users", Result: audit.ResultFailed, Error: "write to postgres://app:hunter2@db/state failed"},
	} {
		e.Time, e.Actor, e.Target = clock.Add(time.Duration(i)*time.Minute), "ops@bastion", "file:///state"
		if err := log.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	h := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}, StateDir: dir})
	h.keys(":")
	h.typeText("audit")
	h.keys("enter", "enter")
	s := h.screen()
	for _, want := range []string{"AUDIT ENTRY", `"action": "delete"`, `"resource": "prod/db/users"`, `"actor": "ops@bastion"`, `"result": "failed"`} {
		if !strings.Contains(s, want) {
			t.Errorf("the newest entry's detail lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, "hunter2") {
		t.Errorf("the entry shows a password:\n%s", s)
	}
}

// TestMouse: clicks select table rows and the diff picker's tabs, the
// wheel scrolls, and M (or the config's no-mouse) turns capture off.
func TestMouse(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}})
	click := func(x, y int) { h.send(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft}) }
	// Breadcrumbs, two summary lines at 120 columns, the table header.
	click(5, 6)
	if en, _ := h.m.top().(*resourcesView).grid.Selected(); en.ID != "dev/bucket/scratch" {
		t.Fatalf("a click on the third row selected %s", en.ID)
	}
	h.keys("L")
	click(5, 4) // breadcrumbs, the summary line, the header, row 2
	if l, _ := h.m.top().(*locksView).grid.Selected(); l.ResourceID != "prod/k8s/main" {
		t.Fatalf("a click in the locks table selected %s", l.ResourceID)
	}
	h.keys("esc", "enter", "d")
	d := h.m.top().(*diffView)
	h.screen() // the tabs are where the last frame drew them
	click(d.tabs[3][0]+1, 1)
	if d.kind != fromFile {
		t.Fatalf("a click on the file tab picked source %d", d.kind)
	}
	if h.m.View().MouseMode == tea.MouseModeNone {
		t.Fatal("mouse capture is off by default")
	}
	h.keys("esc", "esc", "M")
	if h.m.View().MouseMode != tea.MouseModeNone || !strings.Contains(h.screen(), "mouse off") {
		t.Fatal("M did not turn mouse capture off")
	}
	off := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}, NoMouse: true})
	if off.m.View().MouseMode != tea.MouseModeNone {
		t.Fatal("NoMouse did not start with mouse capture off")
	}
}

// TestContextPicker: :ctx alone lists the contexts with their targets,
// credentials removed, and enter switches to the selected one.
func TestContextPicker(t *testing.T) {
	next := newGoldenStore(t)
	h := newSyncHarness(t, Options{
		Session:        Session{Store: newGoldenStore(t), Name: "prod"},
		Contexts:       []string{"prod", "staging"},
		ContextTargets: map[string]string{"prod": "/var/lib/state", "staging": stores.RedactTarget("postgres://app:hunter2@db/state")},
		OpenContext: func(_ context.Context, name string) (Session, error) {
			return Session{Store: next, Name: name}, nil
		},
	})
	h.keys(":")
	h.typeText("ctx")
	h.keys("enter")
	s := h.screen()
	if !strings.Contains(s, "staging") || !strings.Contains(s, "postgres://app:xxxxx@db/state") || strings.Contains(s, "hunter2") {
		t.Fatalf("the picker does not list the contexts with their redacted targets:\n%s", s)
	}
	h.keys("j", "enter")
	if s := h.screen(); !strings.Contains(s, "statescope › staging › resources") {
		t.Fatalf("enter did not switch:\n%s", s)
	}
}
