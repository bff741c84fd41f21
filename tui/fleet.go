package tui

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"statescope/keymap"
	"statescope/stores"
	"statescope/stores/check"
	"statescope/stores/fleet"
	ptext "statescope/stores/printable"
	"statescope/tui/grid"
)

// fleetParallel bounds how many contexts the fleet checks at once.
const fleetParallel = fleet.DefaultParallel

// fleetRow is one context's latest check.
type fleetRow struct {
	member  fleet.Member
	loading bool
	report  *check.Report
	err     error
	checked time.Time
}

// fleetView is every context of the config at once: each is checked by a
// load of its own (its own context, cancel and generation, replies routed
// by name), rows fill in as they answer, worst first.
type fleetView struct {
	scope
	env  *env
	keys keymap.Fleet
	table[fleetRow]

	rows  map[string]*fleetRow
	loads map[string]*childLoad
	// moved once the operator moved the cursor: re-sorts keep it on that
	// context; until then it stays on the first row, the worst.
	moved  bool
	sem    chan struct{}
	stores *fleetStores
}

// childLoad is one context's load: cancelled when it is superseded or the
// view is left (its context derives from the view's).
type childLoad struct {
	gen    int
	cancel context.CancelFunc
}

func newFleetView(e *env) *fleetView {
	st, now := &e.styles, e.now
	num := func(f func(fleetRow) int) func(fleetRow) string {
		return func(r fleetRow) string {
			if r.report == nil {
				return "-"
			}
			return fmt.Sprint(f(r))
		}
	}
	// The name and the findings always show, whole or cut in the middle
	// (names often differ only at the end); a narrow terminal hides the
	// transport, the target, when it was checked, then the corrupt, error
	// and stuck counts (the findings count them), then the lock and record
	// counts, in that order: ORPH/STALE stays.
	g := grid.New([]grid.Column[fleetRow]{
		{Title: "CONTEXT", Flex: true, Middle: true, MinWidth: 20, Text: func(r fleetRow) string { return r.member.Name },
			Style: func(r fleetRow) *lipgloss.Style { return fleetStyle(st, r) }},
		{Title: "TARGET", MaxWidth: 40, Middle: true, MinWidth: 12, Drop: 7, Text: func(r fleetRow) string { return r.member.Label() }},
		{Title: "TRANSPORT", MaxWidth: 10, Drop: 8, Text: func(r fleetRow) string { return r.member.Transport() }},
		{Title: "RECORDS", MaxWidth: 8, Drop: 1, Text: num(func(r fleetRow) int { return sum(r.report.Records) })},
		{Title: "LOCKED", MaxWidth: 7, Drop: 2, Text: num(func(r fleetRow) int { return sum(r.report.Locks) })},
		{Title: "ORPH/STALE", MaxWidth: 10, Text: func(r fleetRow) string {
			if r.report == nil {
				return "-"
			}
			return fmt.Sprintf("%d/%d", r.report.Locks[stores.VerdictOrphaned], r.report.Locks[stores.VerdictStale])
		}},
		{Title: "STUCK", MaxWidth: 6, Drop: 3, Text: num(func(r fleetRow) int { return kindCount(r.report, check.StuckRecord) })},
		{Title: "ERRORS", MaxWidth: 6, Drop: 4, Text: num(func(r fleetRow) int { return r.report.Records[stores.StatusError] })},
		{Title: "CORRUPT", MaxWidth: 7, Drop: 5, Text: num(func(r fleetRow) int { return r.report.Records["corrupt"] })},
		{Title: "FINDINGS", Whole: true, Text: fleetFindings,
			Style: func(r fleetRow) *lipgloss.Style { return fleetStyle(st, r) }},
		{Title: "CHECKED", Whole: true, Drop: 6, Text: func(r fleetRow) string {
			switch {
			case r.loading && r.checked.IsZero():
				return "checking…"
			case r.checked.IsZero():
				return "-"
			}
			return stores.HumanDuration(now().Sub(r.checked)) + " ago"
		}},
	}, func(r fleetRow) string { return r.member.Name }, func(r fleetRow) []string {
		return append([]string{r.member.Name, r.member.Label(), r.member.Transport()}, fleetWords(r)...)
	}, st.Grid)
	v := &fleetView{env: e, keys: e.keys.Fleet, table: newTable(g, func(r fleetRow) (string, string) { return r.member.Name, "context name" }), rows: map[string]*fleetRow{}, loads: map[string]*childLoad{},
		sem: make(chan struct{}, fleetParallel), stores: newFleetStores(e.opts.OpenTarget)}
	for _, m := range e.opts.Fleet {
		v.rows[m.Name] = &fleetRow{member: m}
	}
	return v
}

func sum[M ~map[K]int, K ~string](m M) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

func kindCount(r *check.Report, k check.Kind) int {
	n := 0
	for _, f := range r.Findings {
		if f.Kind == k {
			n++
		}
	}
	return n
}

func fleetFindings(r fleetRow) string {
	switch {
	case r.err != nil:
		return fleet.Failure(r.err)
	case r.report == nil:
		return "…"
	case len(r.report.Findings) == 0:
		return "none"
	}
	n := r.report.Count()
	var parts []string
	for _, sev := range check.Severities {
		if n[sev] > 0 {
			parts = append(parts, fmt.Sprintf("%d%c", n[sev], sev[0]))
		}
	}
	return strings.Join(parts, " ")
}

// fleetWords are what "/" finds a row by besides its name, target and
// transport: failed (and how), clean, or the severities and kinds of its
// findings (/orphaned-lock: the contexts with one).
func fleetWords(r fleetRow) []string {
	switch {
	case r.err != nil:
		return []string{"failed", fleet.Failure(r.err)}
	case r.report == nil:
		return nil
	case len(r.report.Findings) == 0:
		return []string{"clean"}
	}
	seen := map[string]bool{}
	var words []string
	for _, f := range r.report.Findings {
		for _, w := range []string{string(f.Severity), string(f.Kind)} {
			if !seen[w] {
				seen[w] = true
				words = append(words, w)
			}
		}
	}
	return words
}

func fleetStyle(st *Styles, r fleetRow) *lipgloss.Style {
	switch {
	case r.err != nil:
		return &st.Error
	case r.report == nil:
		return &st.Dim
	case r.report.Worst() == "":
		return &st.OK
	}
	return st.SeverityStyle(r.report.Worst())
}

// fleetRank orders rows worst first: critical findings or failed,
// then warnings, info, clean, and those not answered yet; by name within.
func fleetRank(r *fleetRow) int {
	switch {
	case r.err != nil:
		return 0
	case r.report == nil:
		return 5
	}
	switch r.report.Worst() {
	case check.Critical:
		return 0
	case check.Warning:
		return 2
	case check.Info:
		return 3
	}
	return 4
}

func (v *fleetView) Title() string     { return "fleet" }
func (v *fleetView) Keys() help.KeyMap { return v.keys }
func (v *fleetView) Capturing() bool   { return v.filter.typing }
func (v *fleetView) Leave()            { v.stores.closeAll() }

// Busy while any context has not answered.
func (v *fleetView) Busy() bool {
	for _, r := range v.rows {
		if r.loading {
			return true
		}
	}
	return false
}

func (v *fleetView) Enter() tea.Cmd {
	return tea.Batch(v.checkAll(), v.show(), v.scheduleRefresh())
}

func (v *fleetView) SetSize(w, h int) {
	v.scope.SetSize(w, h)
	v.layout()
}

// layout sizes the table: it gives up rows to the failed contexts'
// errors, which show under it.
func (v *fleetView) layout() {
	v.grid.SetSize(v.width, max(v.height-4-v.errorRoom(), 2))
}

// errorRoom is how many lines the errors take: one each, but no more
// than a quarter of the view, so a fleet mostly failing keeps its
// table.
func (v *fleetView) errorRoom() int {
	failed := 0
	for _, r := range v.rows {
		if r.err != nil {
			failed++
		}
	}
	return min(failed, max(v.height/4, 2))
}

// errorLines are the shown failed contexts' errors in table order, the
// selected context's first when they do not all fit, then how many more.
func (v *fleetView) errorLines() []string {
	st := &v.env.styles
	line := func(r fleetRow) string {
		name := ptext.Escape(r.member.Name) + ": "
		return st.Error.Render(name) + ansi.Truncate(oneLine(r.err.Error()), v.width-ansi.StringWidth(name), "…")
	}
	var failed []fleetRow
	for _, r := range v.grid.Shown() {
		if r.err != nil {
			failed = append(failed, r)
		}
	}
	room := v.errorRoom()
	if len(failed) <= room {
		lines := make([]string, len(failed))
		for i, r := range failed {
			lines[i] = line(r)
		}
		return lines
	}
	var lines []string
	sel, ok := v.grid.Selected()
	if ok && sel.err != nil {
		lines = append(lines, line(sel))
	}
	for _, r := range failed {
		if len(lines) >= room-1 {
			break
		}
		if !ok || r.member.Name != sel.member.Name {
			lines = append(lines, line(r))
		}
	}
	return append(lines, st.Dim.Render(fmt.Sprintf("… %d more failed: a row's error shows here when it is selected", len(failed)-len(lines))))
}

// Claims keeps L for "this context's locks" instead of the global locks
// key, which would open the current session's.
func (v *fleetView) Claims(msg tea.KeyPressMsg) bool {
	return !v.filter.typing && (key.Matches(msg, v.keys.Locks) || key.Matches(msg, v.keys.Findings))
}

func (v *fleetView) scheduleRefresh() tea.Cmd {
	if d := v.env.opts.Refresh; d > 0 {
		return v.tag(tea.Tick(d, func(time.Time) tea.Msg { return refreshTickMsg{} }))
	}
	return nil
}

// fleetRowMsg is one context's answer, routed by name and generation.
type fleetRowMsg struct {
	name   string
	gen    int
	report *check.Report
	err    error
	at     time.Time
}

// checkAll starts every context's load at once; at most fleetParallel run.
func (v *fleetView) checkAll() tea.Cmd {
	var cmds []tea.Cmd
	for _, m := range v.env.opts.Fleet {
		cmds = append(cmds, v.checkOne(m))
	}
	return tea.Batch(cmds...)
}

// checkOne (re)starts one context's load, cancelling the one before.
func (v *fleetView) checkOne(m fleet.Member) tea.Cmd {
	if old := v.loads[m.Name]; old != nil {
		old.cancel()
	}
	ctx, cancel := context.WithCancel(v.ctx)
	gen := 1
	if old := v.loads[m.Name]; old != nil {
		gen = old.gen + 1
	}
	v.loads[m.Name] = &childLoad{gen: gen, cancel: cancel}
	v.rows[m.Name].loading = true
	cache, opt, timeout, sem, now := v.stores, v.env.checkOptions(m.Name), v.env.opts.OperationTimeout, v.sem, v.env.now
	var last []stores.Row
	if r := v.rows[m.Name].report; r != nil {
		last = r.Rows
	}
	return v.tag(func() tea.Msg {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return fleetRowMsg{name: m.Name, gen: gen, err: ctx.Err()}
		}
		defer func() { <-sem }()
		// A re-check fetches only the records whose version changed.
		opt.Known = stores.Known(last)
		used := make(chan stores.Store, 1)
		r, err := fleet.Within(ctx, timeout, func(ctx context.Context) (*check.Report, error) {
			s, err := cache.get(ctx, m)
			if err != nil {
				return nil, err
			}
			used <- s
			return check.Run(ctx, s, opt)
		})
		if err != nil && ctx.Err() == nil {
			// Failed or timed out (the check may still hold it): the next
			// check dials again. A check cancelled by a newer one (r) or by
			// leaving leaves the store to that check, or to closeAll.
			select {
			case s := <-used:
				cache.drop(m.Name, s)
			default:
			}
		}
		return fleetRowMsg{name: m.Name, gen: gen, report: r, err: err, at: now()}
	})
}

// show puts the rows in the grid, worst first, keeping the selection.
func (v *fleetView) show() tea.Cmd {
	rows := make([]*fleetRow, 0, len(v.rows))
	for _, r := range v.rows {
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b *fleetRow) int {
		return cmp.Or(cmp.Compare(fleetRank(a), fleetRank(b)), strings.Compare(a.member.Name, b.member.Name))
	})
	items := make([]fleetRow, len(rows))
	for i, r := range rows {
		items[i] = *r
	}
	sel, had := v.grid.Selected()
	v.layout()
	cmd := v.grid.SetItems(items)
	if had && v.moved {
		v.grid.SelectKey(sel.member.Name)
	} else {
		v.grid.Top()
	}
	return v.tag(cmd)
}

// Paste goes to the filter being typed.
func (v *fleetView) Paste(text string) tea.Cmd { return v.tag(v.filter.paste(text, v.grid)) }

func (v *fleetView) Update(msg tea.Msg) tea.Cmd {
	k := v.keys
	at := v.grid.Cursor()
	if cmd, ok := v.update(msg, v.env.keys.Input, tableKeys{Motion: k.Motion, Filter: k.Filter, Sort: k.Sort, Reverse: k.Reverse}); ok {
		v.moved = v.moved || v.grid.Cursor() != at
		return v.tag(cmd)
	}
	switch msg := msg.(type) {
	case fleetRowMsg:
		load, row := v.loads[msg.name], v.rows[msg.name]
		if v.left || load == nil || row == nil || load.gen != msg.gen {
			return nil // superseded, or the view was left
		}
		load.cancel()
		row.loading = false
		if quiet(msg.err) == nil && msg.err != nil {
			return nil // cancelled by a newer check
		}
		row.report, row.err, row.checked = msg.report, msg.err, msg.at
		return v.show()
	case storeChangedMsg:
		// A repair in the context opened from here: its row is checked again.
		for _, m := range v.env.opts.Fleet {
			if m.Name == v.env.session.Name {
				return tea.Batch(v.checkOne(m), v.show())
			}
		}
	case refreshTickMsg:
		var cmds []tea.Cmd
		for _, m := range v.env.opts.Fleet {
			if !v.rows[m.Name].loading {
				cmds = append(cmds, v.checkOne(m))
			}
		}
		return tea.Batch(append(cmds, v.scheduleRefresh())...)
	case tea.KeyPressMsg:
		r, ok := v.grid.Selected()
		switch {
		case key.Matches(msg, k.Refresh):
			return tea.Batch(v.checkAll(), v.show())
		case !ok:
		case key.Matches(msg, k.Open):
			return v.env.router.switchContextThen(r.member.Name, v, nil)
		case key.Matches(msg, k.Locks):
			return v.env.router.switchContextThen(r.member.Name, v, func(e *env) View { return newLocksView(e) })
		case key.Matches(msg, k.Findings):
			return v.env.router.switchContextThen(r.member.Name, v, func(e *env) View { return newFindingsView(e) })
		}
	}
	return nil
}

func (v *fleetView) Render() string {
	st := v.env.styles
	if len(v.rows) == 0 {
		return st.Dim.Render("the config defines no contexts")
	}
	var b strings.Builder
	b.WriteString(v.summary() + "\n" + v.grid.View())
	for _, e := range v.errorLines() {
		b.WriteString("\n" + e)
	}
	return fit(b.String(), v.width, v.height-1) + "\n" + v.footer(st)
}

func (v *fleetView) summary() string {
	st := &v.env.styles
	answered, failed, critical := 0, 0, 0
	for _, r := range v.rows {
		switch {
		case r.err != nil:
			failed++
		case r.report != nil && r.report.Worst() == check.Critical:
			critical++
		}
		if r.err != nil || r.report != nil {
			answered++
		}
	}
	line := st.Bold.Render(fmt.Sprintf("%d contexts", len(v.rows))) + st.Dim.Render(fmt.Sprintf("  %d answered", answered))
	if critical > 0 {
		line += "  " + st.Error.Render(fmt.Sprintf("%d with critical findings", critical))
	}
	if failed > 0 {
		line += "  " + st.Error.Render(fmt.Sprintf("%d failed", failed))
	}
	return line
}

// checkOptions judges like the rest of the UI and writes repair commands
// for the named context; the raw target (for the object-store name rule
// and the PostgreSQL probe) comes from the fleet list when it has it.
func (e *env) checkOptions(name string) check.Options {
	opt := check.Options{Now: e.now(), StaleAfter: e.opts.StaleAfter}
	for _, m := range e.opts.Fleet {
		if m.Name == name {
			opt.Target, opt.Select = m.Target, []string{"--context", m.Name}
		}
	}
	return opt
}
