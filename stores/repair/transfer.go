package repair

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/repair/backup"
	"statescope/stores/repair/snapshot"
)

// Export reads the whole store into a snapshot. Unreadable records are
// included with their stored bytes where the backend can hand them out.
func (e *Engine) Export(ctx context.Context, tool string) (*snapshot.Document, error) {
	entries, err := e.Store.List(ctx, stores.Filter{})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	doc := &snapshot.Document{
		Format: snapshot.Format, Source: e.Target, Tool: tool,
		ExportedAt: stores.FormatTime(e.Now()), Records: []snapshot.Record{},
	}
	for _, en := range entries {
		rec := snapshot.Record{ResourceID: en.ID, Source: en.Source}
		if en.State != nil {
			raw, err := stores.EncodeState(en.State)
			if err != nil {
				return nil, fmt.Errorf("export %q: %w", en.ID, err)
			}
			rec.State, rec.SHA256 = en.State, backup.SHA256(raw)
		} else {
			rec.Corrupt = en.Problem
			rec.Raw, rec.RawMissing = e.rawOf(ctx, en)
			if rec.Raw != nil {
				rec.SHA256 = backup.SHA256(rec.Raw)
			}
		}
		doc.Records = append(doc.Records, rec)
	}
	return doc, nil
}

// rawOf fetches an unreadable record's stored bytes: from the backend's
// versioned read where it returns them, or from the file a filesystem
// store listed (also behind wrappers with Unwrap). Otherwise it says why they are missing.
func (e *Engine) rawOf(ctx context.Context, en stores.Entry) ([]byte, string) {
	if cs, ok := stores.Unwrap(e.Store).(stores.ConditionalStore); ok {
		if v, _ := cs.GetVersioned(ctx, en.ID); len(v.Raw) > 0 {
			return v.Raw, ""
		}
	}
	if fs, ok := unwrapTo[*filesystem.Store](e.Store); ok && filepath.Dir(en.Source) == filepath.Clean(fs.Dir()) {
		raw, err := filesystem.ReadFile(en.Source)
		if err != nil {
			return nil, "reading " + en.Source + ": " + err.Error()
		}
		return raw, ""
	}
	return nil, "this backend does not hand out the bytes of an unreadable record; copy it from " + en.Source + " by hand"
}

// unwrapTo finds a T among s and the stores it wraps, following
// Unwrap() stores.Store.
func unwrapTo[T stores.Store](s stores.Store) (T, bool) {
	for s != nil {
		if t, ok := s.(T); ok {
			return t, true
		}
		u, ok := s.(interface{ Unwrap() stores.Store })
		if !ok {
			break
		}
		s = u.Unwrap()
	}
	var zero T
	return zero, false
}

// Skip is a snapshot record an import leaves alone, and why.
type Skip struct {
	ID     string
	Reason string
	// Refused: skipped for safety (the store's copy may be newer, or
	// cannot be backed up), not because there was nothing to do.
	Refused bool
}

// PlanImport plans writing a snapshot's records into the store. A record
// the store holds a newer copy of (by updated_at), or one whose age
// cannot be compared, or an unreadable one (replaced only after its bytes
// are backed up), is skipped unless force; identical records and
// unreadable snapshot records are skipped always. Plans come sorted by ID.
func (e *Engine) PlanImport(ctx context.Context, doc *snapshot.Document, force bool) ([]*Plan, []Skip, error) {
	var plans []*Plan
	var skips []Skip
	recs := append([]snapshot.Record(nil), doc.Records...)
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].ResourceID < recs[j].ResourceID })
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.ResourceID] {
			skips = append(skips, Skip{ID: r.ResourceID, Reason: "appears more than once in the snapshot; only the first is imported", Refused: true})
			continue
		}
		seen[r.ResourceID] = true
		if r.State == nil {
			skips = append(skips, Skip{ID: r.ResourceID, Reason: "unreadable in the snapshot (" + r.Corrupt + "); its bytes stay in the snapshot file", Refused: true})
			continue
		}
		cur, err := e.Observe(ctx, r.ResourceID)
		if errors.Is(err, stores.ErrCorrupt) {
			skips = append(skips, Skip{ID: r.ResourceID, Reason: "unreadable in the store, and this backend cannot hand out its bytes to back them up; repair it by hand", Refused: true})
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("import %q: %w", r.ResourceID, err)
		}
		// Written in the stored record's layout, so only what differs changes.
		p := &Plan{Action: ActionImport, ID: r.ResourceID, Seen: cur, Want: r.State.WithLayoutOf(cur.State)}
		switch {
		case cur.Corrupt != "" && !force:
			skips = append(skips, Skip{ID: r.ResourceID, Reason: "unreadable in the store; use --force to replace it (its bytes are backed up first)", Refused: true})
			continue
		case cur.Corrupt != "":
			p.Notes = append(p.Notes, "forced: replaces an unreadable record")
		case cur.Exists:
			if cur.State.Equal(r.State) {
				skips = append(skips, Skip{ID: r.ResourceID, Reason: "identical in the store"})
				continue
			}
			if why := newerInStore(cur.State, r.State); why != "" {
				if !force {
					skips = append(skips, Skip{ID: r.ResourceID, Reason: why + "; use --force to overwrite it", Refused: true})
					continue
				}
				p.Notes = append(p.Notes, "forced: "+why)
			}
		}
		plans = append(plans, p)
	}
	return plans, skips, nil
}

// newerInStore says why the store's copy must not be overwritten by the
// snapshot's, or "" when the snapshot's is newer.
func newerInStore(store, snap *stores.State) string {
	st, okS := stores.ParseTime(store.UpdatedAt)
	sn, okN := stores.ParseTime(snap.UpdatedAt)
	switch {
	case !okS || !okN:
		return fmt.Sprintf("updated_at cannot be compared (store %q, snapshot %q)", store.UpdatedAt, snap.UpdatedAt)
	case st.After(sn):
		return fmt.Sprintf("newer in the store (updated_at %s) than in the snapshot (%s)", store.UpdatedAt, snap.UpdatedAt)
	case st.Equal(sn):
		return fmt.Sprintf("differs from the snapshot but has the same updated_at %s, so which is newer is unknown", store.UpdatedAt)
	}
	return ""
}

// SkipReport lists skipped records one per line.
func SkipReport(skips []Skip) string {
	var b strings.Builder
	for _, s := range skips {
		fmt.Fprintf(&b, "skipped %s: %s\n", s.ID, s.Reason)
	}
	return b.String()
}
