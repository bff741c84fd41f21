package tui

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"statescope/keymap"
	"statescope/stores"
	"statescope/tui/grid"
)

// resourcesView is the home table: every record, its status and its lock.
type resourcesView struct {
	scope
	env  *env
	keys keymap.Resources
	grid *grid.Model[stores.Row]

	locks       map[string]stores.LockInfo
	noInventory bool
	lockErr     error

	listing, lockLoading bool
	loaded               bool         // the first load completed
	pending              []stores.Row // a reload's rows, swapped in when complete
	err                  error

	counts         map[string]int
	corrupt, stuck int
	// missing holds the records with a dependency no listed record has,
	// found once a listing is complete.
	missing map[string]bool
	// header caches the summary lines; counting rows or locks clears it.
	header []string

	filter tableFilter[stores.Row]
}

func newResourcesView(e *env) *resourcesView {
	v := &resourcesView{env: e, keys: e.keys.Resources, filter: newTableFilter[stores.Row](), counts: map[string]int{}}
	st := &e.styles
	now := e.now
	stale := e.opts.StaleAfter
	v.grid = grid.New([]grid.Column[stores.Row]{
		{Title: "RESOURCE", Flex: true, Middle: true, MinWidth: 16, Text: func(r stores.Row) string { return r.ID }},
		{Title: "TYPE", MaxWidth: 24, MinWidth: 10, Drop: 2, Text: func(r stores.Row) string { return field(r, r.ResourceType) }},
		{Title: "PROVIDER", MaxWidth: 14, MinWidth: 8, Drop: 1, Text: func(r stores.Row) string { return field(r, r.Provider) }},
		{Title: "STATUS", Whole: true,
			Text:    func(r stores.Row) string { return statusText(r, now(), stale) + v.depMark(r) },
			Compare: func(a, b stores.Row) int { return cmp.Compare(severity(a, now(), stale), severity(b, now(), stale)) },
			Style: func(r stores.Row) *lipgloss.Style {
				if r.Corrupt() || r.IsStuck(now(), stale) {
					return &st.Error
				}
				return st.StatusStyle(r.Status)
			}},
		{Title: "LOCK", Whole: true,
			Text: func(r stores.Row) string {
				if v.noInventory || v.lockErr != nil {
					return "?" // the backend cannot say; detail says why
				}
				return lockCell(v.locks, r.ID, now())
			},
			Style: func(r stores.Row) *lipgloss.Style { return st.VerdictStyle(v.locks[r.ID].Verdict) },
			Compare: func(a, b stores.Row) int {
				return cmp.Compare(lockRank(v.locks, a.ID), lockRank(v.locks, b.ID))
			}},
		{Title: "UPDATED", Whole: true,
			Text:    func(r stores.Row) string { return field(r, stores.RelativeAge(r.UpdatedAt, now())) },
			Compare: func(a, b stores.Row) int { return updatedAt(b).Compare(updatedAt(a)) }},
	}, func(r stores.Row) string { return r.ID }, func(r stores.Row) []string { return v.searchFields(r, now(), stale) }, st.Grid)
	v.grid.SortBy(0)
	return v
}

// severity orders statuses by how much they need attention: corrupt,
// error, stuck, in progress, planned, statuses workflow does not define,
// active, destroyed.
func severity(r stores.Row, now time.Time, stale time.Duration) int {
	switch {
	case r.Corrupt():
		return 0
	case r.Status == stores.StatusError:
		return 1
	case r.IsStuck(now, stale):
		return 2
	}
	switch r.Status {
	case stores.StatusProvisioning, stores.StatusDestroying:
		return 3
	case stores.StatusPlanned:
		return 4
	case stores.StatusActive:
		return 6
	case stores.StatusDestroyed:
		return 7
	}
	return 5
}

// field is a cell of a record's own field: "-" when empty or corrupt.
func field(r stores.Row, value string) string {
	if r.Corrupt() || value == "" {
		return "-"
	}
	return value
}

func statusText(r stores.Row, now time.Time, stale time.Duration) string {
	switch {
	case r.Corrupt():
		return "CORRUPT"
	case r.IsStuck(now, stale):
		return r.Status + " ⚠stuck"
	case r.Status == "":
		return "-"
	}
	return r.Status
}

// searchFields are what the filter matches: what the row shows (ID,
// type, provider, status, lock) and the words for its marks: corrupt,
// stuck, missing-dep, locked, and the lock's verdict (orphaned, stale,
// held).
func (v *resourcesView) searchFields(r stores.Row, now time.Time, stale time.Duration) []string {
	fields := []string{r.ID}
	switch {
	case r.Corrupt():
		fields = append(fields, "corrupt")
	default:
		fields = append(fields, r.ResourceType, r.Provider, r.Status)
		if r.IsStuck(now, stale) {
			fields = append(fields, "stuck")
		}
	}
	if v.missing[r.ID] {
		fields = append(fields, missingDepWord)
	}
	if l, ok := v.locks[r.ID]; ok {
		fields = append(fields, "locked", string(l.Verdict))
	}
	return fields
}

func updatedAt(r stores.Row) time.Time {
	if r.Corrupt() {
		return time.Time{}
	}
	t, _ := stores.ParseTime(r.UpdatedAt)
	return t
}

// lockCell is the LOCK column: age, and the verdict when it is suspect.
func lockCell(locks map[string]stores.LockInfo, id string, now time.Time) string {
	l, ok := locks[id]
	if !ok {
		return "-"
	}
	age := lockAge(l, now)
	if l.Verdict == stores.VerdictOrphaned || l.Verdict == stores.VerdictStale {
		age += " " + string(l.Verdict)
	}
	return age
}

func lockAge(l stores.LockInfo, now time.Time) string {
	if l.AcquiredAt.IsZero() {
		return "locked"
	}
	return stores.HumanDuration(l.Age(now))
}

// lockRank sorts locked rows first, the most suspect on top.
func lockRank(locks map[string]stores.LockInfo, id string) int {
	l, ok := locks[id]
	if !ok {
		return len(verdictOrder)
	}
	return verdictRank(l.Verdict)
}

// verdictOrder is the inventory's order: the most suspect first.
var verdictOrder = []stores.Verdict{stores.VerdictOrphaned, stores.VerdictStale, stores.VerdictUnknown, stores.VerdictHeld}

func verdictRank(v stores.Verdict) int {
	for i, o := range verdictOrder {
		if v == o {
			return i
		}
	}
	return len(verdictOrder)
}

func (v *resourcesView) Title() string     { return "resources" }
func (v *resourcesView) Keys() help.KeyMap { return resourcesKeys{v.keys, v} }
func (v *resourcesView) Capturing() bool   { return v.filter.typing }
func (v *resourcesView) Busy() bool        { return v.listing || v.lockLoading || v.grid.Filtering() }
func (v *resourcesView) Leave()            {}

func (v *resourcesView) Enter() tea.Cmd {
	return tea.Batch(v.load(), v.scheduleRefresh())
}

// refreshTickMsg drives auto-refresh; it stops when the view is left
// because the router drops the tick and nothing schedules the next one.
type refreshTickMsg struct{}

func (v *resourcesView) scheduleRefresh() tea.Cmd {
	if d := v.env.opts.Refresh; d > 0 {
		return v.tag(tea.Tick(d, func(time.Time) tea.Msg { return refreshTickMsg{} }))
	}
	return nil
}

// load lists the records' rows (streamed) and the lock inventory under a
// new generation. The first load fills the table as batches arrive; a
// reload collects its rows and swaps them in at the end, so the table
// never blinks, and offers the store the rows it has, so only records
// whose version changed are read again.
func (v *resourcesView) load() tea.Cmd {
	ctx, gen := v.begin()
	v.listing, v.lockLoading, v.err, v.pending = true, true, nil, nil
	var known func(source, version string) (stores.Row, bool)
	if v.loaded {
		known = stores.Known(v.grid.Items())
	} else {
		// The first load was cut short: start the table again.
		v.grid.SetItems(nil)
		v.recount(nil)
	}
	s := v.env.session.Store
	return tea.Batch(
		v.tag(streamRows(ctx, gen, s, known)),
		v.tag(loadLocks(ctx, gen, s, v.env.now(), v.env.opts.StaleAfter)),
	)
}

func (v *resourcesView) SetSize(w, h int) {
	v.scope.SetSize(w, h)
	v.header = nil // laid out again for the new width
	v.grid.SetSize(w, max(h-2, 2))
}

// Paste goes to the filter being typed.
func (v *resourcesView) Paste(text string) tea.Cmd { return v.tag(v.filter.paste(text, v.grid)) }

// Back clears an active filter before esc leaves anything.
func (v *resourcesView) Back() bool { return v.filter.clear(v.grid) }

func (v *resourcesView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case rowsMsg:
		return v.rows(msg)
	case danglingMsg:
		return v.dangling(msg)
	case locksMsg:
		if !v.current(msg.gen) {
			return nil
		}
		v.lockLoading = false
		v.noInventory, v.lockErr = msg.unsupported, quiet(msg.err)
		old := v.locks
		v.locks = make(map[string]stores.LockInfo, len(msg.locks))
		for _, l := range msg.locks {
			v.locks[l.ResourceID] = l
		}
		v.header = nil
		// Only rows whose lock came, went or changed verdict are searched
		// differently now.
		return v.tag(v.grid.Recompute(func(en stores.Row) bool {
			was, had := old[en.ID]
			is, has := v.locks[en.ID]
			return had != has || was.Verdict != is.Verdict
		}))
	case grid.FilterMsg:
		return v.tag(v.grid.Apply(msg))
	case refreshTickMsg:
		var cmd tea.Cmd
		if !v.listing && !v.lockLoading {
			cmd = v.load()
		}
		return tea.Batch(cmd, v.scheduleRefresh())
	case storeChangedMsg:
		return v.load()
	case tea.MouseWheelMsg:
		v.grid.Move(wheelDelta(msg))
	case clickMsg:
		v.grid.Click(msg.y - len(v.summaryLines())) // under the summary lines
	case tea.KeyPressMsg:
		if v.filter.typing {
			return v.tag(v.filter.key(msg, v.env.keys.Input, v.grid))
		}
		return v.key(msg)
	}
	return nil
}

func (v *resourcesView) rows(msg rowsMsg) tea.Cmd {
	if !v.current(msg.gen) {
		return nil
	}
	if v.loaded {
		v.pending = append(v.pending, msg.rows...)
	} else {
		v.grid.Append(msg.rows)
		v.count(msg.rows)
	}
	if !msg.done {
		return v.tag(msg.next)
	}
	v.listing = false
	if err := quiet(msg.err); err != nil {
		v.err, v.pending = err, nil
		return nil
	}
	if !v.loaded {
		v.loaded = true
		return v.findDangling(msg.gen)
	}
	cmd := v.grid.SetItems(v.pending)
	v.recount(v.pending)
	v.pending = nil
	return tea.Batch(v.tag(cmd), v.findDangling(msg.gen))
}

// recount starts the counts over for a new set of rows.
func (v *resourcesView) recount(rows []stores.Row) {
	v.counts, v.corrupt, v.stuck = map[string]int{}, 0, 0
	v.count(rows)
}

// count adds rows to the status, corrupt and stuck counts.
func (v *resourcesView) count(rows []stores.Row) {
	v.header = nil
	now := v.env.now()
	for _, r := range rows {
		switch {
		case r.Corrupt():
			v.corrupt++
		default:
			v.counts[r.Status]++
			if r.IsStuck(now, v.env.opts.StaleAfter) {
				v.stuck++
			}
		}
	}
}

func (v *resourcesView) key(msg tea.KeyPressMsg) tea.Cmd {
	k := v.keys
	if moveGrid(msg, v.grid, k.Motion) {
		return nil
	}
	switch {
	case key.Matches(msg, k.Filter):
		v.filter.start(v.grid)
	case key.Matches(msg, k.Sort):
		return v.tag(v.grid.CycleSort())
	case key.Matches(msg, k.Reverse):
		return v.tag(v.grid.Reverse())
	case key.Matches(msg, k.Refresh):
		return v.env.retry(v.err, v.load)
	case key.Matches(msg, k.Open):
		if r, ok := v.grid.Selected(); ok {
			return v.env.router.push(newDetailView(v.env, r))
		}
	case key.Matches(msg, k.Diff):
		if r, ok := v.grid.Selected(); ok {
			return v.env.router.openDiff(r, nil)
		}
	case key.Matches(msg, k.CopyID):
		if en, ok := v.grid.Selected(); ok {
			return copyCmd(en.ID, "resource ID "+en.ID)
		}
	case keymap.Pressed(msg, k.Delete):
		if r, ok := v.grid.Selected(); ok {
			return v.env.openDelete(r.ID, k.Delete)
		}
	case keymap.Pressed(msg, k.Recover):
		return v.startRecover()
	case key.Matches(msg, k.Backups):
		return v.env.router.push(newStoreBackupsView(v.env))
	}
	return nil
}

// moveGrid applies the motion bindings shared by every table view.
func moveGrid[T any](msg tea.KeyPressMsg, g *grid.Model[T], m keymap.Motion) bool {
	switch {
	case key.Matches(msg, m.Up):
		g.Move(-1)
	case key.Matches(msg, m.Down):
		g.Move(1)
	case key.Matches(msg, m.Top):
		g.Top()
	case key.Matches(msg, m.Bottom):
		g.Bottom()
	case key.Matches(msg, m.PageUp):
		g.Move(-g.Page())
	case key.Matches(msg, m.PageDown):
		g.Move(g.Page())
	default:
		return false
	}
	return true
}

// scrollPane moves a scrollable pane for a motion key, reporting whether
// msg was one.
func scrollPane(msg tea.KeyPressMsg, vp *viewport.Model, m keymap.Motion) bool {
	switch {
	case key.Matches(msg, m.Up):
		vp.ScrollUp(1)
	case key.Matches(msg, m.Down):
		vp.ScrollDown(1)
	case key.Matches(msg, m.Top):
		vp.GotoTop()
	case key.Matches(msg, m.Bottom):
		vp.GotoBottom()
	case key.Matches(msg, m.PageUp):
		vp.PageUp()
	case key.Matches(msg, m.PageDown):
		vp.PageDown()
	default:
		return false
	}
	return true
}

func wheelDelta(msg tea.MouseWheelMsg) int {
	switch msg.Button {
	case tea.MouseWheelUp:
		return -3
	case tea.MouseWheelDown:
		return 3
	}
	return 0
}

// summary is the header: counts, then the statuses. It is one line when
// the terminal is wide enough, else the parts flow onto more lines —
// never a cut-off count.
func (v *resourcesView) summary() []string {
	st := v.env.styles
	counts := []string{st.Bold.Render(fmt.Sprintf("%d records", v.grid.Len()))}
	switch {
	case v.noInventory:
		counts = append(counts, st.Dim.Render("no lock inventory"))
	case v.lockErr != nil:
		counts = append(counts, st.Error.Render("locks unavailable"))
	case v.locks != nil:
		locked := fmt.Sprintf("%d locked", len(v.locks))
		suspect := 0
		for _, l := range v.locks {
			if l.Verdict == stores.VerdictOrphaned || l.Verdict == stores.VerdictStale {
				suspect++
			}
		}
		if suspect > 0 {
			locked += st.Error.Render(fmt.Sprintf(" (%d orphaned/stale)", suspect))
		}
		counts = append(counts, locked)
	}
	if v.stuck > 0 {
		counts = append(counts, st.Error.Render(fmt.Sprintf("%d stuck", v.stuck)))
	}
	if n := len(v.missing); n > 0 {
		counts = append(counts, st.Error.Render(fmt.Sprintf("%d %s", n, missingDepWord)))
	}
	var statuses []string
	if v.corrupt > 0 {
		statuses = append(statuses, st.Error.Render(fmt.Sprintf("%d corrupt", v.corrupt)))
	}
	for _, s := range summaryOrder {
		if n := v.counts[s]; n > 0 {
			statuses = append(statuses, st.StatusStyle(s).Render(fmt.Sprintf("%d %s", n, s)))
		}
	}
	// Statuses workflow does not define, in a stable order.
	for _, s := range slices.Sorted(maps.Keys(v.counts)) {
		if !slices.Contains(stores.Statuses, s) {
			statuses = append(statuses, fmt.Sprintf("%d %s", v.counts[s], cmp.Or(s, `""`)))
		}
	}
	line := strings.Join(counts, "  ") + st.Dim.Render("  │  ") + strings.Join(statuses, " · ")
	if ansi.StringWidth(line) <= v.width {
		return []string{line}
	}
	return flow(append(counts, statuses...), st.Dim.Render(" · "), v.width)
}

// flow lays parts out on as few lines of width w as it can, in order.
func flow(parts []string, sep string, w int) []string {
	var lines []string
	cur := ""
	for _, p := range parts {
		switch {
		case cur == "":
			cur = p
		case ansi.StringWidth(cur+sep+p) <= w:
			cur += sep + p
		default:
			lines = append(lines, cur)
			cur = p
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "…") // a single part wider than the screen
	}
	return lines
}

// summaryLines is the header as laid out now; the table gets what it
// leaves.
func (v *resourcesView) summaryLines() []string {
	if v.header == nil {
		v.header = v.summary()
		v.grid.SetSize(v.width, max(v.height-1-len(v.header), 2))
	}
	return v.header
}

// summaryOrder puts the statuses that need attention first.
var summaryOrder = []string{stores.StatusError, stores.StatusProvisioning, stores.StatusDestroying, stores.StatusPlanned, stores.StatusActive, stores.StatusDestroyed}

func (v *resourcesView) Render() string {
	st := v.env.styles
	var b strings.Builder
	b.WriteString(strings.Join(v.summaryLines(), "\n") + "\n")
	switch {
	case v.err != nil:
		b.WriteString(loadFailed(st, "load failed", v.err, v.width) + "\n")
	case v.loaded && v.grid.Len() == 0:
		b.WriteString(st.Dim.Render("no records in this store") + "\n")
	case v.grid.Query() != "" && v.grid.Visible() == 0 && !v.grid.Filtering():
		b.WriteString(st.Dim.Render("no record matches the filter") + "\n")
	default:
		b.WriteString(v.grid.View() + "\n")
	}
	return fit(b.String(), v.width, v.height-1) + "\n" + v.filter.line(st, v.grid)
}
