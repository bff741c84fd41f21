package tui

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"statescope/keymap"
	"statescope/stores"
	"statescope/stores/check"
	ptext "statescope/stores/printable"
	"statescope/stores/redact"
	"statescope/stores/repair"
	"statescope/tui/grid"
)

// findingsView is `statescope check` for the current store: every
// finding, worst first, with its repair one key away through the same
// dialogs the other views use.
type findingsView struct {
	scope
	env  *env
	keys keymap.Findings
	table[check.Finding]

	report  *check.Report
	confirm *confirmRelease
}

func newFindingsView(e *env) *findingsView {
	st := &e.styles
	g := grid.New([]grid.Column[check.Finding]{
		{Title: "SEVERITY", MaxWidth: 9, Text: func(f check.Finding) string { return string(f.Severity) },
			Style:   func(f check.Finding) *lipgloss.Style { return st.SeverityStyle(f.Severity) },
			Compare: func(a, b check.Finding) int { return cmp.Compare(a.Severity.Rank(), b.Severity.Rank()) }},
		// The kind is never cut and the IDs keep their share; the evidence
		// column, whole under the table for the selected finding, goes
		// first when narrow.
		{Title: "KIND", Whole: true, Text: func(f check.Finding) string { return string(f.Kind) }},
		{Title: "RESOURCES", Flex: true, Middle: true, MinWidth: 16, Text: func(f check.Finding) string { return strings.Join(f.Resources, ", ") }},
		{Title: "EVIDENCE", MinWidth: 20, Drop: 1, Text: func(f check.Finding) string { return redact.Text(f.Evidence) }},
	}, findingKey, func(f check.Finding) []string {
		return append([]string{string(f.Kind), string(f.Severity)}, f.Resources...)
	}, st.Grid)
	return &findingsView{env: e, keys: e.keys.Findings, table: newTable(g, func(f check.Finding) (string, string) { return f.Repair, "repair command" })}
}

// notRecords are the kinds whose resource is no record (a lock's ID no
// record has, a directory, a stray file): enter has nothing to open.
var notRecords = map[check.Kind]bool{check.LockWithoutRecord: true, check.MixedLayout: true, check.TempFile: true, check.NotRegularFile: true}

func findingKey(f check.Finding) string {
	return string(f.Kind) + "\x00" + strings.Join(f.Resources, "\x00") + "\x00" + f.Source
}

// SeverityStyle colours a finding's severity.
func (s *Styles) SeverityStyle(sev check.Severity) *lipgloss.Style {
	switch sev {
	case check.Critical:
		return &s.Error
	case check.Warning:
		return &s.Warn
	}
	return &s.Info
}

func (v *findingsView) Title() string     { return "findings" }
func (v *findingsView) Keys() help.KeyMap { return v.keys }
func (v *findingsView) Capturing() bool   { return v.filter.typing || v.confirm != nil }
func (v *findingsView) Leave()            {}
func (v *findingsView) Enter() tea.Cmd    { return v.load() }

// evidenceLines is the room under the table for the selected finding's
// evidence, which its column cuts.
const evidenceLines = 3

func (v *findingsView) SetSize(w, h int) {
	v.scope.SetSize(w, h)
	v.grid.SetSize(w, max(h-4-evidenceLines, 2))
}

func (v *findingsView) load() tea.Cmd {
	v.loading, v.err = true, nil
	s, opt := v.env.session.Store, v.env.checkOptions(v.env.session.Name)
	// Not a context of the fleet (--store, --infra): the session's own
	// target and flags, so a repair names this store, never the current
	// context's.
	if opt.Select == nil {
		opt.Target, opt.Select = v.env.session.Target, v.env.session.Args
	}
	return fetch(&v.scope, func(ctx context.Context) (*check.Report, error) { return check.Run(ctx, s, opt) })
}

// Paste goes to the confirmation or the filter being typed.
func (v *findingsView) Paste(text string) tea.Cmd {
	if v.confirm != nil {
		v.confirm.typed.paste(text)
		return nil
	}
	return v.tag(v.filter.paste(text, v.grid))
}

func (v *findingsView) Update(msg tea.Msg) tea.Cmd {
	if press, ok := msg.(tea.KeyPressMsg); ok && v.confirm != nil {
		return v.env.answerRelease(&v.confirm, press)
	}
	k := v.keys
	if cmd, ok := v.update(msg, v.env.keys.Input, tableKeys{Motion: k.Motion, Filter: k.Filter, Sort: k.Sort, Reverse: k.Reverse}); ok {
		return v.tag(cmd)
	}
	switch msg := msg.(type) {
	case loaded[*check.Report]:
		if !v.current(msg.gen) {
			return nil
		}
		v.loading, v.loaded, v.err = false, true, quiet(msg.err)
		if msg.err == nil {
			v.report = msg.value
			return v.tag(v.grid.SetItems(msg.value.Findings))
		}
	case storeChangedMsg:
		return v.load()
	case tea.KeyPressMsg:
		f, selected := v.grid.Selected()
		switch {
		case key.Matches(msg, k.Refresh):
			return v.env.retry(v.err, v.load)
		case key.Matches(msg, k.Open) && selected && notRecords[f.Kind]:
			return showStatus(fmt.Sprintf("%s: %s is no record to open", f.Kind, f.Resources[0]), false)
		case key.Matches(msg, k.Open) && selected:
			return v.env.router.push(newDetailView(v.env, stores.Row{ID: f.Resources[0]}))
		case key.Matches(msg, k.Copy) && selected && f.Repair == "":
			return showStatus("no repair command to copy: "+string(f.Kind)+" needs a person to decide", false)
		case key.Matches(msg, k.Copy) && selected:
			return v.copyRow()
		case keymap.Pressed(msg, k.Repair) && selected:
			return v.repair(f)
		}
	}
	return nil
}

// repair opens the dialog that repairs f: the force-release confirmation
// for a lock, the set-status plan for a stuck or failed record, the editor
// for a record whose content is wrong. Each refuses on a read-only store
// as it does everywhere else.
func (v *findingsView) repair(f check.Finding) tea.Cmd {
	e, id := v.env, f.Resources[0]
	switch f.Kind {
	case check.OrphanedLock, check.StaleLock, check.IdleTransactionLock, check.LockWithoutRecord:
		if refused := e.refuse("force release", e.keys.Locks.ForceUnlock); refused != nil {
			return refused
		}
		for _, l := range v.report.Inventory {
			if l.ResourceID == id && l.Token == f.Token && f.Token != "" && l.Unproven == "" {
				var cmd tea.Cmd
				v.confirm, cmd = e.askRelease(l)
				return cmd
			}
		}
	case check.StuckRecord, check.ErrorRecord:
		status, reason := stores.StatusActive, ""
		if f.Kind == check.StuckRecord {
			status = stores.StatusError
			// Under an orphaned lock, set status would be refused until the
			// lock is released: recover does both, as u does elsewhere.
			for _, l := range v.report.Inventory {
				if l.ResourceID != id {
					continue
				}
				if recoverable(true, &l) && l.Unproven == "" {
					return e.openRecover(id, v.keys.Repair)
				}
				// As the check says: set status is refused while it is held.
				return showStatus(fmt.Sprintf("%s is still locked (%s): set its status once the lock is released or ends", ptext.Escape(id), l.Verdict), false)
			}
			// The reason the repair command shown gives.
			for _, r := range v.report.Rows {
				if r.ID == id {
					reason = stores.StuckReason(r.Status)
				}
			}
		}
		if refused := e.refuse("set status", e.keys.Detail.SetStatus); refused != nil {
			return refused
		}
		return e.router.push(newPlanView(e, repair.ActionSetStatus, id, func(ctx context.Context, eng *repair.Engine, _ bool) (*repair.Plan, error) {
			return eng.PlanSetStatus(ctx, id, status, reason)
		}))
	case check.CorruptRecord, check.DanglingDependency, check.DependencyCycle, check.DestroyedDependency:
		d := newDetailView(e, stores.Row{ID: id})
		cmd := e.router.push(d)
		return tea.Batch(cmd, d.startEdit(false))
	}
	if f.Repair != "" {
		where := "this repair runs outside statescope"
		if strings.HasPrefix(f.Repair, "statescope ") {
			where = "this repair is not carried out here (see the evidence)"
		}
		return showStatus(fmt.Sprintf("%s; %s copies it: %s", where, v.keys.Copy.Help().Key, f.Repair), false)
	}
	return showStatus("no repair to run: "+string(f.Kind)+" needs a person to decide", false)
}

func (v *findingsView) Render() string {
	st := v.env.styles
	var b strings.Builder
	switch {
	case v.err != nil:
		b.WriteString(loadFailed(st, "check failed", v.err, v.width))
	case v.confirm != nil:
		b.WriteString(v.confirm.view(st, v.env.now(), v.width))
	case !v.loaded:
		b.WriteString(st.Dim.Render("checking the store…"))
	case v.grid.Len() == 0 && sum(v.report.Records) == 0:
		b.WriteString(v.summary() + "\n\n" + st.Dim.Render("no records in this store: nothing to check (is the target the one you meant?)"))
	case v.grid.Len() == 0:
		b.WriteString(v.summary() + "\n\n" + st.OK.Render("nothing wrong") + st.Dim.Render(" — no findings in this store"))
	default:
		b.WriteString(v.summary() + "\n" + v.grid.View())
		if f, ok := v.grid.Selected(); ok {
			b.WriteString("\n" + v.evidence(f))
			fix := st.Dim.Render("no repair command: a person has to decide")
			if f.Repair != "" {
				fix = st.Dim.Render("repair: ") + ptext.Escape(redact.Text(f.Repair))
			}
			b.WriteString("\n" + fix)
		}
	}
	return fit(b.String(), v.width, v.height-1) + "\n" + v.footer(st)
}

// evidence is f's evidence whole, wrapped, in at most evidenceLines.
func (v *findingsView) evidence(f check.Finding) string {
	lines := strings.Split(ansi.Wrap("evidence: "+ptext.Escape(redact.Text(f.Evidence)), v.width, " /,;"), "\n")
	if len(lines) > evidenceLines {
		lines = lines[:evidenceLines]
		last := &lines[evidenceLines-1]
		*last = ansi.Truncate(*last, v.width-1, "") + "…"
	}
	return v.env.styles.Dim.Render(strings.Join(lines, "\n"))
}

func (v *findingsView) summary() string {
	st := &v.env.styles
	n := v.report.Count()
	records := sum(v.report.Records)
	parts := []string{st.Bold.Render(fmt.Sprintf("%d findings", len(v.report.Findings)))}
	for _, sev := range check.Severities {
		if n[sev] > 0 {
			parts = append(parts, st.SeverityStyle(sev).Render(fmt.Sprintf("%s %d", sev, n[sev])))
		}
	}
	return strings.Join(parts, " · ") + st.Dim.Render(fmt.Sprintf("   %d records checked", records))
}
