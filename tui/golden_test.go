package tui

import (
	"cmp"
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"statescope/stores"
	"statescope/stores/fleet"
)

// auditIn gives the UI a state directory holding a fixed audit log.
func auditIn(t *testing.T) func(o *Options) {
	return func(o *Options) {
		o.StateDir = t.TempDir()
		writeAudit(t, o.StateDir)
	}
}

// postgresLock is a lock as the PostgreSQL store reports it: releasing
// it terminates the holder's session, which holds two more locks.
func postgresLock() stores.LockInfo {
	since := clock.Add(-2 * time.Hour)
	return stores.LockInfo{
		ResourceID: "prod/db/orders", Token: "812:2025-12-31T22:00:00.000000Z", AcquiredAt: since,
		Holder:  &stores.Holder{PID: 812, Since: since, Details: map[string]string{"backend_pid": "812", "application": "workflow-engine", "client": "10.0.4.17 port 51234"}},
		Verdict: stores.VerdictStale, HolderGone: false,
		Evidence: "session idle since 2025-12-31T22:00:00Z (pg_stat_activity.state_change; the lock is at least that old)",
		Source:   "pg_locks advisory key 6254091520194829953 (classid 1456181760, objid 1993413505) in database workflow",
		Release: `terminate PostgreSQL backend pid 812 (session of "workflow-engine" from 10.0.4.17 port 51234), which also releases: ` +
			`its locks on "prod/db/users", "prod/vpc/aws"; its open transaction is rolled back`,
	}
}

// plainStore hides every optional capability (no lock inventory).
type plainStore struct{ stores.Store }

// TestGolden renders each view at 120×40 as an operator sees it; run with
// -update to refresh the files under testdata/TestGolden.
func TestGolden(t *testing.T) {
	openRecord := func(filter string) func(h *syncHarness) {
		return func(h *syncHarness) {
			h.keys("/")
			h.typeText(filter)
			h.keys("enter", "enter")
		}
	}
	tests := []struct {
		name     string
		readOnly bool
		plain    bool
		width    int // 120 unless set
		height   int // 40 unless set
		opts     func(o *Options)
		steps    func(h *syncHarness)
		want     string // a line the frame must contain, besides the golden file
	}{
		{name: "resources", want: "prod/db/orders"},
		{name: "resources_filtered", steps: func(h *syncHarness) { h.keys("/"); h.typeText("staging/db"); h.keys("enter") }, want: "/staging/db"},
		{name: "resources_filter_typing", steps: func(h *syncHarness) { h.keys("/"); h.typeText("error") }, want: "/error█"},
		{name: "resources_sorted_by_status_desc", steps: func(h *syncHarness) { h.keys("s", "s", "s", "S") }, want: "STATUS↓"},
		{name: "resources_80x24", width: 80, height: 24, want: "dev/…/terraform-migration"},
		{name: "resources_80x24_by_status", width: 80, height: 24, steps: func(h *syncHarness) { h.keys("s", "s", "s") }, want: "provisioning ⚠stuck  3d orphaned"},
		{name: "resources_100x30", width: 100, height: 30, want: "STATUS "},
		{name: "resources_160x45", width: 160, height: 45, want: "provisioning ⚠stuck"},
		{name: "locks_80x24", width: 80, height: 24, steps: func(h *syncHarness) { h.keys("L") }, want: "orphaned"},
		{name: "diff_80x24", width: 80, height: 24, steps: func(h *syncHarness) {
			openRecord("prod/db/users")(h)
			h.keys("d")
			h.typeText("staging/db/orders")
			h.keys("enter")
		}, want: "- outputs.username"},
		{name: "resources_no_inventory", plain: true, want: "no lock inventory"},
		{name: "detail_no_inventory", plain: true, steps: openRecord("prod/db/orders"), want: "unknown: this store has no lock inventory"},
		{name: "detail_error", steps: openRecord("prod/db/analytics"), want: "Quota 'SSD_TOTAL_GB' exceeded"},
		{name: "detail_masked", steps: openRecord("prod/db/users"), want: "••••••••"},
		{name: "detail_revealed", steps: func(h *syncHarness) { openRecord("prod/db/users")(h); h.keys("x") }, want: "Xk9#mP2vL8qR"},
		{name: "detail_dependency_selected", steps: func(h *syncHarness) { openRecord("prod/db/users")(h); h.keys("tab") }, want: "▸ prod/vpc/aws"},
		{name: "detail_limitations", opts: func(o *Options) {
			o.Session.Limitations = []string{"this backend does not store the error field"}
		}, steps: openRecord("prod/db/analytics"), want: "note: this backend does not store the error field"},
		{name: "detail_corrupt", steps: openRecord("prod/cache/sessions"), want: "^ unexpected end of JSON input"},
		{name: "detail_corrupt_no_bytes", plain: true, steps: openRecord("prod/cache/sessions"), want: "no stored bytes to show or edit"},
		{name: "detail_corrupt_80x24", width: 80, height: 24, steps: openRecord("prod/cache/sessions"), want: "line 8, column 14"},
		{name: "detail_corrupt_hex", steps: func(h *syncHarness) { openRecord("prod/cache/sessions")(h); h.keys("H") }, want: "000000d0"},
		{name: "detail_corrupt_hex_80x24", width: 80, height: 24, steps: func(h *syncHarness) { openRecord("prod/cache/sessions")(h); h.keys("H", "G") }, want: "^^"},
		{name: "detail_locked", steps: openRecord("prod/db/orders"), want: "orphaned  held 3d by deploy@ci-runner-7 pid 4242 (apply)"},
		{name: "diff_picker", steps: func(h *syncHarness) { openRecord("prod/db/users")(h); h.keys("d"); h.typeText("staging/db/ord") }, want: "staging/db/orders"},
		{name: "diff_structural", steps: func(h *syncHarness) {
			openRecord("prod/db/users")(h)
			h.keys("d")
			h.typeText("staging/db/orders")
			h.keys("enter")
		}, want: "~ config.instance_class"},
		{name: "diff_text", steps: func(h *syncHarness) {
			openRecord("prod/db/users")(h)
			h.keys("d")
			h.typeText("staging/db/orders")
			h.keys("enter", "u")
		}, want: "+++ staging/db/orders"},
		{name: "diff_side_by_side_wide", width: 160, steps: func(h *syncHarness) {
			openRecord("prod/db/users")(h)
			h.keys("d")
			h.typeText("staging/db/orders")
			h.keys("enter", "u")
		}, want: "│"},
		{name: "diff_file", steps: func(h *syncHarness) {
			openRecord("prod/db/users")(h)
			h.keys("d", "tab", "tab", "tab")
			h.typeText("testdata/other_record.json")
			h.keys("enter")
		}, want: "↔  testdata/other_record.json"},
		{name: "diff_file_pasted", steps: func(h *syncHarness) {
			openRecord("prod/db/users")(h)
			h.keys("d", "tab", "tab", "tab")
			h.send(tea.PasteMsg{Content: "testdata/other_record.json\n"})
			h.keys("enter")
		}, want: "↔  testdata/other_record.json"},
		{name: "diff_context", opts: func(o *Options) {
			o.Contexts = []string{"staging"}
			o.OpenContext = func(context.Context, string) (Session, error) {
				return Session{Store: newGoldenStore(t), Name: "staging"}, nil
			}
		}, steps: func(h *syncHarness) {
			openRecord("prod/db/users")(h)
			h.keys("d", "tab", "enter")
		}, want: "No differences"},
		{name: "diff_revealed", steps: func(h *syncHarness) {
			openRecord("prod/db/users")(h)
			h.keys("d")
			h.typeText("staging/db/orders")
			h.keys("enter", "x")
		}, want: "st4g1ng-Pw!"},
		{name: "locks", steps: func(h *syncHarness) { h.keys("L") }, want: "orphaned"},
		{name: "locks_confirm", steps: func(h *syncHarness) { h.keys("L", "F"); h.typeText("prod/db/ord") }, want: "delete lock file /state/prod_db_orders.lock"},
		{name: "locks_confirm_postgres", opts: func(o *Options) {
			gs := newGoldenStore(t)
			gs.locks = []stores.LockInfo{postgresLock()}
			o.Session.Store = gs
		}, steps: func(h *syncHarness) { h.keys("L", "F") }, want: `which also releases: its locks on "prod/db/users"`},
		{name: "locks_confirm_held", steps: func(h *syncHarness) { h.keys("L", "G", "F") }, want: "Not known to be abandoned"},
		{name: "locks_confirm_mismatch", steps: func(h *syncHarness) { h.keys("L", "F"); h.typeText("prod/db/ord"); h.keys("enter") }, want: "does not match"},
		{name: "locks_released", steps: func(h *syncHarness) { h.keys("L", "F"); h.typeText("prod/db/orders"); h.keys("enter") }, want: "released the lock on prod/db/orders"},
		{name: "locks_readonly_refused", readOnly: true, steps: func(h *syncHarness) { h.keys("L", "F") }, want: "force release is disabled"},
		{name: "locks_no_inventory", plain: true, steps: func(h *syncHarness) { h.keys("L") }, want: "this store has no lock inventory"},
		{name: "help_locks", steps: func(h *syncHarness) { h.keys("L", "?") }, want: "force release"},
		{name: "help_locks_readonly", readOnly: true, steps: func(h *syncHarness) { h.keys("L", "?") }, want: "disabled: read-only"},
		{name: "status_picker", steps: func(h *syncHarness) {
			openRecord("staging/db/orders")(h)
			h.keys("S", "down")
			h.typeText("manual fix")
		}, want: "▸ destroying"},
		{name: "status_reason_missing", steps: func(h *syncHarness) { openRecord("staging/db/orders")(h); h.keys("S", "up", "up", "up", "enter") }, want: "setting error needs a reason"},
		{name: "plan_set_status", steps: func(h *syncHarness) {
			openRecord("staging/db/orders")(h)
			h.keys("S", "up", "up", "up")
			h.typeText("disk full")
			h.keys("enter")
		}, want: `+  "error": "disk full"`},
		{name: "plan_set_status_revealed", steps: func(h *syncHarness) { openRecord("staging/db/orders")(h); h.keys("S", "down", "enter", "x") }, want: "secrets REVEALED"},
		{name: "plan_blocked_by_lock", steps: func(h *syncHarness) { openRecord("prod/db/orders")(h); h.keys("S", "down", "enter") }, want: "release the lock first"},
		{name: "plan_conflict", steps: func(h *syncHarness) {
			openRecord("staging/db/orders")(h)
			h.keys("S", "down", "enter")
			s := h.m.env.session.Store
			rec, _ := s.Get(context.Background(), "staging/db/orders")
			rec.Status = stores.StatusPlanned
			s.Save(context.Background(), rec)
			h.keys("y")
		}, want: "Someone else changed it"},
		{name: "plan_delete_dependents", steps: func(h *syncHarness) { openRecord("prod/vpc/aws")(h); h.keys("ctrl+d") }, want: "delete refused"},
		{name: "plan_delete_force_typing", steps: func(h *syncHarness) {
			openRecord("prod/vpc/aws")(h)
			h.keys("ctrl+d", "f")
			h.typeText("prod/vpc/aw")
		}, want: "type the resource ID to confirm: prod/vpc/aw█"},
		{name: "plan_delete_forced", steps: func(h *syncHarness) {
			openRecord("prod/vpc/aws")(h)
			h.keys("ctrl+d", "f")
			h.typeText("prod/vpc/aws")
			h.keys("enter")
		}, want: "note: forced:"},
		{name: "backups", steps: func(h *syncHarness) { openRecord("staging/db/orders")(h); h.keys("S", "down", "enter", "y", "b") }, want: "set-status"},
		{name: "plan_restore", steps: func(h *syncHarness) {
			openRecord("staging/db/orders")(h)
			h.keys("S", "down", "enter", "y", "b", "enter")
		}, want: "from the backup taken before set-status"},
		{name: "detail_readonly_refused", readOnly: true, steps: func(h *syncHarness) { openRecord("staging/db/orders")(h); h.keys("e") }, want: "edit is disabled: the store is opened read-only"},
		{name: "help_detail", steps: func(h *syncHarness) { openRecord("staging/db/orders")(h); h.keys("?") }, want: "set status"},
		{name: "help_detail_readonly", readOnly: true, steps: func(h *syncHarness) { openRecord("staging/db/orders")(h); h.keys("?") }, want: "disabled: read-only"},
		{name: "audit", opts: auditIn(t), steps: func(h *syncHarness) { h.keys(":"); h.typeText("audit"); h.keys("enter") }, want: "4 audit entries"},
		{name: "audit_filtered", opts: auditIn(t), steps: func(h *syncHarness) {
			h.keys(":")
			h.typeText("audit")
			h.keys("enter", "/")
			h.typeText("refused")
		}, want: "/refused█"},
		{name: "hostkey_prompt", steps: func(h *syncHarness) {
			// The dialog's watcher command waits for the open to end: not run here.
			h.m.Update(hostKeyMsg{host: "[db.example]:22", fingerprint: testFingerprint, ctx: context.Background(), reply: make(chan bool, 1)})
			h.typeText("ye")
		}, want: testFingerprint},
		{name: "hostkey_mismatch", opts: func(o *Options) {
			o.Contexts = []string{"far"}
			o.OpenContext = func(context.Context, string) (Session, error) { return Session{}, errMismatch }
		}, steps: func(h *syncHarness) { h.keys(":"); h.typeText("ctx far"); h.keys("enter") }, want: "SSH HOST KEY MISMATCH"},
		{name: "connect_failed", opts: func(o *Options) {
			o.Session = Session{Name: "ssh://ops@db.example?plugin=/opt/wf/plugin", Open: func(context.Context) (Session, error) { return Session{}, errMismatch }}
		}, want: "r tries again"},
		{name: "reconnect_offer", opts: func(o *Options) {
			o.Session.Store = &deadStore{&closeRecorder{goldenStore: newGoldenStore(t)}}
		}, want: "press r to reconnect"},
		{name: "locks_unavailable", opts: func(o *Options) {
			o.Session.Store = &stockPluginStore{goldenStore: newGoldenStore(t)}
		}, steps: func(h *syncHarness) { h.keys("L") }, want: "press U to unlock"},
		{name: "locks_unlock_confirm", opts: func(o *Options) {
			o.Session.Store = &stockPluginStore{goldenStore: newGoldenStore(t)}
		}, steps: func(h *syncHarness) {
			h.keys("L", "U")
			h.typeText("prod/db/orders")
			h.keys("enter")
			h.typeText("prod/db/ord")
		}, want: "A plain Unlock on a filesystem backend"},
		{name: "resources_missing_dep", opts: withMissingDep(t), steps: func(h *syncHarness) { h.keys("/"); h.typeText("missing-dep"); h.keys("enter") }, want: "active ⚠missing-dep"},
		{name: "resources_missing_dep_80x24", width: 80, height: 24, opts: withMissingDep(t), steps: func(h *syncHarness) { h.keys("/"); h.typeText("missing"); h.keys("enter") }, want: "active ⚠missing-dep"},
		{name: "detail_missing_dep", opts: withMissingDep(t), steps: openRecord("prod/api/gateway"), want: "prod/vpc/legacy  ✗ missing: no record has this ID"},
		{name: "detail_missing_dep_80x24", width: 80, height: 24, opts: withMissingDep(t), steps: openRecord("prod/api/gateway"), want: "✗ missing"},
		{name: "detail_required_by", opts: withMissingDep(t), steps: func(h *syncHarness) { openRecord("prod/lb/api")(h); h.keys("tab", "tab") }, want: "▸ prod/api/gateway"},
		{name: "detail_required_by_80x24", width: 80, height: 24, opts: withMissingDep(t), steps: func(h *syncHarness) { openRecord("prod/lb/api")(h); h.keys("shift+tab") }, want: "▸ prod/dns/www"},
		{name: "resources_recover_hint", steps: func(h *syncHarness) { h.keys("/"); h.typeText("prod/db/orders"); h.keys("enter") }, want: "u recover stuck record"},
		{name: "recover_step1", steps: recoverOrders, want: "token:    tok-orders"},
		{name: "recover_step1_80x24", width: 80, height: 24, steps: recoverOrders, want: "step 1 of 2"},
		{name: "recover_step1_lock_changed", steps: func(h *syncHarness) {
			recoverOrders(h)
			gs := h.m.env.session.Store.(*goldenStore)
			gs.mu.Lock()
			gs.locks[0].Token = "tok-new-holder"
			gs.mu.Unlock()
			h.typeText("prod/db/orders")
			h.keys("enter")
		}, want: "changed hands"},
		{name: "recover_step2", steps: func(h *syncHarness) { recoverOrders(h); h.typeText("prod/db/orders"); h.keys("enter") }, want: "▸ error"},
		{name: "recover_step2_80x24", width: 80, height: 24, steps: func(h *syncHarness) { recoverOrders(h); h.typeText("prod/db/orders"); h.keys("enter") }, want: "step 2 of 2"},
		{name: "recover_step2_plan", steps: func(h *syncHarness) { recoverOrders(h); h.typeText("prod/db/orders"); h.keys("enter", "enter") }, want: `+  "status": "error",`},
		{name: "recover_step2_plan_80x24", width: 80, height: 24, steps: func(h *syncHarness) { recoverOrders(h); h.typeText("prod/db/orders"); h.keys("enter", "enter") }, want: "step 2 of 2"},
		{name: "recover_stopped_after_step1", steps: func(h *syncHarness) { recoverOrders(h); h.typeText("prod/db/orders"); h.keys("enter", "enter", "esc") }, want: "recover stopped after step 1"},
		{name: "recover_done", steps: func(h *syncHarness) { recoverOrders(h); h.typeText("prod/db/orders"); h.keys("enter", "enter", "y") }, want: "set-status prod/db/orders: done"},
		{name: "recover_not_applicable", opts: stuckUnderFreshLock(t), steps: func(h *syncHarness) { h.keys("/"); h.typeText("staging/dns/api"); h.keys("enter", "u") }, want: "its lock is held, not orphaned"},
		{name: "recover_readonly_refused", readOnly: true, steps: recoverOrders, want: "recover is disabled: the store is opened read-only"},
		{name: "command_bar", steps: func(h *syncHarness) { h.keys(":"); h.typeText("lo") }, want: ":lo█"},
		{name: "command_locks", steps: func(h *syncHarness) { h.keys(":"); h.typeText("locks"); h.keys("enter") }, want: "statescope › demo › locks"},
		{name: "findings", steps: func(h *syncHarness) { h.keys(":"); h.typeText("check"); h.keys("enter") }, want: "repair: statescope edit prod/cache/sessions"},
		{name: "findings_80x24", width: 80, height: 24, steps: func(h *syncHarness) { h.keys(":"); h.typeText("check"); h.keys("enter") }, want: "orphaned-lock"},
		{name: "findings_60x20", width: 60, height: 20, steps: func(h *syncHarness) { h.keys(":"); h.typeText("check"); h.keys("enter") }, want: "orphaned-lock"},
		{name: "tree_80x24", width: 80, height: 24, steps: func(h *syncHarness) { openRecord("prod/api/gateway")(h); h.keys("g") }, opts: withMissingDep(t), want: "missing"},
		{name: "fleet", opts: withFleet(t), steps: openFleet, want: "prod/eu-west-1/team-payments"},
		{name: "fleet_100x30", width: 100, height: 30, opts: withFleet(t), steps: openFleet, want: "3c 3w"},
		{name: "fleet_80x24", width: 80, height: 24, opts: withFleet(t), steps: openFleet, want: "FINDINGS"},
		{name: "fleet_60x20", width: 60, height: 20, opts: withFleet(t), steps: openFleet, want: "FINDINGS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s stores.Store = newGoldenStore(t)
			if tt.plain {
				s = plainStore{s}
			}
			if tt.readOnly {
				s = stores.ReadOnly(s)
			}
			opts := Options{Session: Session{Store: s, Name: "demo", ReadOnly: tt.readOnly}}
			if tt.opts != nil {
				tt.opts(&opts)
			}
			h := newSyncHarness(t, opts)
			if tt.width > 0 {
				h.send(tea.WindowSizeMsg{Width: tt.width, Height: cmp.Or(tt.height, 40)})
			}
			if tt.steps != nil {
				tt.steps(h)
			}
			screen := h.screen()
			if !strings.Contains(screen, tt.want) {
				t.Errorf("frame lacks %q:\n%s", tt.want, screen)
			}
			golden.RequireEqual(t, screen)
		})
	}
}

// withFleet gives the config a fleet: two long names that differ only at
// the end, one failed and one clean context.
func withFleet(t *testing.T) func(o *Options) {
	return func(o *Options) {
		f := &fleetOpener{t: t}
		o.OpenTarget = f.open
		o.Fleet = []fleet.Member{
			{Name: "prod/eu-west-1/team-payments", Target: "crit"}, {Name: "prod/eu-west-1/team-platform", Target: "crit"},
			{Name: "staging", Target: "down"}, {Name: "dev", Target: "clean"},
		}
	}
}

func openFleet(h *syncHarness) {
	h.keys(":")
	h.typeText("fleet")
	h.keys("enter")
}
