package keymap

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// readmeRows maps a key set to the README TUI table row that documents it.
var readmeRows = map[string]string{
	"global": "everywhere", "input": "everywhere", "help": "everywhere", "confirm": "**Repairs**",
	"resources": "**Resources**", "detail": "**Detail**", "diff": "**Diff**", "locks": "**Locks**",
	"backups": "**Backups**", "store_backups": "**All backups**", "audit": "**Audit**", "messages": "**Messages**", "contexts": "command bar",
	"connect": "remote stores", "fleet": "**Fleet**", "findings": "**Findings**", "tree": "**Dependency tree**",
}

// shared are documented once, in the "everywhere" row: motion, and the
// filter, sort and refresh keys every table has.
var shared = regexp.MustCompile(`\.(up|down|top|bottom|page_up|page_down|filter|sort|reverse|refresh)$`)

// TestReadmeDocumentsEveryKey: each default binding's keys appear, in
// backticks, in the README's TUI table row of its view, so the table
// matches what `?` shows.
func TestReadmeDocumentsEveryKey(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(readme), "\n") {
		if label, _, ok := strings.Cut(strings.TrimPrefix(line, "| "), " |"); ok && strings.HasPrefix(line, "| ") {
			for _, want := range readmeRows {
				if strings.HasPrefix(label, want) {
					rows[want] = line
				}
			}
		}
	}
	named := Default().named()
	names := make([]string, 0, len(named))
	for n := range named {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		set, _, _ := strings.Cut(n, ".")
		label, ok := readmeRows[set]
		if !ok {
			t.Errorf("%s: no README row is known for the %q keys", n, set)
			continue
		}
		if shared.MatchString(n) {
			label = "everywhere"
		}
		row, ok := rows[label]
		if !ok {
			t.Errorf("%s: README has no TUI table row %q", n, label)
			continue
		}
		help := named[n].Help().Key
		for _, k := range alternatives(help) {
			if !strings.Contains(row, "`"+k+"`") && !strings.Contains(row, "`"+help+"`") {
				t.Errorf("%s: README row %q does not mention `%s` (%s)", n, label, k, named[n].Help().Desc)
			}
		}
	}
}

// alternatives splits a help key like "g/home" into its keys; "/" alone
// is the key itself.
func alternatives(help string) []string {
	if help == "/" {
		return []string{help}
	}
	return strings.Split(help, "/")
}
