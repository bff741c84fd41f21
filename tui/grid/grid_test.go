package grid

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

type row struct {
	id, kind string
	n        int
}

func newTestGrid() *Model[row] {
	g := New([]Column[row]{
		{Title: "ID", Flex: true, Text: func(r row) string { return r.id }},
		{Title: "KIND", Text: func(r row) string { return r.kind }},
		{Title: "N", Text: func(r row) string { return fmt.Sprint(r.n) }, Compare: func(a, b row) int { return a.n - b.n }},
	}, func(r row) string { return r.id }, func(r row) []string { return []string{r.id, r.kind} }, Styles{})
	g.SetSize(40, 10)
	return g
}

func visibleIDs(g *Model[row]) []string {
	var out []string
	for _, i := range g.visible {
		out = append(out, g.items[i].id)
	}
	return out
}

func TestGrid(t *testing.T) {
	rows := []row{{"c", "db", 3}, {"a", "vpc", 1}, {"b", "db", 2}}
	tests := []struct {
		name  string
		steps func(g *Model[row])
		want  []string
	}{
		{"insertion order", func(g *Model[row]) {}, []string{"c", "a", "b"}},
		{"sort by first column", func(g *Model[row]) { g.CycleSort() }, []string{"a", "b", "c"}},
		{"sort by custom compare, reversed", func(g *Model[row]) { g.CycleSort(); g.CycleSort(); g.CycleSort(); g.Reverse() }, []string{"c", "b", "a"}},
		{"sort cycles back to the first column", func(g *Model[row]) {
			for range 4 {
				g.CycleSort()
			}
		}, []string{"a", "b", "c"}},
		{"a preset sort, then the next column", func(g *Model[row]) { g.SortBy(1); g.CycleSort() }, []string{"a", "b", "c"}},
		{"filter", func(g *Model[row]) { g.SetQuery("db") }, []string{"c", "b"}},
		{"filter narrows incrementally", func(g *Model[row]) { g.SetQuery("d"); g.SetQuery("db"); g.SetQuery("db c") }, []string{"c"}},
		{"a term matches within one field", func(g *Model[row]) { g.SetQuery("cd") }, nil},
		{"terms combine across fields", func(g *Model[row]) { g.SetQuery("VP a") }, []string{"a"}},
		{"filter widens again", func(g *Model[row]) { g.SetQuery("db c"); g.SetQuery("c") }, []string{"c", "a"}},
		{"filter keeps the sort order", func(g *Model[row]) { g.CycleSort(); g.SetQuery("db") }, []string{"b", "c"}},
		{"appended rows merge into sort and filter", func(g *Model[row]) {
			g.CycleSort()
			g.SetQuery("db")
			g.Append([]row{{"aa", "db", 9}, {"zz", "vpc", 0}})
		}, []string{"aa", "b", "c"}},
		{"reload keeps sort and filter", func(g *Model[row]) {
			g.CycleSort()
			g.SetQuery("db")
			g.SetItems([]row{{"y", "db", 1}, {"x", "db", 2}, {"w", "vpc", 3}})
		}, []string{"x", "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTestGrid()
			g.Append(rows)
			tt.steps(g)
			if got := visibleIDs(g); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("visible %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCursorFollowsItsRow(t *testing.T) {
	g := newTestGrid()
	g.Append([]row{{"c", "db", 3}, {"a", "vpc", 1}, {"b", "db", 2}})
	g.Move(1) // "a"
	g.CycleSort()
	if r, _ := g.Selected(); r.id != "a" {
		t.Fatalf("after sort the cursor is on %q", r.id)
	}
	g.SetItems([]row{{"a", "vpc", 1}, {"q", "db", 0}})
	if r, _ := g.Selected(); r.id != "a" {
		t.Fatalf("after reload the cursor is on %q", r.id)
	}
}

// TestLargeFilterRunsOffUpdate: above SyncFilterLimit the filter is a
// command; a stale result is dropped and a newer query wins.
func TestLargeFilterRunsOffUpdate(t *testing.T) {
	g := newTestGrid()
	var rows []row
	for i := range SyncFilterLimit + 10 {
		kind := "vpc"
		if i%(SyncFilterLimit/9) == 0 {
			kind = "needle"
		}
		rows = append(rows, row{id: fmt.Sprintf("res-%05d", i), kind: kind})
	}
	g.Append(rows)
	stale := g.SetQuery("needl")
	fresh := g.SetQuery("needle")
	if stale == nil || fresh == nil || !g.Filtering() {
		t.Fatal("large filter did not run as a command")
	}
	if cmd := g.Apply(stale().(FilterMsg)); cmd != nil || !g.Filtering() {
		t.Fatal("stale result applied")
	}
	g.Apply(fresh().(FilterMsg))
	if g.Filtering() || g.Visible() != 10 {
		t.Fatalf("visible %d, filtering %v", g.Visible(), g.Filtering())
	}
	// Rows streamed in while a filter ran make it run again.
	g.SetQuery("")
	cmd := g.SetQuery("needle")
	g.Append([]row{{id: "extra", kind: "needle"}})
	if again := g.Apply(cmd().(FilterMsg)); again == nil {
		t.Fatal("a result that missed new rows was accepted")
	} else {
		g.Apply(again().(FilterMsg))
	}
	if g.Visible() != 11 {
		t.Fatalf("visible %d, want 11", g.Visible())
	}
}

func TestViewRendersOnlyVisibleRows(t *testing.T) {
	g := newTestGrid()
	for i := range 100 {
		g.Append([]row{{id: fmt.Sprintf("r%03d", i), kind: "k", n: i}})
	}
	g.Move(50)
	out := ansi.Strip(g.View())
	lines := strings.Split(out, "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines, want 10 (header + 9 rows)", len(lines))
	}
	if !strings.Contains(out, "r050") || strings.Contains(out, "r000") {
		t.Fatalf("window does not follow the cursor:\n%s", out)
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		s      string
		w      int
		middle bool
		want   string
	}{
		{"prod/db/orders", 20, true, "prod/db/orders"},
		{"prod/eu-west-1/db/orders", 20, true, "prod/…/db/orders"},
		{"prod/eu-west-1/db/orders", 14, true, "prod/…/orders"},
		{"dev/bucket/terraform-migration", 25, true, "dev/…/terraform-migration"},
		{"averyveryverylongidentifier", 11, true, "avery…ifier"},
		{"prod/x/averyveryverylongname", 12, true, "prod/…ngname"},
		{"infra.database", 8, false, "infra.d…"},
	}
	for _, tt := range tests {
		got := Cut(tt.s, tt.w, tt.middle)
		if got != tt.want || ansi.StringWidth(got) > tt.w {
			t.Errorf("Cut(%q, %d) = %q, want %q", tt.s, tt.w, got, tt.want)
		}
	}
}

// TestNarrowLayout: whole columns keep their width, droppable ones go
// (highest Drop first, never the sorted one), and the flex column is cut
// in the middle.
func TestNarrowLayout(t *testing.T) {
	g := New([]Column[row]{
		{Title: "ID", Flex: true, Middle: true, MinWidth: 12, Text: func(r row) string { return r.id }},
		{Title: "KIND", MinWidth: 8, Drop: 2, Text: func(r row) string { return r.kind }},
		{Title: "OWNER", MinWidth: 8, Drop: 1, Text: func(r row) string { return "someone-long" }},
		{Title: "STATUS", Whole: true, Text: func(r row) string { return fmt.Sprint("provisioning ⚠stuck ", r.n) }},
	}, func(r row) string { return r.id }, func(r row) []string { return []string{r.id} }, Styles{})
	g.Append([]row{{"prod/eu-west-1/db/orders", "infra.database", 1}})
	tests := []struct {
		width  int
		sort   int
		hidden []string
	}{
		{80, 0, nil},
		{50, 0, []string{"KIND"}},
		{40, 0, []string{"KIND", "OWNER"}},
		{46, 2, []string{"OWNER"}}, // sorted by KIND: it stays, OWNER goes
	}
	for _, tt := range tests {
		g.SetSize(tt.width, 5)
		g.sortCol = -1
		for range tt.sort {
			g.CycleSort()
		}
		if got := g.Hidden(); !reflect.DeepEqual(got, tt.hidden) {
			t.Errorf("width %d sorted by %d: hidden %v, want %v", tt.width, tt.sort, got, tt.hidden)
		}
		if v := g.View(); !strings.Contains(v, "provisioning ⚠stuck 1") {
			t.Errorf("width %d cut the whole column:\n%s", tt.width, v)
		}
	}
}

// TestFilterRanks: exact, then prefix, then word start, then anywhere,
// then scattered; rows of one rank keep the sort order.
func TestFilterRanks(t *testing.T) {
	g := newTestGrid()
	g.Append([]row{
		{"o-r-d-e-r-s", "x", 1}, {"backorders", "x", 2}, {"prod/orders-db", "x", 3},
		{"orders-archive", "x", 4}, {"orders", "x", 5}, {"orders-new", "x", 6},
	})
	g.SetQuery("orders")
	want := []string{"orders", "orders-archive", "orders-new", "prod/orders-db", "backorders", "o-r-d-e-r-s"}
	if got := visibleIDs(g); !reflect.DeepEqual(got, want) {
		t.Fatalf("ranked %v, want %v", got, want)
	}
	g.Reverse() // ties follow the sort: the two prefix matches swap
	want = []string{"orders", "orders-new", "orders-archive", "prod/orders-db", "backorders", "o-r-d-e-r-s"}
	if got := visibleIDs(g); !reflect.DeepEqual(got, want) {
		t.Fatalf("reversed %v, want %v", got, want)
	}
	g.SetQuery("orders-") // narrowing keeps rank, then sort order
	want = []string{"orders-new", "orders-archive", "prod/orders-db"}
	if got := visibleIDs(g); !reflect.DeepEqual(got, want) {
		t.Fatalf("narrowed %v, want %v", got, want)
	}
	g.Append([]row{{"orders-", "x", 7}, {"zz/orders-q", "x", 8}}) // streamed in: merged by rank
	want = []string{"orders-", "orders-new", "orders-archive", "zz/orders-q", "prod/orders-db"}
	if got := visibleIDs(g); !reflect.DeepEqual(got, want) {
		t.Fatalf("after append %v, want %v", got, want)
	}
}

// TestCellsShowWhatDoesNotPrint: a cell's control characters and escapes
// show as escapes — they neither reach the terminal nor vanish, so
// "web\x01" and "web" never look alike — and the columns keep their width.
func TestCellsShowWhatDoesNotPrint(t *testing.T) {
	items := []string{"web", "web\x01", "esc\x1b]0;owned\x07", "tab\there"}
	g := New([]Column[string]{{Title: "ID", Text: func(s string) string { return s }}, {Title: "END", Text: func(string) string { return "|" }}},
		func(s string) string { return s }, func(s string) []string { return []string{s} }, Styles{})
	g.SetSize(60, 10)
	g.SetItems(items)
	view := g.View()
	for _, want := range []string{`web\x01`, `esc\x1b]0;owned\a`, `tab\there`} {
		if !strings.Contains(view, want) {
			t.Errorf("no %q in\n%s", want, view)
		}
	}
	lines := strings.Split(view, "\n")
	for _, l := range lines[1:] {
		if strings.ContainsAny(l, "\x01\x07\x1b\t") {
			t.Errorf("a line holds a control character: %q", l)
		}
		if strings.Index(l, "|") != strings.Index(lines[1], "|") {
			t.Errorf("columns shifted:\n%s", view)
		}
	}
}
