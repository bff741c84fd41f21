// Package check is statescope's store-wide health check: it reads a
// store's records and locks once and reports every problem it finds, each
// with a kind, a severity, the resources, the evidence and the command that
// repairs it through statescope's safe path. It only reads.
package check

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/graph"
	"statescope/stores/shellcmd"
)

// Severity orders findings: critical needs a human now, warning soon,
// info is worth knowing.
type Severity string

const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// Severities lists the severities worst first.
var Severities = []Severity{Critical, Warning, Info}

// Rank is 0 for critical, 1 warning, 2 info; anything else sorts last.
func (s Severity) Rank() int {
	if i := slices.Index(Severities, s); i >= 0 {
		return i
	}
	return len(Severities)
}

// ParseSeverity reads a --fail-on value.
func ParseSeverity(s string) (Severity, error) {
	if slices.Contains(Severities, Severity(s)) {
		return Severity(s), nil
	}
	return "", fmt.Errorf("unknown severity %q (use critical, warning or info)", s)
}

// Kind names what is wrong.
type Kind string

const (
	OrphanedLock        Kind = "orphaned-lock"
	StaleLock           Kind = "stale-lock"
	LockWithoutRecord   Kind = "lock-without-record"
	IdleTransactionLock Kind = "idle-in-transaction-lock"
	TempFile            Kind = "temp-file"
	StuckRecord         Kind = "stuck-record"
	ErrorRecord         Kind = "error-record"
	CorruptRecord       Kind = "corrupt-record"
	NotRegularFile      Kind = "not-regular-file"
	DanglingDependency  Kind = "dangling-dependency"
	DependencyCycle     Kind = "dependency-cycle"
	DestroyedDependency Kind = "destroyed-dependency"
	DuplicateID         Kind = "duplicate-id"
	NameMismatch        Kind = "name-mismatch"
	MixedLayout         Kind = "mixed-layout"
	UnreadableTimestamp Kind = "unreadable-timestamp"
)

// Kinds lists every kind with the severity it usually has, for metrics
// that report zero as well as presence.
var Kinds = []struct {
	Kind     Kind
	Severity Severity
}{
	{OrphanedLock, Critical}, {StaleLock, Warning}, {LockWithoutRecord, Warning},
	{IdleTransactionLock, Critical}, {TempFile, Warning}, {StuckRecord, Warning},
	{ErrorRecord, Warning}, {CorruptRecord, Critical}, {NotRegularFile, Critical},
	{DanglingDependency, Warning}, {DependencyCycle, Warning}, {DestroyedDependency, Warning},
	{DuplicateID, Critical}, {NameMismatch, Warning}, {MixedLayout, Warning},
	{UnreadableTimestamp, Warning},
}

// Finding is one problem.
type Finding struct {
	Kind      Kind     `json:"kind"`
	Severity  Severity `json:"severity"`
	Resources []string `json:"resources"`
	Evidence  string   `json:"evidence"`
	// Source is where the problem lives (file, object, row, lock).
	Source string `json:"source,omitempty"`
	// Repair is the exact command that repairs it, empty when only a
	// human can decide.
	Repair string `json:"repair,omitempty"`
	// Token is the lock token a lock finding's repair names.
	Token string `json:"token,omitempty"`
}

// Options says how to judge and how to write repair commands.
type Options struct {
	Now        time.Time
	StaleAfter time.Duration
	// Target is the store's target as given (never printed): it tells the
	// object-store prefix and the PostgreSQL DSN the probes need.
	Target string
	// Select is appended to every statescope repair command so it acts on
	// this store, e.g. ["--context", "prod"].
	Select []string
	// Known offers the rows of an earlier check of this store (Report.Rows)
	// at their versions, so a re-check fetches only what changed
	// (stores.RowLister); nil reads everything.
	Known func(source, version string) (stores.Row, bool)
}

// Report is one store's check.
type Report struct {
	Findings []Finding
	// Records counts records by status; unreadable ones count as "corrupt".
	Records map[string]int
	// Locks counts locks by verdict; nil when the store has no inventory.
	Locks map[stores.Verdict]int
	// OldestLock is the age of the oldest lock whose age is known.
	OldestLock time.Duration
	// Inventory is the judged lock inventory the lock findings came from,
	// so a front end can confirm a release against the lock it showed.
	Inventory []stores.LockInfo
	// Graph is the dependency graph the graph checks used.
	Graph *graph.Graph
	// Rows are the records as listed, with their versions: what a re-check
	// offers as Options.Known.
	Rows []stores.Row
}

// Count returns how many findings have each severity.
func (r *Report) Count() map[Severity]int {
	n := map[Severity]int{}
	for _, f := range r.Findings {
		n[f.Severity]++
	}
	return n
}

// AtLeast reports whether any finding is at or above sev.
func (r *Report) AtLeast(sev Severity) bool {
	for _, f := range r.Findings {
		if f.Severity.Rank() <= sev.Rank() {
			return true
		}
	}
	return false
}

// Worst is the most severe finding's severity, or "" when there is none.
func (r *Report) Worst() Severity {
	var worst Severity
	for _, f := range r.Findings {
		if worst == "" || f.Severity.Rank() < worst.Rank() {
			worst = f.Severity
		}
	}
	return worst
}

// Run checks a store: one listing, one lock inventory, and the probes the
// store's kind allows. An error means the store could not be checked.
func Run(ctx context.Context, s stores.Store, opt Options) (*Report, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.StaleAfter <= 0 {
		opt.StaleAfter = stores.DefaultStaleAfter
	}
	c := &checker{opt: opt, report: &Report{Records: map[string]int{}}}
	inner := stores.Unwrap(s)
	fs, isFS := inner.(dirStore)
	var dir *dirScan
	if isFS {
		var err error
		if dir, err = scanDir(ctx, fs.Dir(), opt.Now); err != nil {
			return nil, err
		}
	}
	// Rows only: no check reads outputs or config (PostgreSQL: the server
	// does not even send them). Every check is independent of their order.
	rows, err := stores.AllRows(ctx, s, stores.Filter{}, opt.Known)
	if err != nil {
		return nil, err
	}
	c.report.Rows = rows
	var locks []stores.LockInfo
	if ll, ok := s.(stores.LockLister); ok {
		locks, err = ll.Locks(ctx)
		switch {
		case errors.Is(err, stores.ErrUnsupported):
			// No inventory after all (a wrapper, a stock plugin): no lock
			// findings, and no lock counts rather than zeros.
		case err != nil:
			return nil, err
		default:
			stores.Judge(locks, opt.Now, opt.StaleAfter)
			c.report.Locks, c.report.Inventory = map[stores.Verdict]int{}, locks
		}
	}
	// The filesystem store lists the temp files killed runs left beside
	// its locks; they are temp-file findings, not locks.
	var temps []stores.LockInfo
	locks = slices.DeleteFunc(slices.Clone(locks), func(l stores.LockInfo) bool {
		if isFS && strings.HasPrefix(filepath.Base(l.Source), tempPrefix) {
			temps = append(temps, l)
			return true
		}
		return false
	})
	// skip holds the sources of unreadable entries a more precise finding
	// already explains.
	skip := map[string]bool{}
	if dir != nil {
		c.dirFindings(dir, rows, temps, skip)
	}
	if slices.ContainsFunc(rows, stores.Row.Corrupt) {
		// Only an unreadable row can have an unreadable timestamp.
		if err := c.postgres(ctx, inner, skip); err != nil {
			return nil, err
		}
	}
	c.records(rows, locks, skip)
	c.locks(locks, rows)
	c.graph(rows)
	c.names(rows, nameRuleFor(inner, opt.Target))
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sortFindings(c.report.Findings)
	return c.report, nil
}

type checker struct {
	opt    Options
	report *Report
}

func (c *checker) add(f Finding) { c.report.Findings = append(c.report.Findings, f) }

// cmd is a statescope command acting on this store.
func (c *checker) cmd(args ...string) string {
	return shellcmd.Line(append(args, c.opt.Select...)...)
}

func (c *checker) records(rows []stores.Row, locks []stores.LockInfo, skip map[string]bool) {
	lockOf := make(map[string]stores.LockInfo, len(locks))
	for _, l := range locks {
		lockOf[l.ResourceID] = l
	}
	for _, r := range rows {
		// Another file claiming the ID is a duplicate-id finding (names).
		if r.Corrupt() && !(r.Readable && filesystem.OnlyConflict(r.Problem)) {
			c.report.Records["corrupt"]++
			if skip[r.Source] {
				continue
			}
			c.add(Finding{Kind: CorruptRecord, Severity: Critical, Resources: []string{r.ID}, Source: r.Source,
				Evidence: r.Problem, Repair: c.cmd("edit", r.ID)})
			continue
		}
		c.report.Records[r.Status]++
		switch {
		case r.IsStuck(c.opt.Now, c.opt.StaleAfter):
			c.add(c.stuck(r, lockOf))
		case r.Status == stores.StatusError:
			why := "status error"
			if r.Error != "" {
				why += ": " + r.Error
			}
			c.add(Finding{Kind: ErrorRecord, Severity: Warning, Resources: []string{r.ID}, Source: r.Source,
				Evidence: why + "; re-run the deploy, or once fixed by hand mark it active",
				Repair:   c.cmd("set-status", r.ID, stores.StatusActive)})
		}
	}
}

// stuck is a stuck record's finding. Its repair depends on its lock: set
// status is refused while one is held, so under an orphaned lock the repair
// is recover (release, then set status, each step checked again), and under
// any other lock there is none until that lock is dealt with.
func (c *checker) stuck(r stores.Row, lockOf map[string]stores.LockInfo) Finding {
	t, _ := stores.ParseTime(r.UpdatedAt)
	f := Finding{Kind: StuckRecord, Severity: Warning, Resources: []string{r.ID}, Source: r.Source,
		Evidence: fmt.Sprintf("%s since %s (%s ago, longer than %s): a run that ended midway left it", r.Status, r.UpdatedAt,
			stores.HumanDuration(c.opt.Now.Sub(t)), stores.HumanDuration(c.opt.StaleAfter))}
	l, locked := lockOf[r.ID]
	switch {
	case !locked:
		f.Repair = c.cmd("set-status", r.ID, stores.StatusError, "--reason", stores.StuckReason(r.Status))
	case l.Verdict == stores.VerdictOrphaned && l.Unproven == "":
		f.Evidence += "; its lock is orphaned: recover releases it, then sets the status"
		args := []string{"recover", r.ID}
		if l.Token != "" {
			args = append(args, "--token", l.Token)
		}
		f.Repair = c.cmd(args...)
	default:
		f.Evidence += fmt.Sprintf("; it is still locked (%s): its status can be set once the lock is released or ends (see the lock's finding)", l.Verdict)
	}
	return f
}

func (c *checker) locks(locks []stores.LockInfo, rows []stores.Row) {
	ids := make(map[string]bool, len(rows))
	for _, r := range rows {
		ids[r.ID] = true
	}
	for _, l := range locks {
		c.report.Locks[l.Verdict]++
		if age := l.Age(c.opt.Now); age > c.report.OldestLock {
			c.report.OldestLock = age
		}
		if strings.HasPrefix(l.ResourceID, "advisory-key:") {
			// Another application's advisory lock is none of ours to judge.
			c.add(Finding{Kind: LockWithoutRecord, Severity: Info, Resources: []string{l.ResourceID}, Source: l.Source,
				Evidence: "no record has this ID; " + l.Evidence})
			continue
		}
		f := Finding{Resources: []string{l.ResourceID}, Source: l.Source, Token: l.Token, Evidence: l.Evidence}
		switch {
		case l.Unproven != "":
			// A token that cannot name this lock instance is refused.
			f.Repair = c.cmd("unlock", l.ResourceID, "--unproven")
			f.Evidence += "; the token cannot prove it names this lock: " + l.Unproven
		case l.Token != "":
			f.Repair = c.cmd("unlock", l.ResourceID, "--token", l.Token)
		}
		switch {
		case l.Verdict == stores.VerdictOrphaned:
			f.Kind, f.Severity = OrphanedLock, Critical
		case idleInTransaction(l, c.opt.Now, c.opt.StaleAfter):
			f.Kind, f.Severity = IdleTransactionLock, Critical
			f.Evidence = fmt.Sprintf("held by a session idle in transaction since %s, longer than %s; %s",
				l.Holder.Details["since"], stores.HumanDuration(c.opt.StaleAfter), l.Evidence)
		case l.Verdict == stores.VerdictStale:
			f.Kind, f.Severity = StaleLock, Warning
		}
		if f.Kind != "" {
			c.add(f)
		}
		if l.NoRecord || !ids[l.ResourceID] {
			c.add(Finding{Kind: LockWithoutRecord, Severity: Warning, Resources: []string{l.ResourceID}, Source: l.Source,
				Token: l.Token, Repair: f.Repair, Evidence: "no record has this ID; " + l.Evidence})
		}
	}
}

// idleInTransaction: a PostgreSQL session holding the lock has sat in an
// open transaction for longer than the threshold.
func idleInTransaction(l stores.LockInfo, now time.Time, threshold time.Duration) bool {
	if l.Holder == nil || !strings.HasPrefix(l.Holder.Details["state"], "idle in transaction") {
		return false
	}
	since, ok := stores.ParseTime(l.Holder.Details["since"])
	return ok && now.Sub(since) > threshold
}

func (c *checker) graph(rows []stores.Row) {
	g := graph.FromRows(rows)
	c.report.Graph = g
	for _, e := range g.Edges {
		if e.Dangling {
			c.add(Finding{Kind: DanglingDependency, Severity: Warning, Resources: []string{e.From, e.To},
				Evidence: fmt.Sprintf("%s depends on %s, which no record has", e.From, e.To), Repair: c.cmd("edit", e.From)})
		}
	}
	for _, cycle := range g.Cycles {
		c.add(Finding{Kind: DependencyCycle, Severity: Warning, Resources: cycle,
			Evidence: "dependency cycle: " + strings.Join(append(slices.Clone(cycle), cycle[0]), " → "),
			Repair:   c.cmd("edit", cycle[0])})
	}
	for _, n := range g.Nodes {
		if n.Status != stores.StatusDestroyed {
			continue
		}
		for _, e := range g.Dependents(n.ID) {
			from, _ := g.Node(e.From)
			if from.Status == stores.StatusDestroyed {
				continue
			}
			c.add(Finding{Kind: DestroyedDependency, Severity: Warning, Resources: []string{e.From, n.ID},
				Evidence: fmt.Sprintf("%s (%s) depends on %s, which is destroyed", e.From, cmpOr(from.Status, "no status"), n.ID),
				Repair:   c.cmd("edit", e.From)})
		}
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if d := a.Severity.Rank() - b.Severity.Rank(); d != 0 {
			return d
		}
		return cmp.Or(strings.Compare(string(a.Kind), string(b.Kind)), slices.Compare(a.Resources, b.Resources),
			strings.Compare(a.Source, b.Source), strings.Compare(a.Evidence, b.Evidence))
	})
}
