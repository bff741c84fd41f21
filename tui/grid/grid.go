// Package grid is a table widget for large inventories: it renders only the
// rows on screen, sorts by any column, keeps rows appended by a streaming
// load in order, and fuzzy-filters incrementally (narrowing the previous
// matches when the query grows, and off the Update path for big sets).
// The filter ranks what it finds: a field equal to the term first, then
// one it starts, then a word inside one it starts, then anywhere, then
// its letters scattered in order; rows of one rank keep the table's sort.
package grid

import (
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"statescope/stores/printable"
)

// SyncFilterLimit is the number of candidate rows filtered inside Update;
// larger sets are filtered by a command so a keystroke never waits on them.
const SyncFilterLimit = 5000

// Column describes one column of T.
type Column[T any] struct {
	Title string
	Text  func(T) string
	// Style colours the cell; nil for plain. It returns one of a few
	// long-lived styles: the grid renders each style once and reuses it.
	Style func(T) *lipgloss.Style
	// Compare orders the column; nil compares Text.
	Compare func(a, b T) int
	// MaxWidth caps the column (0: no cap); Flex columns take what is left.
	MaxWidth int
	Flex     bool
	// Whole columns are never cut: they keep their widest text's width
	// (a status, a lock verdict) and the others give way.
	Whole bool
	// MinWidth is the narrowest a column is worth showing; below it the
	// column is dropped if it may be (Drop), else kept at this width.
	MinWidth int
	// Drop orders the columns a narrow terminal hides whole: the highest
	// first; 0 is never hidden. The sorted column is never hidden.
	Drop int
	// Middle cuts long text in the middle (prod/…/orders), keeping both
	// ends of a path, instead of at the end.
	Middle bool
}

// Styles of the grid.
type Styles struct {
	Header   lipgloss.Style
	Selected lipgloss.Style
}

// Model is the table state. The zero value is not usable; call New.
type Model[T any] struct {
	cols   []Column[T]
	key    func(T) string
	search func(T) []string
	styles Styles
	// wraps caches each cell style's opening and closing sequences, so a
	// frame does not run the full style renderer for every cell.
	wraps map[*lipgloss.Style][2]string

	items    []T
	haystack []string // lower-cased search fields per item, NUL-separated
	widths   []int    // widest text per column, tracked on insert
	order    []int    // item indexes in sort order
	visible  []int    // the rows passing the filter: best rank first, then in order
	rank     []int32  // per item, its rank under the filter in force (lower is better)

	sortCol int // -1: insertion order
	desc    bool

	query   string
	matched string // the query visible was computed for
	pending bool   // a filter command is running
	gen     int

	cursor, offset int
	width, height  int
}

// New builds a grid. key identifies an item across reloads (the cursor
// follows it); search gives the fields the fuzzy filter matches.
func New[T any](cols []Column[T], key func(T) string, search func(T) []string, styles Styles) *Model[T] {
	return &Model[T]{cols: cols, key: key, search: search, styles: styles, sortCol: -1, widths: make([]int, len(cols)), wraps: map[*lipgloss.Style][2]string{}}
}

// cellText is what a cell shows: its text with whatever does not print
// (a control character or escape in a resource ID or a context name)
// written as its escape, so it can neither act on the terminal nor vanish
// and make two different IDs look the same.
func cellText[T any](c Column[T], it T) string { return printable.Escape(c.Text(it)) }

// SetSize sets the area the grid renders into, header included.
func (m *Model[T]) SetSize(w, h int) {
	m.width, m.height = w, max(h, 2)
	m.clamp()
}

// Len is the number of items; Visible the number passing the filter.
func (m *Model[T]) Len() int     { return len(m.items) }
func (m *Model[T]) Visible() int { return len(m.visible) }

// Items returns every item in insertion order (not to be modified).
func (m *Model[T]) Items() []T { return m.items }

// Shown returns the items passing the filter, in the order shown.
func (m *Model[T]) Shown() []T {
	out := make([]T, len(m.visible))
	for i, row := range m.visible {
		out[i] = m.items[row]
	}
	return out
}

// Cursor is the selected row's position among the visible ones, 0 first.
func (m *Model[T]) Cursor() int { return m.cursor }

// Query is the current filter text.
func (m *Model[T]) Query() string { return m.query }

// Filtering reports a filter command still running.
func (m *Model[T]) Filtering() bool { return m.pending }

// Selected returns the item under the cursor.
func (m *Model[T]) Selected() (T, bool) {
	var zero T
	if m.cursor < 0 || m.cursor >= len(m.visible) {
		return zero, false
	}
	return m.items[m.visible[m.cursor]], true
}

// SortState names the sorted column ("" for insertion order) and direction.
func (m *Model[T]) SortState() (string, bool) {
	if m.sortCol < 0 {
		return "", m.desc
	}
	return m.cols[m.sortCol].Title, m.desc
}

// Move moves the cursor by delta rows.
func (m *Model[T]) Move(delta int) {
	m.cursor += delta
	m.clamp()
}

// Click selects the row drawn on line y of the grid (0 is its header),
// reporting whether there is one.
func (m *Model[T]) Click(y int) bool {
	pos := m.offset + y - 1
	if y < 1 || y > max(m.height-1, 1) || pos >= len(m.visible) {
		return false
	}
	m.cursor = pos
	m.clamp()
	return true
}

// Top and Bottom jump to the ends.
func (m *Model[T]) Top()    { m.cursor = 0; m.clamp() }
func (m *Model[T]) Bottom() { m.cursor = len(m.visible) - 1; m.clamp() }

// Page is the number of rows a page moves.
func (m *Model[T]) Page() int { return max(m.height-1, 1) }

func (m *Model[T]) clamp() {
	m.cursor = min(max(m.cursor, 0), max(len(m.visible)-1, 0))
	rows := max(m.height-1, 1)
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+rows {
		m.offset = m.cursor - rows + 1
	}
	m.offset = min(max(m.offset, 0), max(len(m.visible)-rows, 0))
}

// compare orders two item indexes by the sort column, ties by insertion.
func (m *Model[T]) compare(i, j int) int {
	if m.sortCol >= 0 {
		c := m.cols[m.sortCol]
		var r int
		if c.Compare != nil {
			r = c.Compare(m.items[i], m.items[j])
		} else {
			r = strings.Compare(c.Text(m.items[i]), c.Text(m.items[j]))
		}
		if m.desc {
			r = -r
		}
		if r != 0 {
			return r
		}
	} else if m.desc {
		return j - i
	}
	return i - j
}

// Append adds rows (a streamed batch) keeping sort order and the filter.
func (m *Model[T]) Append(batch []T) {
	if len(batch) == 0 {
		return
	}
	first := len(m.items)
	added := make([]int, len(batch))
	for i, it := range batch {
		m.items = append(m.items, it)
		m.haystack = append(m.haystack, haystackOf(m.search(it)))
		m.rank = append(m.rank, 0)
		for c, col := range m.cols {
			m.widths[c] = max(m.widths[c], ansi.StringWidth(cellText(col, it)))
		}
		added[i] = first + i
	}
	slices.SortFunc(added, m.compare)
	m.order = m.merge(m.order, added)
	switch {
	case m.query == "":
		m.visible = m.order
	case !m.pending:
		rows, ranks := matchAll(m.matched, m.haystack, added)
		m.setRanks(rows, ranks)
		m.visible = m.mergeRanked(m.visible, rows)
	}
	m.clamp()
}

func haystackOf(fields []string) string { return strings.ToLower(strings.Join(fields, "\x00")) }

// setRanks records the ranks of matched rows.
func (m *Model[T]) setRanks(rows []int, ranks []int32) {
	for i, r := range rows {
		m.rank[r] = ranks[i]
	}
}

// mergeRanked merges two lists ordered by rank, then sort order.
func (m *Model[T]) mergeRanked(a, b []int) []int {
	if len(b) == 0 {
		return a
	}
	less := func(i, j int) bool {
		if m.rank[i] != m.rank[j] {
			return m.rank[i] < m.rank[j]
		}
		return m.compare(i, j) <= 0
	}
	out := make([]int, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if less(a[i], b[j]) {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// SetItems replaces every row (a completed reload), keeping the cursor on
// the same item where it still exists, and the sort and filter.
func (m *Model[T]) SetItems(items []T) tea.Cmd {
	sel, had := m.Selected()
	m.items, m.haystack, m.order, m.visible, m.rank = nil, nil, nil, nil, nil
	m.widths = make([]int, len(m.cols))
	m.cursor, m.offset = 0, 0
	m.Append(items)
	var cmd tea.Cmd
	if m.query != "" {
		m.matched = ""
		cmd = m.refilter()
	}
	if had {
		m.SelectKey(m.key(sel))
	}
	return cmd
}

// Recompute re-measures, re-sorts and re-filters the rows, for columns
// and search fields that depend on data that arrived after them (the
// lock inventory); changed picks the rows whose search fields are read
// again (nil: none).
func (m *Model[T]) Recompute(changed func(T) bool) tea.Cmd {
	m.widths = make([]int, len(m.cols))
	for i, it := range m.items {
		for c, col := range m.cols {
			m.widths[c] = max(m.widths[c], ansi.StringWidth(cellText(col, it)))
		}
		if changed != nil && changed(it) {
			m.haystack[i] = haystackOf(m.search(it))
		}
	}
	return m.resort()
}

// SelectKey puts the cursor on the item with that key, if visible.
func (m *Model[T]) SelectKey(k string) bool {
	for pos, i := range m.visible {
		if m.key(m.items[i]) == k {
			m.cursor = pos
			m.clamp()
			return true
		}
	}
	return false
}

func (m *Model[T]) merge(a, b []int) []int {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	if m.compare(a[len(a)-1], b[0]) < 0 {
		return append(a[:len(a):len(a)], b...)
	}
	out := make([]int, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if m.compare(a[i], b[j]) <= 0 {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// SortBy sorts by column col, ascending: a table's order before any rows
// arrive, so its header shows the sort from the start.
func (m *Model[T]) SortBy(col int) tea.Cmd {
	m.sortCol, m.desc = col, false
	return m.resort()
}

// CycleSort moves the sort to the next column, after the last one back to
// the first; Reverse flips the direction.
func (m *Model[T]) CycleSort() tea.Cmd {
	m.sortCol = (m.sortCol + 1) % len(m.cols)
	return m.resort()
}

// Reverse flips the sort direction.
func (m *Model[T]) Reverse() tea.Cmd {
	m.desc = !m.desc
	return m.resort()
}

func (m *Model[T]) resort() tea.Cmd {
	sel, had := m.Selected()
	// On the first row the operator has not moved: the new order shows
	// from its top. Elsewhere the cursor follows its row.
	had = had && m.cursor > 0
	order := make([]int, len(m.items))
	for i := range order {
		order[i] = i
	}
	if m.sortCol >= 0 || m.desc {
		slices.SortFunc(order, m.compare)
	}
	m.order = order
	var cmd tea.Cmd
	if m.query == "" {
		m.visible = m.order
	} else {
		m.matched = ""
		cmd = m.refilter()
	}
	if had {
		m.SelectKey(m.key(sel))
	} else {
		m.cursor, m.offset = 0, 0
		m.clamp()
	}
	return cmd
}

// FilterMsg carries the result of a filter command back to SetQuery's grid.
type FilterMsg struct {
	gen   int
	query string
	rows  []int
	ranks []int32
	upto  int // items at the time of the snapshot
}

// SetQuery changes the filter. Small candidate sets are filtered now;
// larger ones by the returned command, whose FilterMsg goes to Apply.
func (m *Model[T]) SetQuery(q string) tea.Cmd {
	if q == m.query {
		return nil
	}
	m.query = q
	return m.refilter()
}

func (m *Model[T]) refilter() tea.Cmd {
	m.gen++
	if m.query == "" {
		m.pending, m.matched, m.visible = false, "", m.order
		m.clamp()
		return nil
	}
	// A longer query can only narrow what the last one found; the
	// candidates are taken in sort order, so ties keep it.
	order, narrow := m.order, []int(nil)
	if m.matched != "" && strings.HasPrefix(m.query, m.matched) && !m.pending {
		narrow = m.visible
	}
	if len(order) <= SyncFilterLimit || (narrow != nil && len(narrow) <= SyncFilterLimit) {
		m.pending = false
		rows, ranks := matchAll(m.query, m.haystack, candidates(order, narrow, len(m.items)))
		m.setVisible(m.query, rows, ranks)
		return nil
	}
	m.pending = true
	gen, query, haystack := m.gen, m.query, m.haystack[:len(m.haystack):len(m.haystack)]
	return func() tea.Msg {
		rows, ranks := matchAll(query, haystack, candidates(order, narrow, len(haystack)))
		return FilterMsg{gen: gen, query: query, rows: rows, ranks: ranks, upto: len(haystack)}
	}
}

// candidates are the rows of order that are in narrow (all of them when
// narrow is nil), in order.
func candidates(order, narrow []int, n int) []int {
	if narrow == nil {
		return order
	}
	in := make([]bool, n)
	for _, r := range narrow {
		in[r] = true
	}
	out := make([]int, 0, len(narrow))
	for _, r := range order {
		if in[r] {
			out = append(out, r)
		}
	}
	return out
}

// Apply takes a FilterMsg; stale results (an older query) are dropped.
// It returns a follow-up command when rows arrived meanwhile.
func (m *Model[T]) Apply(msg FilterMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	m.pending = false
	if msg.upto != len(m.items) {
		m.matched = ""
		return m.refilter() // rows streamed in while it ran: filter again
	}
	m.setVisible(msg.query, msg.rows, msg.ranks)
	return nil
}

func (m *Model[T]) setVisible(q string, rows []int, ranks []int32) {
	sel, had := m.Selected()
	m.setRanks(rows, ranks)
	m.matched, m.visible = q, rows
	if !had || !m.SelectKey(m.key(sel)) {
		m.cursor, m.offset = 0, 0
	}
	m.clamp()
}

// matchAll returns the rows that match every space-separated term of q,
// best first, and their ranks; rows of one rank stay in the order given
// (the sort order). A term matches inside one field: "aws err" finds the
// AWS records in error, without "ord" matching across unrelated fields.
// A row's rank is the sum of its terms' ranks (see fieldRank).
func matchAll(q string, haystack []string, rows []int) ([]int, []int32) {
	terms := strings.Fields(strings.ToLower(q))
	if len(terms) == 0 {
		return rows, make([]int32, len(rows))
	}
	// Ranks are small: bucket the matches by rank, a stable counting sort.
	buckets := make([][]int, len(terms)*scattered+1)
	for _, r := range rows {
		if rank, ok := rankTerms(terms, haystack[r]); ok {
			buckets[rank] = append(buckets[rank], r)
		}
	}
	var out []int
	var ranks []int32
	for rank, b := range buckets {
		out = append(out, b...)
		for range b {
			ranks = append(ranks, int32(rank))
		}
	}
	return out, ranks
}

func rankTerms(terms []string, fields string) (int, bool) {
	total := 0
	for _, t := range terms {
		r, ok := termRank(t, fields)
		if !ok {
			return 0, false
		}
		total += r
	}
	return total, true
}

// termRank is the best rank of t over the NUL-separated fields.
func termRank(t, fields string) (int, bool) {
	best := -1
	for start := 0; start <= len(fields); {
		end := strings.IndexByte(fields[start:], 0)
		if end < 0 {
			end = len(fields)
		} else {
			end += start
		}
		if r := fieldRank(t, fields[start:end]); r >= 0 && (best < 0 || r < best) {
			if best = r; best == exact {
				break
			}
		}
		start = end + 1
	}
	return best, best >= 0
}

// The ranks of a term in a field, best first.
const (
	exact     = iota // the whole field
	prefix           // the field starts with it
	wordStart        // a word of the field starts with it
	substring        // it is in the field
	scattered        // its letters are in the field, in order
)

// fieldRank ranks term t in field f, -1 when it does not match.
func fieldRank(t, f string) int {
	switch {
	case f == t:
		return exact
	case strings.HasPrefix(f, t):
		return prefix
	}
	if i := strings.Index(f, t); i >= 0 {
		for ; i >= 0; i = nextIndex(f, t, i) {
			if isWordSep(f[i-1]) {
				return wordStart
			}
		}
		return substring
	}
	if inOrder(t, f) {
		return scattered
	}
	return -1
}

// nextIndex is the next occurrence of t in f after the one at i, -1 when
// there is none.
func nextIndex(f, t string, i int) int {
	j := strings.Index(f[i+1:], t)
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

func isWordSep(c byte) bool {
	switch c {
	case '/', '-', '_', '.', ' ', ':', '@', '(', '[':
		return true
	}
	return false
}

// inOrder reports whether t's characters occur in order in f. Bytes
// suffice for an ASCII term; others go by rune.
func inOrder(t, f string) bool {
	if isASCII(t) {
		j := 0
		for i := 0; i < len(f); i++ {
			if f[i] == t[j] {
				if j++; j == len(t) {
					return true
				}
			}
		}
		return false
	}
	want := []rune(t)
	j := 0
	for _, r := range f {
		if r == want[j] {
			if j++; j == len(want) {
				return true
			}
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// layout gives every column its width, 0 for a hidden one. Each column
// needs its minimum (a Whole column its widest text); when they do not all
// fit, droppable columns are hidden, highest Drop first. What is left
// goes to the columns up to their natural width, the flex column (the
// names) keeping a useful share, and the rest to the flex column.
func (m *Model[T]) layout() []int {
	n := len(m.cols)
	natural, minW := make([]int, n), make([]int, n)
	shown := make([]bool, n)
	flex := -1
	for i, c := range m.cols {
		title := ansi.StringWidth(c.Title) + 1 // room for the sort arrow
		natural[i] = max(m.widths[i], title)
		if c.MaxWidth > 0 && !c.Whole {
			natural[i] = min(natural[i], max(c.MaxWidth, title))
		}
		switch {
		case c.Whole:
			minW[i] = natural[i]
		default:
			minW[i] = min(max(c.MinWidth, title), natural[i])
		}
		shown[i] = true
		if c.Flex && flex < 0 {
			flex = i
		}
	}
	need := func() int {
		total, cols := 0, 0
		for i := range n {
			if shown[i] {
				total += minW[i]
				cols++
			}
		}
		return total + 2*max(cols-1, 0)
	}
	for need() > m.width {
		drop := -1
		for i, c := range m.cols {
			if shown[i] && c.Drop > 0 && i != m.sortCol && (drop < 0 || c.Drop > m.cols[drop].Drop) {
				drop = i
			}
		}
		if drop < 0 {
			break
		}
		shown[drop] = false
	}
	w := make([]int, n)
	for i := range n {
		if shown[i] {
			w[i] = minW[i]
		}
	}
	spare := m.width - need()
	if flex >= 0 {
		// The names get up to 2/5 of the width before the others grow.
		give := min(max(natural[flex], minW[flex]), max(m.width*2/5, minW[flex])) - w[flex]
		give = max(min(give, spare), 0)
		w[flex] += give
		spare -= give
	}
	for i := range n {
		if shown[i] && i != flex && spare > 0 {
			give := min(natural[i]-w[i], spare)
			w[i] += give
			spare -= give
		}
	}
	if flex >= 0 && spare > 0 {
		w[flex] += spare
	}
	return w
}

// Hidden lists the titles of the columns too narrow a terminal hides.
func (m *Model[T]) Hidden() []string {
	var out []string
	for i, w := range m.layout() {
		if w == 0 {
			out = append(out, m.cols[i].Title)
		}
	}
	return out
}

// Cut fits s into w columns, at the end or in the middle.
func Cut(s string, w int, middle bool) string {
	if ansi.StringWidth(s) <= w {
		return s
	}
	if !middle || w < 5 {
		return ansi.Truncate(s, w, "…")
	}
	// A path keeps its first segment and as many last ones as fit.
	if parts := strings.Split(s, "/"); len(parts) >= 3 {
		best := ""
		for k := 1; k < len(parts)-1; k++ {
			try := parts[0] + "/…/" + strings.Join(parts[len(parts)-k:], "/")
			if ansi.StringWidth(try) > w {
				break
			}
			best = try
		}
		if best != "" {
			return best
		}
	}
	left := (w - 1) / 2
	return ansi.Truncate(s, left, "") + "…" + ansi.TruncateLeft(s, ansi.StringWidth(s)-(w-1-left), "")
}

// View renders the header and the rows on screen only.
func (m *Model[T]) View() string {
	widths := m.layout()
	var b strings.Builder
	var header []string
	sortTitle, desc := m.SortState()
	for i, c := range m.cols {
		if widths[i] == 0 {
			continue
		}
		t := c.Title
		if t == sortTitle {
			t += map[bool]string{false: "↑", true: "↓"}[desc]
		}
		header = append(header, pad(t, widths[i]))
	}
	b.WriteString(m.styles.Header.Render(ansi.Truncate(strings.Join(header, "  "), m.width, "…")))
	rows := max(m.height-1, 1)
	cells := make([]string, 0, len(m.cols))
	for pos := m.offset; pos < min(m.offset+rows, len(m.visible)); pos++ {
		it := m.items[m.visible[pos]]
		b.WriteByte('\n')
		cells = cells[:0]
		selected := pos == m.cursor
		for i, c := range m.cols {
			if widths[i] == 0 {
				continue
			}
			cell := pad(Cut(cellText(c, it), widths[i], c.Middle), widths[i])
			if c.Style != nil && !selected {
				cell = m.paint(c.Style(it), cell)
			}
			cells = append(cells, cell)
		}
		line := strings.Join(cells, "  ")
		if selected {
			line = m.styles.Selected.Render(pad(ansi.Truncate(line, m.width, "…"), m.width))
		}
		b.WriteString(line)
	}
	return b.String()
}

// paint styles a one-line cell with the style's cached sequences.
func (m *Model[T]) paint(st *lipgloss.Style, cell string) string {
	w, ok := m.wraps[st]
	if !ok {
		const mark = "\x00"
		r := st.Render(mark)
		i := strings.Index(r, mark)
		if i < 0 {
			return st.Render(cell)
		}
		w = [2]string{r[:i], r[i+len(mark):]}
		m.wraps[st] = w
	}
	return w[0] + cell + w[1]
}

func pad(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}
