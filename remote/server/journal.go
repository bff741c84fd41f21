package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"statescope/remote/auth"
	"statescope/stores"
	"statescope/stores/redact"
	"statescope/stores/repair"
	"statescope/stores/repair/audit"
	"statescope/stores/repair/backup"
)

// journal keeps what a local mutation keeps, for mutations that arrive over
// the wire: backups before destructive calls and one audit line per
// mutating call, naming the caller the guard admitted.
type journal struct {
	// err is why there is nowhere to keep backups and the audit log; every
	// mutation is refused with it.
	err          error
	stateDir     string
	backups      backup.Dir
	log          audit.Log
	backupWrites bool
	now          func() time.Time
}

func newJournal(opts Options) *journal {
	dir := opts.StateDir
	if dir == "" {
		var err error
		if dir, err = repair.DefaultStateDir(); err != nil {
			return &journal{err: fmt.Errorf("refused: no place for backups and the audit log: %w", err)}
		}
	}
	e := repair.New(nil, "", dir)
	return &journal{stateDir: dir, backups: e.Backups, log: e.Audit, backupWrites: opts.BackupWrites, now: time.Now}
}

// change is one mutating call: what the audit line records.
type change struct {
	op, id         string
	before, after  string
	backup         string
	err            error
	caller, target string
}

// record appends the audit line. A failure to write it cannot undo the
// call, so it is logged where the server's operator sees it.
func (s *Server) record(c change) {
	host, _ := os.Hostname()
	e := audit.Entry{
		Time: s.journal.now().UTC(), Actor: c.caller + " via statescope serve on " + host, Target: c.target,
		Action: c.op, Resource: c.id, Before: c.before, After: c.after, Backup: c.backup, Result: audit.ResultApplied,
	}
	if c.err != nil {
		e.Result, e.Error = audit.ResultFailed, redact.Text(c.err.Error())
		if errors.Is(c.err, stores.ErrLockChanged) || errors.Is(c.err, stores.ErrNotLocked) || errors.Is(c.err, stores.ErrConflict) {
			e.Result = audit.ResultRefused
		}
	}
	if err := s.journal.log.Append(e); err != nil {
		s.log.Printf("%s %q by %s: AUDIT LOG NOT WRITTEN: %v", c.op, c.id, c.caller, err)
	}
}

func (b *backend) auditTarget() string {
	if b.target != "" {
		return repair.TargetName(b.target)
	}
	return stores.Describe(b.store)
}

// changeRecord runs a SaveState or DeleteState: it reads the record first
// for its hash, backs it up when asked (a failed backup aborts), writes,
// reads the result's hash and audits. write gets the version read, for a
// compare-and-swap where the store has one.
func (s *Server) changeRecord(ctx context.Context, b *backend, op, id string, backupFirst bool, write func(version string) error) error {
	c := change{op: op, id: id, caller: auth.Caller(ctx), target: b.auditTarget()}
	defer func() { s.record(c) }()
	eng := repair.New(b.store, c.target, s.journal.stateDir)
	seen, err := eng.Observe(ctx, id)
	switch {
	case err != nil && backupFirst:
		c.err = fmt.Errorf("nothing was changed because the record could not be read to back it up: %w", err)
		return c.err
	case err == nil:
		c.before = seen.SHA256
	}
	if backupFirst && seen.Exists {
		c.backup, err = s.journal.backups.Write(backup.Meta{
			Target: c.target, ResourceID: id, Kind: backup.KindRecord, Action: op, Version: seen.Version, Time: s.journal.now(),
		}, seen.Raw)
		if err != nil {
			c.err = fmt.Errorf("nothing was changed because the backup failed: %w", err)
			return c.err
		}
	}
	if c.err = write(seen.Version); c.err != nil {
		return c.err
	}
	if after, err := eng.Observe(ctx, id); err == nil {
		c.after = after.SHA256
	}
	return nil
}

// lockCall runs a Lock or Unlock and audits it; no record changes, so it
// has no hashes.
func (s *Server) lockCall(ctx context.Context, b *backend, op, id string, call func() error) error {
	c := change{op: op, id: id, caller: auth.Caller(ctx), target: b.auditTarget()}
	c.err = call()
	s.record(c)
	return c.err
}

// forceUnlock backs the lock up, releases it only if it still has token
// (the store's compare-and-swap) and audits, as `statescope unlock` does.
func (s *Server) forceUnlock(ctx context.Context, b *backend, fu stores.ForceUnlocker, id, token string) error {
	c := change{op: "ForceUnlock", id: id, caller: auth.Caller(ctx), target: b.auditTarget()}
	defer func() { s.record(c) }()
	if ll, ok := b.store.(stores.LockLister); ok {
		locks, err := ll.Locks(ctx)
		if err != nil {
			c.err = fmt.Errorf("nothing was released because the lock could not be read to back it up: %w", err)
			return c.err
		}
		for _, l := range locks {
			if l.ResourceID != id || l.Token != token {
				continue
			}
			raw := repair.LockBytes(l)
			c.before = backup.SHA256(raw)
			c.backup, err = s.journal.backups.Write(backup.Meta{
				Target: c.target, ResourceID: id, Kind: backup.KindLock, Action: string(repair.ActionRelease), Version: token, Time: s.journal.now(),
			}, raw)
			if err != nil {
				c.err = fmt.Errorf("nothing was released because the backup failed: %w", err)
				return c.err
			}
		}
	}
	c.err = fu.ForceUnlock(ctx, id, token)
	return c.err
}
