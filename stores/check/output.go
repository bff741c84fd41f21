package check

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"statescope/stores"
	"statescope/stores/printable"
)

// Result is one context's check: a report, or why the store could not be
// checked.
type Result struct {
	Context string
	// Target is the store's target with credentials removed.
	Target    string
	Report    *Report
	Err       error
	CheckedAt time.Time
}

// WriteTable prints each context's findings grouped by severity, worst
// first, each with its repair command. IDs and evidence come from the
// store: what does not print is escaped, so a finding is one line and
// nothing reaches the terminal as a control sequence.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		name := r.Context
		if r.Target != r.Context {
			name += " (" + r.Target + ")"
		}
		fmt.Fprintf(tw, "%s: %s\n", printable.Escape(name), printable.Escape(summary(r)))
		if r.Report == nil {
			continue
		}
		for _, sev := range Severities {
			var group []Finding
			for _, f := range r.Report.Findings {
				if f.Severity == sev {
					group = append(group, f)
				}
			}
			if len(group) == 0 {
				continue
			}
			fmt.Fprintf(tw, "\n%s (%d)\n", strings.ToUpper(string(sev)), len(group))
			for _, f := range group {
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.Kind, printable.Escape(resourcesCell(f.Resources)), printable.Escape(f.Evidence))
				// Repairs are quoted so that they print (shellcmd.Quote).
				if f.Repair != "" {
					fmt.Fprintf(tw, "  \t\trepair: %s\n", f.Repair)
				}
			}
		}
	}
	return tw.Flush()
}

// resourcesCell names up to two resources; more (a long cycle, listed in
// full in the evidence) would widen the column for every finding.
func resourcesCell(ids []string) string {
	if len(ids) <= 2 {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s, … (%d in all)", ids[0], len(ids))
}

// summary is one line: the error, or the counts.
func summary(r Result) string {
	if r.Err != nil {
		return "could not be checked: " + r.Err.Error()
	}
	records := 0
	for _, n := range r.Report.Records {
		records += n
	}
	locks := "no lock inventory"
	if r.Report.Locks != nil {
		total := 0
		for _, n := range r.Report.Locks {
			total += n
		}
		locks = plural(total, "lock")
	}
	if len(r.Report.Findings) == 0 {
		return fmt.Sprintf("%s, %s; no findings", plural(records, "record"), locks)
	}
	n := r.Report.Count()
	return fmt.Sprintf("%s, %s; %d critical, %d warning, %d info", plural(records, "record"), locks, n[Critical], n[Warning], n[Info])
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// resultJSON is one element of `check -o json`.
type resultJSON struct {
	Context              string         `json:"context"`
	Target               string         `json:"target"`
	CheckedAt            string         `json:"checked_at"`
	Success              bool           `json:"success"`
	Error                string         `json:"error,omitempty"`
	Records              map[string]int `json:"records,omitempty"`
	Locks                map[string]int `json:"locks,omitempty"`
	OldestLockAgeSeconds *int64         `json:"oldest_lock_age_seconds,omitempty"`
	Findings             []Finding      `json:"findings"`
}

func toJSON(r Result) resultJSON {
	j := resultJSON{Context: r.Context, Target: r.Target, CheckedAt: r.CheckedAt.UTC().Format(time.RFC3339), Success: r.Err == nil, Findings: []Finding{}}
	if r.Err != nil {
		j.Error = r.Err.Error()
		return j
	}
	j.Records = r.Report.Records
	if r.Report.Locks != nil {
		j.Locks = map[string]int{}
		for v, n := range r.Report.Locks {
			j.Locks[string(v)] = n
		}
		age := int64(r.Report.OldestLock / time.Second)
		j.OldestLockAgeSeconds = &age
	}
	j.Findings = append(j.Findings, r.Report.Findings...)
	return j
}

// WriteJSON writes one object for a single context, an array for several.
func WriteJSON(w io.Writer, results []Result, many bool) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if !many && len(results) == 1 {
		return enc.Encode(toJSON(results[0]))
	}
	out := make([]resultJSON, len(results))
	for i, r := range results {
		out[i] = toJSON(r)
	}
	return enc.Encode(out)
}

// WritePrometheus writes the text exposition format node_exporter's
// textfile collector reads. Every kind, status and verdict is written
// with zero too, so an alert can tell "none" from "not checked".
func WritePrometheus(w io.Writer, results []Result) error {
	families := []*dto.MetricFamily{
		family("statescope_check_success", "1 if the store could be checked, 0 if not."),
		family("statescope_records", "Records by status (corrupt: unreadable)."),
		family("statescope_locks", "Locks by verdict."),
		family("statescope_oldest_lock_age_seconds", "Age of the oldest lock whose age is known (0 without locks)."),
		family("statescope_findings", "Findings of statescope check by kind and severity."),
	}
	add := func(f *dto.MetricFamily, v float64, labels ...string) {
		m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(v)}}
		for i := 0; i < len(labels); i += 2 {
			m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(labels[i]), Value: proto.String(labels[i+1])})
		}
		f.Metric = append(f.Metric, m)
	}
	for _, r := range results {
		ok := 0.0
		if r.Err == nil {
			ok = 1
		}
		add(families[0], ok, "context", r.Context)
		if r.Err != nil {
			continue
		}
		rep := r.Report
		statuses := slices.Clone(stores.Statuses)
		statuses = append(statuses, "corrupt")
		for s := range rep.Records {
			if !slices.Contains(statuses, s) {
				statuses = append(statuses, s)
			}
		}
		for _, s := range statuses {
			add(families[1], float64(rep.Records[s]), "context", r.Context, "status", s)
		}
		if rep.Locks != nil {
			for _, v := range []stores.Verdict{stores.VerdictOrphaned, stores.VerdictStale, stores.VerdictUnknown, stores.VerdictHeld} {
				add(families[2], float64(rep.Locks[v]), "context", r.Context, "verdict", string(v))
			}
			add(families[3], rep.OldestLock.Seconds(), "context", r.Context)
		}
		type key struct {
			kind Kind
			sev  Severity
		}
		counts := map[key]int{}
		for _, k := range Kinds {
			counts[key{k.Kind, k.Severity}] = 0
		}
		for _, f := range rep.Findings {
			counts[key{f.Kind, f.Severity}]++
		}
		keys := make([]key, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b key) int {
			return strings.Compare(string(a.kind)+" "+string(a.sev), string(b.kind)+" "+string(b.sev))
		})
		for _, k := range keys {
			add(families[4], float64(counts[k]), "context", r.Context, "kind", string(k.kind), "severity", string(k.sev))
		}
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if len(f.Metric) == 0 {
			continue
		}
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}

func family(name, help string) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: dto.MetricType_GAUGE.Enum()}
}
