package repair

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"statescope/stores"
	"statescope/stores/repair/backup"
)

// observeExisting reads a record that must exist; readable unless
// unreadable is allowed (delete can remove what it cannot decode).
func (e *Engine) observeExisting(ctx context.Context, id string, unreadable bool) (Observed, error) {
	o, err := e.Observe(ctx, id)
	if err != nil {
		return o, err
	}
	if !o.Exists || !unreadable {
		return o, o.Editable()
	}
	return o, nil
}

// Editable says why the observed record cannot be edited field by field
// (missing or unreadable), or nil.
func (o Observed) Editable() error {
	switch {
	case !o.Exists:
		return fmt.Errorf("%q: %w", o.ID, stores.ErrNotFound)
	case o.Corrupt != "":
		return unreadableErr(o)
	}
	return nil
}

func unreadableErr(o Observed) error {
	return fmt.Errorf("%s is unreadable, so it cannot be changed field by field; restore a backup, import a snapshot with --force, or rm it: %w", o.ID, stores.ErrCorrupt)
}

// PlanSetStatus plans a status change; reason is recorded in the audit
// log whatever the status. Setting error also records it in the error
// field, after the error text already there (the provider's, which is
// kept); any other status clears the field, as the engine does.
func (e *Engine) PlanSetStatus(ctx context.Context, id, status, reason string) (*Plan, error) {
	if err := CheckStatus(status, reason); err != nil {
		return nil, err
	}
	seen, err := e.observeExisting(ctx, id, false)
	if err != nil {
		return nil, err
	}
	want := seen.State.Clone()
	want.Status, want.Error = status, ""
	if status == stores.StatusError {
		want.Error = reason
		if prev := seen.State.Error; prev != "" {
			want.Error = prev + "; statescope set-status: " + reason
		}
	}
	want.UpdatedAt = stores.FormatTime(e.Now())
	p := &Plan{Action: ActionSetStatus, ID: id, Seen: seen, Want: want, Reason: reason}
	if status != stores.StatusError && strings.TrimSpace(reason) != "" {
		p.Notes = append(p.Notes, "the reason is recorded in the audit log; only status error stores one in the record")
	}
	return p, nil
}

// CheckStatus refuses a status workflow does not use, and error without a
// reason, before anything is read.
func CheckStatus(status, reason string) error {
	if !slices.Contains(stores.Statuses, status) {
		return fmt.Errorf("%q is not a workflow status (one of %s): %w", status, strings.Join(stores.Statuses, ", "), ErrInvalid)
	}
	if status == stores.StatusError && strings.TrimSpace(reason) == "" {
		return fmt.Errorf("setting status error needs a reason to record in the error field: %w", ErrInvalid)
	}
	return nil
}

// PlanEdit plans replacing the record the user saw with their edited
// version, written in the stored record's layout so only what they changed
// changes. An edit that leaves updated_at alone gets it set to now.
//
// An unreadable record is replaced by the edited record exactly as its
// text was saved: there is no layout of the old one to keep.
func (e *Engine) PlanEdit(seen Observed, edited *stores.State) (*Plan, error) {
	if seen.Exists && seen.Corrupt != "" {
		if err := Validate(seen.rawBase(), edited); err != nil {
			return nil, err
		}
		return &Plan{Action: ActionEdit, ID: seen.ID, Seen: seen, Want: edited.Exact(),
			Notes: []string{"the unreadable record is replaced by your text exactly as saved"}}, nil
	}
	if err := seen.Editable(); err != nil {
		return nil, err
	}
	if err := Validate(seen.State, edited); err != nil {
		return nil, err
	}
	if seen.State.Equal(edited) {
		return nil, ErrNoChange
	}
	want := edited.WithLayoutOf(seen.State)
	if want.UpdatedAt == seen.State.UpdatedAt {
		want.UpdatedAt = stores.FormatTime(e.Now())
	}
	return &Plan{Action: ActionEdit, ID: seen.ID, Seen: seen, Want: want}, nil
}

// PlanDelete plans deleting a record. It refuses with a DependentsError
// while other records list it in their dependencies, unless force.
func (e *Engine) PlanDelete(ctx context.Context, id string, force bool) (*Plan, error) {
	seen, err := e.observeExisting(ctx, id, true)
	if err != nil {
		return nil, err
	}
	deps, err := e.dependents(ctx, id)
	if err != nil {
		return nil, err
	}
	p := &Plan{Action: ActionDelete, ID: id, Seen: seen}
	if len(deps) > 0 {
		if !force {
			return nil, &DependentsError{ID: id, Dependents: deps}
		}
		p.Notes = append(p.Notes, fmt.Sprintf("forced: %s still list %s in their dependencies", strings.Join(deps, ", "), id))
	}
	return p, nil
}

// dependents lists the records whose dependencies name id, sorted, from
// the store's rows (no record's outputs or config are read).
func (e *Engine) dependents(ctx context.Context, id string) ([]string, error) {
	var out []string
	err := stores.ListRows(ctx, e.Store, stores.Filter{}, nil, func(batch []stores.Row) error {
		for _, r := range batch {
			if r.Readable && r.ID != id && slices.Contains(r.Dependencies, id) {
				out = append(out, r.ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking for records that depend on %q: %w", id, err)
	}
	sort.Strings(out)
	return out, nil
}

// RecordBackups lists the record backups of id in this store, newest first.
func (e *Engine) RecordBackups(id string) ([]backup.Backup, error) {
	all, err := e.Backups.List(e.Target, id)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(b backup.Backup) bool { return b.Meta.Kind != backup.KindRecord }), nil
}

// PlanRestore plans bringing back a backup of id: the newest when path is
// "", else the one at path (a path, or a file name among id's backups).
// The record it replaces is backed up in turn, so a restore can be undone.
func (e *Engine) PlanRestore(ctx context.Context, id, path string) (*Plan, backup.Backup, error) {
	chosen, err := e.pickBackup(id, path)
	if err != nil {
		return nil, backup.Backup{}, err
	}
	b, data, err := backup.Read(chosen)
	if err != nil {
		return nil, b, err
	}
	if b.Meta.Kind != backup.KindRecord || b.Meta.ResourceID != id {
		return nil, b, fmt.Errorf("%s is a %s backup of %q, not a record backup of %q: %w", chosen, b.Meta.Kind, b.Meta.ResourceID, id, ErrInvalid)
	}
	want, err := stores.DecodeState(data)
	if err != nil {
		return nil, b, fmt.Errorf("backup %s is not a readable record: %w", chosen, err)
	}
	if want.ResourceID != id {
		return nil, b, fmt.Errorf("backup %s holds %q, not %q: %w", chosen, want.ResourceID, id, ErrInvalid)
	}
	seen, err := e.Observe(ctx, id)
	if err != nil {
		return nil, b, err
	}
	if seen.Exists && seen.SHA256 == b.Meta.SHA256 {
		return nil, b, fmt.Errorf("%s already matches backup %s: %w", id, chosen, ErrNoChange)
	}
	p := &Plan{Action: ActionRestore, ID: id, Seen: seen, Want: want.Exact()}
	if b.Meta.Target != e.Target {
		p.Notes = append(p.Notes, "the backup was taken from another store, "+b.Meta.Target)
	}
	if !seen.Exists {
		p.Notes = append(p.Notes, id+" does not exist now; the restore recreates it, only if no record has the ID when it is written")
	}
	return p, b, nil
}

func (e *Engine) pickBackup(id, path string) (string, error) {
	if path != "" && strings.ContainsRune(path, filepath.Separator) {
		return path, nil
	}
	list, err := e.RecordBackups(id)
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		return "", fmt.Errorf("no backups of %q from %s: %w", id, e.Target, stores.ErrNotFound)
	}
	if path == "" {
		return list[0].Path, nil
	}
	for _, b := range list {
		if filepath.Base(b.Path) == path {
			return b.Path, nil
		}
	}
	return "", fmt.Errorf("no backup named %s among those of %q (see --list): %w", path, id, stores.ErrNotFound)
}
