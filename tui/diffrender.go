package tui

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/pmezard/go-difflib/difflib"

	"statescope/stores"
	"statescope/stores/redact"
	"statescope/tui/jsondiff"
)

// sideBySideMin is the terminal width from which the text diff is shown
// in two columns.
const sideBySideMin = 140

// comparable is the part of a record a diff compares.
func comparable(s *stores.State) map[string]any {
	return map[string]any{"outputs": s.Outputs, "config": s.Config}
}

// secretPath reports a change under a secret-looking key anywhere on its path.
func secretPath(c jsondiff.Change) bool {
	for _, k := range c.Keys {
		if redact.IsSecretKey(k) {
			return true
		}
	}
	return false
}

// shownValue is a value as displayed: compact JSON, masked unless revealed.
func shownValue(c jsondiff.Change, v any, revealed bool) string {
	if !revealed {
		if secretPath(c) && v != nil {
			return redact.Mask
		}
		v = redact.Value("", v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// renderStructural lists changes by JSON path: + added, - removed,
// ~ changed old → new.
func renderStructural(st Styles, changes []jsondiff.Change, revealed bool, width int) string {
	if len(changes) == 0 {
		return st.OK.Render("No differences")
	}
	pathW := 0
	for _, c := range changes {
		pathW = max(pathW, len(c.Path))
	}
	pathW = min(pathW, width/2)
	var b strings.Builder
	fmt.Fprintf(&b, "%d differences (%s)\n\n", len(changes), countKinds(changes))
	for _, c := range changes {
		path := ansi.Truncate(padTo(c.Path, pathW+1), pathW+1, "…")
		var line string
		switch c.Kind {
		case jsondiff.Added:
			line = st.Added.Render("+ "+path) + " " + shownValue(c, c.New, revealed)
		case jsondiff.Removed:
			line = st.Removed.Render("- "+path) + " " + shownValue(c, c.Old, revealed)
		default:
			line = st.Changed.Render("~ "+path) + " " + shownValue(c, c.Old, revealed) + st.Dim.Render(" → ") + shownValue(c, c.New, revealed)
		}
		b.WriteString(ansi.Truncate(line, width, "…") + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func countKinds(changes []jsondiff.Change) string {
	n := map[jsondiff.Kind]int{}
	for _, c := range changes {
		n[c.Kind]++
	}
	return fmt.Sprintf("%d added, %d removed, %d changed", n[jsondiff.Added], n[jsondiff.Removed], n[jsondiff.Changed])
}

// textDocs are the two records as pretty JSON, masked unless revealed.
func textDocs(a, b *stores.State, revealed bool) ([]string, []string) {
	if !revealed {
		a, b = redact.State(a), redact.State(b)
	}
	return difflib.SplitLines(prettyJSON(comparable(a)) + "\n"), difflib.SplitLines(prettyJSON(comparable(b)) + "\n")
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
