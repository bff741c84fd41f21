package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/pmezard/go-difflib/difflib"

	"statescope/stores"
	"statescope/stores/recorddiff"
	"statescope/stores/redact"
	"statescope/tui/jsondiff"
)

// sideBySideMin is the terminal width from which the text diff is shown
// in two columns.
const sideBySideMin = 140

// renderStructural lists changes by JSON path: + added, - removed,
// ~ changed old → new; the record's header fields first, then outputs and
// config. A partial comparison says what it left out.
func renderStructural(st Styles, changes []jsondiff.Change, only recorddiff.Sections, revealed bool, width int) string {
	var b strings.Builder
	if only != nil {
		b.WriteString(st.Warn.Render("only "+strings.Join(only, " & ")+" compared: the other side is not a whole record") + "\n")
	}
	if len(changes) == 0 {
		if only != nil {
			return b.String() + st.OK.Render("No differences in "+strings.Join(only, " & "))
		}
		return st.OK.Render("No differences")
	}
	pathW := 0
	for _, c := range changes {
		pathW = max(pathW, len(c.Path))
	}
	pathW = min(pathW, width/2)
	fmt.Fprintf(&b, "%d differences (%s)\n", len(changes), countKinds(changes))
	var head, body []jsondiff.Change
	for _, c := range changes {
		if recorddiff.InBody(c) {
			body = append(body, c)
		} else {
			head = append(head, c)
		}
	}
	for _, part := range []struct {
		title   string
		changes []jsondiff.Change
	}{{"record", head}, {"outputs & config", body}} {
		if len(part.changes) == 0 {
			continue
		}
		b.WriteString("\n" + st.Title.Render(part.title) + "\n")
		for _, c := range part.changes {
			b.WriteString(ansi.Truncate(changeLine(st, c, pathW, revealed), width, "…") + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func changeLine(st Styles, c jsondiff.Change, pathW int, revealed bool) string {
	path := ansi.Truncate(padTo(c.Path, pathW+1), pathW+1, "…")
	switch c.Kind {
	case jsondiff.Added:
		return st.Added.Render("+ "+path) + " " + recorddiff.Shown(c, c.New, revealed)
	case jsondiff.Removed:
		return st.Removed.Render("- "+path) + " " + recorddiff.Shown(c, c.Old, revealed)
	}
	return st.Changed.Render("~ "+path) + " " + recorddiff.Shown(c, c.Old, revealed) + st.Dim.Render(" → ") + recorddiff.Shown(c, c.New, revealed)
}

func countKinds(changes []jsondiff.Change) string {
	n := map[jsondiff.Kind]int{}
	for _, c := range changes {
		n[c.Kind]++
	}
	return fmt.Sprintf("%d added, %d removed, %d changed", n[jsondiff.Added], n[jsondiff.Removed], n[jsondiff.Changed])
}

// textDocs are the two records as pretty JSON, masked unless revealed.
func textDocs(a, b *stores.State, only recorddiff.Sections, revealed bool) ([]string, []string) {
	doc := func(s *stores.State) []string {
		if !revealed {
			s = redact.State(s)
			s.Error = redact.Text(s.Error)
		}
		if only == nil {
			return recordLines(s) // the record as stored, in upstream's key order
		}
		d, err := recorddiff.Doc(s, only)
		if err != nil {
			return []string{err.Error() + "\n"}
		}
		return difflib.SplitLines(prettyJSON(d) + "\n")
	}
	return doc(a), doc(b)
}

// renderUnified is a unified text diff of the pretty-printed records.
func renderUnified(st Styles, aName, bName string, a, b []string) string {
	text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: a, B: b, FromFile: aName, ToFile: bName, Context: 3})
	if err != nil {
		return st.Error.Render(err.Error())
	}
	if text == "" {
		return st.OK.Render("No differences")
	}
	return colorUnified(st, text)
}

// colorUnified colours a unified diff's lines by kind.
func colorUnified(st Styles, text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			lines[i] = st.Bold.Render(l)
		case strings.HasPrefix(l, "+"):
			lines[i] = st.Added.Render(l)
		case strings.HasPrefix(l, "-"):
			lines[i] = st.Removed.Render(l)
		case strings.HasPrefix(l, "@@"):
			lines[i] = st.Info.Render(l)
		}
	}
	return strings.Join(lines, "\n")
}

// renderSideBySide puts the two documents in columns, aligned by the
// matcher's opcodes, changed lines marked.
func renderSideBySide(st Styles, aName, bName string, a, b []string, width int) string {
	groups := difflib.NewMatcher(a, b).GetGroupedOpCodes(3)
	if len(groups) == 0 {
		return st.OK.Render("No differences")
	}
	col := (width-3)/2 - 2 // each side: a marker, a space, the line
	cell := func(mark, s string) string {
		return mark + " " + padTo(ansi.Truncate(strings.TrimRight(s, "\n"), col, "…"), col)
	}
	var out []string
	out = append(out, st.Bold.Render(cell(" ", aName))+" │ "+st.Bold.Render(cell(" ", bName)))
	for _, g := range groups {
		out = append(out, st.Info.Render(fmt.Sprintf("@@ lines %d–%d │ %d–%d", g[0].I1+1, g[len(g)-1].I2, g[0].J1+1, g[len(g)-1].J2)))
		for _, op := range g {
			for k := range max(op.I2-op.I1, op.J2-op.J1) {
				var left, right string
				if op.I1+k < op.I2 {
					left = a[op.I1+k]
				}
				if op.J1+k < op.J2 {
					right = b[op.J1+k]
				}
				l, r := cell(" ", left), cell(" ", right)
				if op.Tag != 'e' {
					if op.I1+k < op.I2 {
						l = st.Removed.Render(cell("-", left))
					}
					if op.J1+k < op.J2 {
						r = st.Added.Render(cell("+", right))
					}
				}
				out = append(out, l+" │ "+r)
			}
		}
	}
	return strings.Join(out, "\n")
}

func padTo(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}
