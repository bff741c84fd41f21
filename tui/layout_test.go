package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"statescope/stores"
)

// selectedLine is the table row drawn in reverse video (the cursor's).
func selectedLine(t *testing.T, h *syncHarness) string {
	t.Helper()
	for _, l := range strings.Split(h.m.View().Content, "\n") {
		if strings.Contains(l, "\x1b[7m") {
			return ansi.Strip(l)
		}
	}
	t.Fatal("no selected row on screen")
	return ""
}

// TestStatusAndLockAreNeverCut walks every demo record at 80×24, 100×30
// and 160×45: its STATUS and LOCK cells are on its row whole.
func TestStatusAndLockAreNeverCut(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {100, 30}, {160, 45}} {
		h := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}})
		h.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		v := h.m.top().(*resourcesView)
		for i := range v.grid.Visible() {
			en, _ := v.grid.Selected()
			line := selectedLine(t, h)
			status, lock := statusText(en, clock, stores.DefaultStaleAfter), lockCell(v.locks, en.ID, clock)
			if !strings.Contains(line, "  "+status+" ") || !strings.Contains(line, "  "+lock+" ") {
				t.Errorf("%dx%d row %d (%s): status %q or lock %q cut:\n%s", size[0], size[1], i, en.ID, status, lock, line)
			}
			if strings.Contains(line, "…") && !strings.Contains(line, "/…/") && size[0] >= 160 {
				t.Errorf("%dx%d row %d: cut where there is room:\n%s", size[0], size[1], i, line)
			}
			h.keys("j")
		}
	}
}

// TestBreadcrumbsAbbreviate: a deep trail on a narrow screen keeps the
// session, the first and the current view, and the store description.
func TestBreadcrumbsAbbreviate(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}})
	h.send(tea.WindowSizeMsg{Width: 60, Height: 24})
	for _, id := range []string{"prod/db/users", "prod/vpc/aws", "prod/eu-west-1/very-long-name/orders"} {
		h.run(h.m.push(newDetailView(h.m.env, stores.Row{ID: id})))
	}
	crumbs := strings.Split(h.screen(), "\n")[0]
	for _, want := range []string{"demo › resources › … › prod/…/orders", "golden demo"} {
		if !strings.Contains(crumbs, want) {
			t.Errorf("breadcrumbs %q lack %q", crumbs, want)
		}
	}
	if ansi.StringWidth(crumbs) > 60 {
		t.Errorf("breadcrumbs wider than the screen: %q", crumbs)
	}
}

// TestStatusSortsBySeverity: corrupt, error, stuck, in progress, planned,
// active, destroyed — not the alphabet; the sort always shows its arrow
// and the first s changes what is on screen.
func TestStatusSortsBySeverity(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}})
	before := h.screen()
	if !strings.Contains(before, "RESOURCE↑") {
		t.Fatalf("no sort arrow before any s:\n%s", before)
	}
	h.keys("s")
	if after := h.screen(); after == before || !strings.Contains(after, "TYPE↑") {
		t.Fatalf("the first s changed nothing visible:\n%s", after)
	}
	v := h.m.top().(*resourcesView)
	for col, _ := v.grid.SortState(); col != "STATUS"; col, _ = v.grid.SortState() {
		h.keys("s")
	}
	want := []string{"CORRUPT", "error", "error", "provisioning ⚠stuck", "destroying", "provisioning", "planned", "planned", "planned"}
	var got []string
	for range len(want) {
		en, _ := v.grid.Selected()
		got = append(got, statusText(en, clock, stores.DefaultStaleAfter))
		h.keys("j")
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("status order %v, want %v", got, want)
	}
	h.keys("G")
	if en, _ := v.grid.Selected(); en.Status != stores.StatusDestroyed {
		t.Fatalf("last row is %s, want a destroyed record", en.Status)
	}
}

// TestFilterMatchesWhatTheTableShows: the marks a row carries are words
// the filter finds, ranked before rows that only hold the letters.
func TestFilterMatchesWhatTheTableShows(t *testing.T) {
	h := newSyncHarness(t, Options{Session: Session{Store: newGoldenStore(t), Name: "demo"}})
	v := h.m.top().(*resourcesView)
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"stuck", []string{"prod/db/orders"}},
		{"orphaned", []string{"prod/db/orders", "prod/k8s/main"}},
		{"locked", []string{"prod/db/orders", "prod/k8s/main", "staging/dns/api"}},
		{"held", []string{"staging/dns/api"}},
		{"corrupt", []string{"prod/cache/sessions"}},
		{"locked prod", []string{"prod/db/orders", "prod/k8s/main"}},
	} {
		v.grid.SetQuery(tt.query)
		var got []string
		for range v.grid.Visible() {
			en, _ := v.grid.Selected()
			got = append(got, en.ID)
			v.grid.Move(1)
		}
		v.grid.Top()
		if len(got) < len(tt.want) || strings.Join(got[:len(tt.want)], ",") != strings.Join(tt.want, ",") {
			t.Errorf("/%s found %v, want %v first", tt.query, got, tt.want)
		}
	}
	v.grid.SetQuery("error")
	if en, _ := v.grid.Selected(); en.Status != stores.StatusError {
		t.Errorf("/error ranks %s (%s) first, not a record in error", en.ID, en.Status)
	}
}
