// Package repair is statescope's safety engine: every change to a record
// or lock is planned, shown as a diff, confirmed, and then applied along
// one path that refuses to overwrite anything the user did not see, backs
// up what it replaces, takes the resource's lock, writes with the
// backend's compare-and-swap where it has one, and appends to an audit log.
//
// A front end (CLI or TUI) calls Plan* to get a Plan, shows Plan.Diff,
// asks, then calls Apply.
package repair

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"statescope/stores"
	"statescope/stores/redact"
	"statescope/stores/repair/audit"
	"statescope/stores/repair/backup"
	"statescope/stores/repair/editor"
	"statescope/stores/repair/private"
	"statescope/stores/shellcmd"
)

// Action names a kind of mutation in backups and the audit log; it is
// also the lock operation recorded while the action runs.
type Action string

const (
	ActionSetStatus Action = "set-status"
	ActionEdit      Action = "edit"
	ActionDelete    Action = "delete"
	ActionRestore   Action = "restore"
	ActionImport    Action = "import"
	ActionRelease   Action = "force-unlock"
	// ActionReleaseUnproven breaks whatever lock is current, for a lock
	// no token can prove (see stores.UnprovenUnlocker).
	ActionReleaseUnproven Action = "force-unlock-unproven"
)

// PauseEnv is a test hook: when it names a file, Apply creates that file
// after taking the lock and before writing, then waits for its context to
// end, so a crash test can kill the process at the worst moment.
const PauseEnv = "STATESCOPE_TEST_PAUSE_BEFORE_WRITE"

// Engine applies changes to one store.
type Engine struct {
	Store stores.Store
	// Target is the store's target, credentials removed (see TargetName).
	Target  string
	Backups backup.Dir
	Audit   audit.Log
	// Drafts holds edit buffers while an edit runs, and the drafts of
	// edits not applied.
	Drafts editor.Drafts
	Now    func() time.Time
	// StaleAfter judges lock holders shown in refusals.
	StaleAfter time.Duration
}

// New returns an engine keeping backups and the audit log under stateDir
// (see DefaultStateDir).
func New(s stores.Store, target, stateDir string) *Engine {
	return &Engine{
		Store:      s,
		Target:     target,
		Backups:    backup.Dir{Root: filepath.Join(stateDir, "backups")},
		Audit:      AuditLog(stateDir),
		Drafts:     editor.Drafts{Dir: filepath.Join(stateDir, "drafts")},
		Now:        time.Now,
		StaleAfter: stores.DefaultStaleAfter,
	}
}

// AuditLog is the audit log kept under stateDir.
func AuditLog(stateDir string) audit.Log {
	return audit.Log{Path: filepath.Join(stateDir, "audit.log")}
}

// DefaultStateDir is $XDG_STATE_HOME/statescope, or ~/.local/state/statescope.
func DefaultStateDir() (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no XDG_STATE_HOME and no home directory for backups: %w", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "statescope"), nil
}

// TargetName is how a target is recorded in backups and the audit log:
// credentials removed, and a local directory as an absolute file:// URL so
// the same store always gets the same name.
func TargetName(raw string) string {
	if t, err := stores.ParseTarget(raw); err == nil && t.Scheme == "file" {
		return "file://" + t.Path
	}
	return stores.RedactTarget(raw)
}

// Observed is a record as read at one moment.
type Observed struct {
	ID     string
	Exists bool
	State  *stores.State
	// Raw is the record's bytes as stored where the backend gives them,
	// else its canonical encoding.
	Raw []byte
	// Version is the backend's version (ETag, generation…), "" without
	// compare-and-swap.
	Version string
	SHA256  string
	// Corrupt says why the stored record is unreadable (State is nil then).
	Corrupt string
}

// Same reports whether two observations are of the same record content
// and version.
func (o Observed) Same(p Observed) bool {
	return o.Exists == p.Exists && o.SHA256 == p.SHA256 && o.Version == p.Version
}

func (o Observed) describe() string {
	if !o.Exists {
		return "absent"
	}
	s := "sha256 " + short(o.SHA256)
	if o.Corrupt != "" {
		s = "unreadable, " + s
	}
	if o.Version != "" {
		s += ", version " + o.Version
	}
	return s
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Pin refuses unless the record's hash is expect ("" pins nothing; a
// "sha256:" prefix is accepted).
func (o Observed) Pin(expect string) error {
	if expect == "" {
		return nil
	}
	if len(expect) > 7 && expect[:7] == "sha256:" {
		expect = expect[7:]
	}
	if expect != o.SHA256 {
		got := o.SHA256
		if !o.Exists {
			got = "(absent)"
		}
		return &PinError{ID: o.ID, Want: expect, Got: got}
	}
	return nil
}

// Observe reads a record with its version where the store has versions.
// A missing record is an Observed with Exists false, not an error. An
// unreadable record is an Observed with Corrupt set and no State when its
// stored bytes can be had (so it can be backed up and replaced), else an
// error wrapping stores.ErrCorrupt.
func (e *Engine) Observe(ctx context.Context, id string) (Observed, error) {
	o := Observed{ID: id}
	var err error
	if cs, ok := e.Store.(stores.ConditionalStore); ok {
		var v stores.Versioned
		v, err = cs.GetVersioned(ctx, id)
		o.State, o.Raw, o.Version = v.State, v.Raw, v.Version
	} else {
		o.State, err = e.Store.Get(ctx, id)
		if errors.Is(err, stores.ErrCorrupt) {
			o.Raw, _ = UnreadableBytes(ctx, e.Store, id)
		}
	}
	switch {
	case errors.Is(err, stores.ErrAmbiguous):
		return Observed{ID: id}, &StoreRefusal{err}
	case errors.Is(err, stores.ErrNotFound):
		return Observed{ID: id}, nil
	case errors.Is(err, stores.ErrCorrupt) && len(o.Raw) > 0:
		o.State, o.Corrupt = nil, err.Error()
	case err != nil:
		return Observed{ID: id}, err
	case o.State == nil:
		return Observed{ID: id}, fmt.Errorf("read %q: the store returned no record: %w", id, stores.ErrCorrupt)
	case len(o.Raw) == 0:
		if o.Raw, err = stores.EncodeState(o.State); err != nil {
			return Observed{ID: id}, fmt.Errorf("read %q: %w", id, err)
		}
	}
	o.Exists, o.SHA256 = true, backup.SHA256(o.Raw)
	return o, nil
}

// Plan is one change to one record, ready to show and apply.
type Plan struct {
	Action Action
	ID     string
	// Seen is the record as the user saw it; Apply refuses if it changed.
	Seen Observed
	// Want is the record to write; nil deletes it.
	Want *stores.State
	// Notes are warnings to show with the diff.
	Notes []string
	// Reason is why, as the user gave it; it goes to the audit log.
	Reason string
}

// Diff shows what Apply will change, secrets masked.
func (p *Plan) Diff() string {
	to := "after " + string(p.Action)
	if p.Want == nil {
		to = "deleted"
	}
	from := "current " + p.ID
	if !p.Seen.Exists {
		from += " (absent)"
	}
	d := Diff(from, to, p.Seen.State, p.Want)
	if p.Seen.Corrupt != "" {
		d = fmt.Sprintf("The current record is unreadable (%d bytes, sha256 %s): %s\nIts bytes are backed up before it is replaced.\n", len(p.Seen.Raw), p.Seen.SHA256, p.Seen.Corrupt) + d
	}
	return d
}

// Result says what Apply did.
type Result struct {
	// Backup is the backup file of the replaced record ("" when there was none).
	Backup string
	Before string
	After  string
}

// Apply carries out a plan along the safety path: re-read and compare with
// what the user saw, back up, lock, write (compare-and-swap where the
// store has it, else re-check right before writing), unlock, audit.
// It refuses (errors matching ErrRefused) without writing when anything
// differs from what the user saw or someone else holds the lock.
func (e *Engine) Apply(ctx context.Context, p *Plan) (Result, error) {
	if stores.IsReadOnly(e.Store) {
		return Result{}, fmt.Errorf("%s %q refused: %w", p.Action, p.ID, stores.ErrReadOnly)
	}
	if p.Want == nil && !p.Seen.Exists {
		return Result{}, fmt.Errorf("%s %q: there is no record to delete: %w", p.Action, p.ID, stores.ErrNotFound)
	}
	if p.Want != nil && p.Want.ResourceID != p.ID {
		return Result{}, fmt.Errorf("%s %q: the new record is for %q: %w", p.Action, p.ID, p.Want.ResourceID, ErrInvalid)
	}
	if err := e.preflight(p.Action, p.ID); err != nil {
		return Result{}, err
	}
	res := Result{Before: p.Seen.SHA256}
	err := e.apply(ctx, p, &res)
	return res, e.record(p.Action, p.ID, p.Reason, res, err)
}

// preflight refuses, before anything is written, a mutation the audit log
// could not record (its path is a link, not a file, or not writable).
func (e *Engine) preflight(action Action, id string) error {
	if err := e.Audit.Check(); err != nil {
		return fmt.Errorf("%s %q refused, nothing was written: %w (%w)", action, id, err, ErrRefused)
	}
	return nil
}

// backupFailed says a failed backup stopped the action; a backup path that
// is not statescope's own (a planted link) is a refusal.
func backupFailed(action Action, id, nothing string, err error) error {
	if errors.Is(err, private.ErrNotPrivate) {
		return fmt.Errorf("%s %q refused: %s because the backup failed: %w (%w)", action, id, nothing, err, ErrRefused)
	}
	return fmt.Errorf("%s %q: %s because the backup failed: %w", action, id, nothing, err)
}

func (e *Engine) apply(ctx context.Context, p *Plan, res *Result) (err error) {
	cur, err := e.Observe(ctx, p.ID)
	if err != nil {
		return fmt.Errorf("%s %q: reading it again: %w", p.Action, p.ID, err)
	}
	if !cur.Same(p.Seen) {
		return &ConflictError{ID: p.ID, Seen: p.Seen, Now: cur, Want: p.Want, Action: p.Action}
	}
	if cur.Exists {
		path, err := e.Backups.Write(backup.Meta{
			Target: e.Target, ResourceID: p.ID, Kind: backup.KindRecord,
			Action: string(p.Action), Version: cur.Version, Time: e.Now(),
		}, cur.Raw)
		if err != nil {
			return backupFailed(p.Action, p.ID, "nothing was written", err)
		}
		res.Backup = path
	}
	if err := stores.LockFor(ctx, e.Store, p.ID, string(p.Action)); err != nil {
		if errors.Is(err, stores.ErrLocked) {
			return &LockedError{ID: p.ID, Lock: e.lockHolder(ctx, p.ID), Err: err}
		}
		return fmt.Errorf("%s %q: taking the lock: %w; nothing was written", p.Action, p.ID, err)
	}
	defer func() {
		// Release even if ctx was cancelled: a left lock blocks everyone.
		uerr := e.Store.Unlock(context.WithoutCancel(ctx), p.ID)
		if uerr != nil {
			err = errors.Join(err, fmt.Errorf("releasing the lock on %q failed, so it is still held: %w (release it with `%s`)", p.ID, uerr, shellcmd.Line("unlock", p.ID)))
		}
	}()
	if err := pauseForTests(ctx); err != nil {
		return err
	}
	if err := e.write(ctx, p, cur); err != nil {
		if errors.Is(err, stores.ErrConflict) {
			return e.conflict(ctx, p)
		}
		return fmt.Errorf("%s %q: write failed: %w; %s", p.Action, p.ID, err, e.aftermath(ctx, p, cur, res.Backup))
	}
	after, err := e.Observe(ctx, p.ID)
	if err != nil {
		return fmt.Errorf("%s %q: written, but reading it back failed: %w", p.Action, p.ID, err)
	}
	res.After = after.SHA256
	return nil
}

// write is step 4: compare-and-swap against the version read in step 1, or
// on a store without it, one more read right before the unconditional write.
func (e *Engine) write(ctx context.Context, p *Plan, cur Observed) error {
	if cs, ok := e.Store.(stores.ConditionalStore); ok {
		if p.Want == nil {
			return cs.DeleteIf(ctx, p.ID, cur.Version)
		}
		return cs.SaveIf(ctx, p.Want, cur.Version)
	}
	again, err := e.Observe(ctx, p.ID)
	if err != nil {
		return err
	}
	if !again.Same(cur) {
		return stores.ErrConflict
	}
	if p.Want == nil {
		return e.Store.Delete(ctx, p.ID)
	}
	return e.Store.Save(ctx, p.Want)
}

// conflict builds the refusal with the record as it is now.
func (e *Engine) conflict(ctx context.Context, p *Plan) error {
	now, err := e.Observe(ctx, p.ID)
	return &ConflictError{ID: p.ID, Seen: p.Seen, Now: now, NowErr: err, Want: p.Want, Action: p.Action}
}

// aftermath says what state a failed write left the record in.
func (e *Engine) aftermath(ctx context.Context, p *Plan, cur Observed, backupPath string) string {
	kept := ""
	if backupPath != "" {
		kept = "; the previous record is backed up at " + backupPath
	}
	now, err := e.Observe(context.WithoutCancel(ctx), p.ID)
	switch {
	case err != nil:
		return "its state is unknown (reading it failed: " + err.Error() + ")" + kept
	case now.Same(cur):
		return "the record is unchanged" + kept
	case p.Want == nil && !now.Exists:
		return "the record was deleted nevertheless" + kept
	default:
		return "the record now has " + now.describe() + kept
	}
}

// Blocked reports a LockedError when the store's lock inventory shows id
// locked, so a front end can say so before asking for confirmation. Apply
// checks again by taking the lock; a store without an inventory gives nil.
func (e *Engine) Blocked(ctx context.Context, id string) error {
	if l := e.lockHolder(ctx, id); l != nil {
		return &LockedError{ID: id, Lock: l, Err: stores.ErrLocked}
	}
	return nil
}

// lockHolder finds who holds id's lock in the inventory, nil when unknown.
func (e *Engine) lockHolder(ctx context.Context, id string) *stores.LockInfo {
	ll, ok := e.Store.(stores.LockLister)
	if !ok {
		return nil
	}
	locks, err := ll.Locks(ctx)
	if err != nil {
		return nil
	}
	stores.Judge(locks, e.Now(), e.StaleAfter)
	for _, l := range locks {
		if l.Matches(id) {
			return &l
		}
	}
	return nil
}

// record appends the outcome to the audit log and returns err, joined with
// any failure to log it.
func (e *Engine) record(action Action, id, reason string, res Result, err error) error {
	entry := audit.Entry{
		Time: e.Now().UTC(), Actor: audit.Actor(), Target: e.Target,
		Action: string(action), Resource: id, Reason: redact.Text(reason),
		Before: res.Before, After: res.After, Backup: res.Backup,
		Result: audit.ResultApplied,
	}
	if err != nil {
		entry.Result = audit.ResultFailed
		if errors.Is(err, ErrRefused) {
			entry.Result = audit.ResultRefused
		}
		entry.Error = redact.Text(err.Error())
	}
	if aerr := e.Audit.Append(entry); aerr != nil {
		return errors.Join(err, fmt.Errorf("%s %q: the audit log could not be written: %w", action, id, aerr))
	}
	return err
}

func pauseForTests(ctx context.Context) error {
	path := os.Getenv(PauseEnv)
	if path == "" {
		return nil
	}
	if err := os.WriteFile(path, []byte(fmt.Sprint(os.Getpid())), 0o600); err != nil {
		return err
	}
	<-ctx.Done()
	return ctx.Err()
}
