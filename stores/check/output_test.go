package check_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"statescope/stores/check"
)

// TestTableColumnsStayNarrow: a finding naming many resources (a long
// cycle) keeps its full list in the evidence; its resources cell stays
// short, so it does not push every other finding's evidence and repair
// off the screen.
func TestTableColumnsStayNarrow(t *testing.T) {
	var cycle []string
	for i := range 40 {
		cycle = append(cycle, fmt.Sprintf("team/service-%02d", i))
	}
	rep := &check.Report{Records: map[string]int{"active": 41}, Findings: []check.Finding{
		{Kind: check.DependencyCycle, Severity: check.Warning, Resources: cycle, Evidence: "dependency cycle: " + strings.Join(cycle, " → "), Repair: "statescope edit team/service-00"},
		{Kind: check.ErrorRecord, Severity: check.Warning, Resources: []string{"db"}, Evidence: "status error", Repair: "statescope set-status db active"},
	}}
	var out bytes.Buffer
	if err := check.WriteTable(&out, []check.Result{{Context: "prod", Target: "/srv/state", Report: rep}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "team/service-38 → team/service-39") {
		t.Errorf("the evidence lost the cycle:\n%s", out.String())
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if i := strings.Index(line, "repair: "); i > 80 {
			t.Errorf("repair starts at column %d: %q", i, line)
		}
	}
}
