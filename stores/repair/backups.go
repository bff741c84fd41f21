package repair

import (
	"context"
	"errors"
	"slices"

	"golang.org/x/sync/errgroup"

	"statescope/stores"
	"statescope/stores/repair/backup"
)

// RecordNow says how a backed-up record stands now, against its newest
// backup.
type RecordNow string

const (
	// NowDeleted: no record has the ID now; a restore creates it.
	NowDeleted RecordNow = "deleted"
	// NowDiffers: the record differs from its newest backup (the usual
	// state after the change that backup was taken before).
	NowDiffers RecordNow = "differs"
	// NowSame: the record is byte for byte its newest backup.
	NowSame RecordNow = "same"
	// NowUnreadable: a record with the ID exists but cannot be decoded.
	NowUnreadable RecordNow = "unreadable"
	// NowUnknown: reading the record failed (BackedUp.Err says why).
	NowUnknown RecordNow = "unknown"
)

// BackedUp is one resource ID with record backups taken from this store.
type BackedUp struct {
	ID string
	// Backups are newest first.
	Backups []backup.Backup
	Now     RecordNow
	Err     error
}

// Newest is the most recent backup.
func (b BackedUp) Newest() backup.Backup { return b.Backups[0] }

// readers bounds the records StoreBackups reads at once.
const readers = 8

// StoreBackups lists every resource ID this store has record backups of,
// deleted records included, the most recently backed up first, each with
// how its record stands now. Only this store's backups are listed.
func (e *Engine) StoreBackups(ctx context.Context) ([]BackedUp, error) {
	all, err := e.Backups.ListStore(e.Target)
	if err != nil {
		return nil, err
	}
	var out []BackedUp
	at := map[string]int{}
	for _, b := range all {
		if b.Meta.Kind != backup.KindRecord {
			continue
		}
		i, seen := at[b.Meta.ResourceID]
		if !seen {
			i = len(out)
			at[b.Meta.ResourceID] = i
			out = append(out, BackedUp{ID: b.Meta.ResourceID})
		}
		out[i].Backups = append(out[i].Backups, b) // all is newest first
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readers)
	for i := range out {
		g.Go(func() error {
			out[i].Now, out[i].Err = e.standing(gctx, out[i])
			return gctx.Err()
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.Clip(out), nil
}

// standing reads b's record now and compares it with its newest backup.
func (e *Engine) standing(ctx context.Context, b BackedUp) (RecordNow, error) {
	o, err := e.Observe(ctx, b.ID)
	switch {
	case errors.Is(err, stores.ErrCorrupt):
		return NowUnreadable, nil
	case err != nil:
		return NowUnknown, err
	case !o.Exists:
		return NowDeleted, nil
	case o.Corrupt != "":
		return NowUnreadable, nil
	case o.SHA256 == b.Newest().Meta.SHA256:
		return NowSame, nil
	}
	return NowDiffers, nil
}
