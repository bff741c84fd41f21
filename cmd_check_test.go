package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"statescope/stores"
	"statescope/stores/check"
	"statescope/stores/filesystem"
	"statescope/stores/printable"
)

func cleanDir(t *testing.T) string { return dirOf(t, stores.StatusActive, "db", "web") }

// dirOf is a filesystem store of these records, all in one status.
func dirOf(t *testing.T, status string, ids ...string) string {
	t.Helper()
	dir := t.TempDir()
	s, err := filesystem.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		st := &stores.State{ResourceID: id, ResourceType: "t", Provider: "p", Status: status, CreatedAt: "2026-01-01T00:00:00Z", UpdatedAt: "2026-01-01T00:00:00Z"}
		if err := s.Save(t.Context(), st); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// wantCLI runs the CLI and requires the exit code and each string on stdout.
func wantCLI(t *testing.T, code int, want []string, args ...string) {
	t.Helper()
	got, out, errOut := cli(t, "", args...)
	if got != code {
		t.Fatalf("exit %d, want %d\n%s%s", got, code, out, errOut)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestCheckExitCodes(t *testing.T) {
	demo, clean := demoDir(t), cleanDir(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"findings", []string{"--store", demo, "check"}, exitFindings, []string{"CRITICAL (", "orphaned-lock", "repair: statescope unlock ", "--store " + demo, "WARNING (", "stuck-record"}},
		{"below threshold", []string{"--store", demo, "check", "--fail-on", "none"}, exitOK, []string{"orphaned-lock"}},
		{"clean", []string{"--store", clean, "check", "--fail-on", "info"}, exitOK, []string{"2 records", "no findings"}},
		{"unreachable", []string{"--store", filepath.Join(clean, "missing"), "check"}, exitError, nil},
		{"bad threshold", []string{"--store", clean, "check", "--fail-on", "bad"}, exitUsage, nil},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCLI(t, tc.code, tc.want, tc.args...) })
	}
}

func TestCheckJSON(t *testing.T) {
	dir := demoDir(t)
	code, out, errOut := cli(t, "", "--store", dir, "check", "-o", "json")
	if code != exitFindings {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		Success  bool           `json:"success"`
		Records  map[string]int `json:"records"`
		Findings []struct {
			Kind, Severity, Repair string
			Resources              []string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if !r.Success || r.Records["corrupt"] != 1 || len(r.Findings) == 0 || r.Findings[0].Severity != "critical" {
		t.Errorf("json: %+v", r)
	}
}

// writeConfig writes a config with these contexts and returns its path.
func writeConfig(t *testing.T, contexts map[string]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("contexts:\n")
	for name, target := range contexts {
		fmt.Fprintf(&b, "  %q: {store: %q}\n", name, target)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckPrometheusParses(t *testing.T) {
	cfg := writeConfig(t, map[string]string{"demo": demoDir(t), "clean": cleanDir(t), "down": "/nonexistent/statescope"})
	code, out, errOut := cli(t, "", "--config", cfg, "check", "--all-contexts", "-o", "prometheus")
	if code != exitError {
		t.Fatalf("exit %d, want 1 (one context is down): %s", code, errOut)
	}
	// Legacy names: what node_exporter's textfile collector and older Prometheus accept.
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(out))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, out)
	}
	for _, name := range []string{"statescope_records", "statescope_locks", "statescope_oldest_lock_age_seconds", "statescope_findings", "statescope_check_success"} {
		if fams[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	success := map[string]float64{}
	for _, m := range fams["statescope_check_success"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "context" {
				success[l.GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	if success["demo"] != 1 || success["clean"] != 1 || success["down"] != 0 {
		t.Errorf("check_success %v", success)
	}
	orphaned, tempFiles := 0.0, -1.0
	for _, m := range fams["statescope_findings"].GetMetric() {
		labels := model.LabelSet{}
		for _, l := range m.GetLabel() {
			labels[model.LabelName(l.GetName())] = model.LabelValue(l.GetValue())
		}
		if labels["context"] == "demo" && labels["kind"] == "orphaned-lock" {
			orphaned = m.GetGauge().GetValue()
		}
		if labels["context"] == "clean" && labels["kind"] == "temp-file" {
			tempFiles = m.GetGauge().GetValue()
		}
	}
	if tempFiles != 0 {
		t.Errorf("a kind not found must be written as 0, got %v", tempFiles)
	}
	if orphaned != 2 {
		t.Errorf("demo orphaned-lock findings %v, want 2", orphaned)
	}
}

// TestFleetCommandsShowUnreachableAsARow: check, locks and list over
// every context answer for the reachable ones and name the one that is
// not, exiting 1.
func TestFleetCommandsShowUnreachableAsARow(t *testing.T) {
	cfg := writeConfig(t, map[string]string{"demo": demoDir(t), "clean": cleanDir(t),
		"down": "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=5"})
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"check", "--all-contexts"}, []string{"demo (", "clean (", "down (postgres://nobody@127.0.0.1:1/none", "could not be checked", "--context demo"}},
		{[]string{"locks", "--contexts", "demo,down"}, []string{"CONTEXT", "demo ", "orphaned", "down ", "FAILED"}},
		{[]string{"list", "--all-contexts", "--parallel", "2"}, []string{"CONTEXT", "clean ", "demo ", "prod/db/orders", "FAILED"}},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			wantCLI(t, exitError, tc.want, append([]string{"--config", cfg}, tc.args...)...)
		})
	}
	code, out, _ := cli(t, "", "--config", cfg, "list", "--contexts", "clean", "-o", "json")
	var items []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &items) != nil || len(items) != 2 || items[0]["context"] != "clean" {
		t.Errorf("list --contexts clean -o json (exit %d):\n%s", code, out)
	}
	if code, _, _ := cli(t, "", "--config", cfg, "list", "--contexts", "clean", "--store", "/x"); code != exitUsage {
		t.Errorf("--contexts with --store: exit %d, want 2", code)
	}
}

func TestGraphCommand(t *testing.T) {
	dir := demoDir(t)
	code, out, errOut := cli(t, "", "--store", dir, "graph", "--root", "dev/lb/api", "--reverse", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var g struct {
		Nodes []struct{ ID, Status string }
		Edges []struct{ From, To string }
	}
	if err := json.Unmarshal([]byte(out), &g); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range g.Edges {
		found = found || (e.From == "dev/dns/api" && e.To == "dev/lb/api")
	}
	if !found || g.Nodes[0].Status == "" {
		t.Errorf("reverse graph of dev/lb/api lacks dev/dns/api → dev/lb/api:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"graph"}, 0, "digraph statescope {"},
		{[]string{"graph", "-o", "mermaid"}, 0, "flowchart LR"},
		{[]string{"graph", "--reverse"}, exitUsage, ""},
		{[]string{"graph", "--root", "no/such"}, exitError, ""},
	} {
		code, out, _ := cli(t, "", append([]string{"--store", dir}, tc.args...)...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, want %d; output lacks %q", tc.args, code, tc.code, tc.want)
		}
	}
}

// hostileIDs hold what a terminal, a table or a shell gives a meaning to.
var hostileIDs = []string{`q"uote'`, "new\nline", `back\slash`, `trail\`, "münchen", "esc\x1b]0;owned\x07\x1b[2J",
	"bidi\u202eevil", "tab\there", "ctl\x01\x7f", "zw\u200bsp", "hash#x;y`z|[b]$(id)", "crlf\r\n", "-dash", " space "}

// shellArgs runs a printed command line in bash, with a function standing
// in for the command, and returns the arguments the shell handed over.
func shellArgs(t *testing.T, line string) []string {
	t.Helper()
	cmd, _, _ := strings.Cut(line, " ")
	script := cmd + `() { for a in "$@"; do printf '%s\0' "$a"; done; }; ` + line
	out, err := exec.Command("bash", "-c", script).Output()
	if err != nil {
		t.Fatalf("bash -c %q: %v", line, err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// TestCheckOutputsKeepHostileIDs: the table prints nothing a terminal
// acts on and keeps one finding a line; every repair command, pasted into
// a shell, names exactly the record, in the table as in JSON.
func TestCheckOutputsKeepHostileIDs(t *testing.T) {
	dir := dirOf(t, stores.StatusError, hostileIDs...)
	repairsOf := func(t *testing.T, lines []string) {
		t.Helper()
		got := map[string]bool{}
		for _, line := range lines {
			args := shellArgs(t, line)
			if len(args) != 5 || args[0] != "set-status" || args[2] != "active" || args[3] != "--store" || args[4] != dir {
				t.Errorf("repair %q gives arguments %q", line, args)
				continue
			}
			got[args[1]] = true
		}
		for _, id := range hostileIDs {
			if !got[id] {
				t.Errorf("no repair names %q", id)
			}
		}
	}
	t.Run("table", func(t *testing.T) {
		code, out, errOut := cli(t, "", "--store", dir, "check", "--fail-on", "warning")
		if code != exitFindings {
			t.Fatalf("exit %d, want 4\n%s%s", code, out, errOut)
		}
		var repairs []string
		findings := 0
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if !printable.Is(line) {
				t.Errorf("table line does not print as it is: %q", line)
			}
			if _, repair, ok := strings.Cut(line, "repair: "); ok {
				repairs = append(repairs, repair)
			}
			if strings.HasPrefix(line, "  error-record ") {
				findings++
			}
		}
		if findings != len(hostileIDs) {
			t.Errorf("%d error-record lines for %d records:\n%s", findings, len(hostileIDs), out)
		}
		repairsOf(t, repairs)
	})
	t.Run("json", func(t *testing.T) {
		_, out, _ := cli(t, "", "--store", dir, "check", "-o", "json")
		var r struct{ Findings []struct{ Repair string } }
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		var repairs []string
		for _, f := range r.Findings {
			repairs = append(repairs, f.Repair)
		}
		repairsOf(t, repairs)
	})
}

// TestFleetSelectionRefusesWhatChoosesNothing: a selection that names no
// context, or a bound that cannot hold, is a usage error before anything
// is opened, never a silent check of nothing or of the current context.
func TestFleetSelectionRefusesWhatChoosesNothing(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "current-context: clean\ncontexts:\n  clean: {store: %q}\n", cleanDir(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"check", "locks", "list"} {
		for _, args := range [][]string{
			{"--contexts", ""},
			{"--contexts", ","},
			{"--contexts", " , "},
			{"--contexts", "nosuch"},
			{"--all-contexts", "--parallel", "0"},
			{"--all-contexts", "--parallel", "-3"},
			{"--all-contexts", "--timeout", "0s"},
			{"--all-contexts", "--timeout", "-1s"},
			{"--parallel", "4"},
			{"--timeout", "5s"},
		} {
			t.Run(cmd+" "+strings.Join(args, " "), func(t *testing.T) {
				code, out, errOut := cli(t, "", append([]string{"--config", cfg, cmd}, args...)...)
				if code != exitUsage || out != "" {
					t.Errorf("exit %d, want 2 with nothing on stdout\n%s%s", code, out, errOut)
				}
			})
		}
	}
}

// TestBrokenContextIsOneRow: a context the config leaves without a store
// fails only where it is used — a row of the fleet, or that context
// chosen — never every command on the config.
func TestBrokenContextIsOneRow(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	body := fmt.Sprintf("contexts:\n  clean: {store: %q}\n  nostore: {read-only: true}\n  blank: {store: '  '}\n  typo: {store: [a, b]}\n", cleanDir(t))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		out  []string
	}{
		{[]string{"check", "--all-contexts"}, exitError, []string{"clean (", "no findings", "nostore", "blank", "has no store", `context "typo" in the config cannot be read: line 5: cannot unmarshal`}},
		{[]string{"--context", "typo", "list"}, exitUsage, nil},
		{[]string{"locks", "--all-contexts"}, exitError, []string{"nostore ", "FAILED"}},
		{[]string{"list", "--all-contexts", "-o", "json"}, exitError, []string{`"context": "nostore"`, "has no store"}},
		{[]string{"--context", "clean", "list", "-o", "json"}, exitOK, []string{`"db"`}},
		{[]string{"--context", "nostore", "list"}, exitUsage, nil},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			wantCLI(t, tc.code, tc.out, append([]string{"--config", cfg}, tc.args...)...)
		})
	}
}

// TestFleetOutputsKeepHostileContextNames: context names are config keys
// and may hold anything YAML can: Prometheus labels (read back by its own
// parser), JSON and repair commands give them exactly, the table printably.
func TestFleetOutputsKeepHostileContextNames(t *testing.T) {
	names := []string{`q"uote`, `back\slash`, "new\nline", "münchen\t\u202e", "a,b", "esc\x1b[2J"}
	contexts := map[string]string{}
	for _, n := range names {
		contexts[n] = demoDir(t)
	}
	cfg := writeConfig(t, contexts)
	_, out, errOut := cli(t, "", "--config", cfg, "check", "--all-contexts", "-o", "prometheus")
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(out))
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}
	got := map[string]bool{}
	for _, m := range fams["statescope_check_success"].GetMetric() {
		if m.GetGauge().GetValue() != 1 {
			t.Errorf("check_success %v", m)
		}
		got[m.GetLabel()[0].GetValue()] = true
	}
	var results []struct {
		Context  string
		Findings []struct{ Repair string }
	}
	_, out, _ = cli(t, "", "--config", cfg, "check", "--all-contexts", "-o", "json")
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !got[n] {
			t.Errorf("no check_success{context=%q} in %v", n, got)
		}
	}
	for _, r := range results {
		args := shellArgs(t, r.Findings[0].Repair)
		if args[len(args)-2] != "--context" || args[len(args)-1] != r.Context {
			t.Errorf("context %q: repair %q selects %q", r.Context, r.Findings[0].Repair, args)
		}
	}
	for _, cmd := range []string{"check", "locks", "list"} {
		_, out, _ = cli(t, "", "--config", cfg, cmd, "--all-contexts")
		if !printable.Is(strings.ReplaceAll(out, "\n", "")) {
			t.Errorf("%s: the table does not print as it is:\n%q", cmd, out)
		}
	}
}

// TestListTablesPrintHostileIDs: list's table, for one store and for a
// fleet, is one line a record, none holding what a terminal acts on.
func TestListTablesPrintHostileIDs(t *testing.T) {
	dir := dirOf(t, stores.StatusActive, hostileIDs...)
	cfg := writeConfig(t, map[string]string{"prod": dir})
	for _, args := range [][]string{{"--store", dir, "list"}, {"--config", cfg, "list", "--all-contexts"}} {
		_, out, errOut := cli(t, "", args...)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(hostileIDs)+1 {
			t.Errorf("%v: %d lines for %d records\n%s%s", args, len(lines), len(hostileIDs), out, errOut)
		}
		for _, line := range lines {
			if !printable.Is(line) {
				t.Errorf("%v: line does not print as it is: %q", args, line)
			}
		}
	}
}

// TestCheckRepairsNameTheCurrentContext: checked through the config's
// current context, each repair still names it, so it acts on the same
// store after the current context has changed.
func TestCheckRepairsNameTheCurrentContext(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "current-context: prod\ncontexts:\n  prod: {store: %q}\n  dev: {store: /nowhere}\n", demoDir(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, out, _ := cli(t, "", "--config", cfg, "check", "-o", "json")
	var r struct{ Findings []struct{ Repair string } }
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if strings.HasPrefix(f.Repair, "statescope ") && !strings.HasSuffix(f.Repair, " --context prod") {
			t.Errorf("repair does not name the context: %q", f.Repair)
		}
	}
}

// TestStuckRecordRepairFollowsItsLock: a stuck record's repair is the one
// statescope will carry out given its lock — set status when unlocked,
// recover (release, then set status) under an orphaned lock, none while a
// live holder keeps it — and each printed repair, run, clears its finding.
func TestStuckRecordRepairFollowsItsLock(t *testing.T) {
	dir := dirOf(t, stores.StatusProvisioning, "free", "orphaned", "running")
	host, _ := os.Hostname()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	for id, pid := range map[string]int{"orphaned": gone.Process.Pid, "running": os.Getpid()} {
		h := &stores.Holder{Tool: "statescope", Host: host, PID: pid, Operation: "apply", Since: time.Now().UTC().Truncate(time.Second)}
		if err := os.WriteFile(filepath.Join(dir, id+".lock"), stores.EncodeLockBody(h), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stuck := func() map[string]string {
		t.Helper()
		_, out, _ := cli(t, "", "--store", dir, "check", "-o", "json")
		var r struct{ Findings []check.Finding }
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		repairs := map[string]string{}
		for _, f := range r.Findings {
			if f.Kind == check.StuckRecord {
				repairs[f.Resources[0]] = f.Repair
			}
		}
		return repairs
	}
	repairs := stuck()
	for id, want := range map[string]string{"free": "set-status free error", "orphaned": "recover orphaned --token ", "running": ""} {
		got, found := repairs[id]
		if !found || (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%s: repair %q, want one with %q", id, got, want)
		}
	}
	for _, id := range []string{"free", "orphaned"} {
		args := append(shellArgs(t, repairs[id]), "--yes")
		if code, out, errOut := cli(t, "", args...); code != 0 {
			t.Fatalf("%q: exit %d\n%s%s", repairs[id], code, out, errOut)
		}
	}
	if left := stuck(); len(left) != 1 || left["running"] != "" {
		t.Errorf("after the repairs, stuck records %v; want only running, without a repair", left)
	}
}
