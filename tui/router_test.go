package tui

import (
	"strings"
	"testing"

	"statescope/stores"
)

// TestLateReplyNeverReachesAnotherView: a reply addressed to a view that
// was left is dropped — even when a view of the same kind, at the same
// load generation, is now on top — and no two views ever share an
// identity, whatever way they were left (pop, replace, context switch).
func TestLateReplyNeverReachesAnotherView(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}})
	seen := map[int]View{}
	note := func() {
		t.Helper()
		for _, v := range h.m.stack {
			id := v.base().id
			if other, dup := seen[id]; dup && other != v {
				t.Fatalf("view id %d reused: %s and %s", id, other.Title(), v.Title())
			}
			seen[id] = v
		}
	}
	note()
	h.run(h.m.push(newDetailView(h.m.env, stores.Row{ID: "prod/db/users"})))
	left := h.m.top().(*detailView)
	note()
	h.keys("esc")
	h.run(h.m.push(newDetailView(h.m.env, stores.Row{ID: "staging/db/orders"})))
	now := h.m.top().(*detailView)
	note()
	if now.gen != left.gen {
		t.Fatalf("the views' generations differ (%d, %d): the test needs them equal", now.gen, left.gen)
	}
	late := &stores.State{ResourceID: "prod/db/users", Status: "late-reply-marker"}
	h.send(tagged{to: left.id, msg: detailMsg{gen: left.gen, state: late}})
	if now.state == late || strings.Contains(h.screen(), "late-reply-marker") {
		t.Fatal("a reply for a view that was left reached the view on top")
	}
	if left.state == late {
		t.Fatal("a view that was left took a reply")
	}

	// Identities stay unique across replace and a context switch.
	h.keys(":")
	h.typeText("locks")
	h.keys("enter")
	note()
	h.keys(":")
	h.typeText("resources")
	h.keys("enter")
	note()
	h.send(sessionMsg{session: Session{Store: newGoldenStore(t), Name: "other"}})
	note()
	h.run(h.m.push(newDetailView(h.m.env, stores.Row{ID: "prod/db/users"})))
	note()
	if len(seen) < 6 {
		t.Fatalf("only %d distinct views seen", len(seen))
	}
}
