package tui

import (
	"context"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"

	"statescope/stores"
)

// maxCoalesce bounds how many streamed rows one message carries, so the
// table fills promptly but a fast store is not delivered row by row.
const maxCoalesce = 4096

// rowsMsg is one streamed batch of a list load; next reads the batch after
// it (nil once done).
type rowsMsg struct {
	gen  int
	rows []stores.Row
	done bool
	err  error
	next tea.Cmd
}

type streamItem struct {
	rows []stores.Row
	done bool
	err  error
}

// streamRows lists s's rows (stores.ListRows: only what a table holds,
// never whole records) in a goroutine that feeds a channel; the command
// delivers the first batch and each message carries the command for the
// next. known offers the rows of the last load for the store to reuse
// where a record's version is unchanged (nil for none). The goroutine ends
// when the list does or ctx is cancelled, whether or not anyone reads on.
func streamRows(ctx context.Context, gen int, s stores.Store, known func(source, version string) (stores.Row, bool)) tea.Cmd {
	return func() tea.Msg {
		ch := make(chan streamItem, 4)
		go func() {
			defer close(ch)
			err := stores.ListRows(ctx, s, stores.Filter{}, known, func(batch []stores.Row) error {
				select {
				case ch <- streamItem{rows: batch}:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			select {
			case ch <- streamItem{done: true, err: err}:
			case <-ctx.Done():
			}
		}()
		return readBatch(ctx, gen, ch)()
	}
}

func readBatch(ctx context.Context, gen int, ch <-chan streamItem) tea.Cmd {
	return func() tea.Msg {
		msg := rowsMsg{gen: gen}
		select {
		case it, ok := <-ch:
			if !ok {
				return rowsMsg{gen: gen, done: true, err: ctx.Err()}
			}
			msg.rows, msg.done, msg.err = append([]stores.Row(nil), it.rows...), it.done, it.err
		case <-ctx.Done():
			return rowsMsg{gen: gen, done: true, err: ctx.Err()}
		}
	drain:
		for !msg.done && len(msg.rows) < maxCoalesce {
			select {
			case it, ok := <-ch:
				if !ok {
					msg.done, msg.err = true, ctx.Err()
					break drain
				}
				msg.rows = append(msg.rows, it.rows...)
				msg.done, msg.err = it.done, it.err
			default:
				break drain
			}
		}
		if !msg.done {
			msg.next = readBatch(ctx, gen, ch)
		}
		return msg
	}
}

// locksMsg is a judged lock inventory.
type locksMsg struct {
	gen   int
	locks []stores.LockInfo
	err   error
	// unsupported: the store has no lock inventory; why says so in the
	// backend's words when it gave any (a remote backend without the
	// LockAdmin service).
	unsupported bool
	why         error
}

func loadLocks(ctx context.Context, gen int, s stores.Store, now time.Time, staleAfter time.Duration) tea.Cmd {
	return func() tea.Msg {
		ll, ok := s.(stores.LockLister)
		if !ok {
			return locksMsg{gen: gen, unsupported: true}
		}
		locks, err := ll.Locks(ctx)
		if errors.Is(err, stores.ErrUnsupported) {
			return locksMsg{gen: gen, unsupported: true, why: err}
		}
		if err != nil {
			return locksMsg{gen: gen, err: err}
		}
		stores.Judge(locks, now, staleAfter)
		return locksMsg{gen: gen, locks: locks}
	}
}

// quiet treats cancellation as "nothing to report": a load cancelled
// because the operator moved on is not an error.
func quiet(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// knownRows offers rows of the last load to a refresh: the row at a source
// is reused when the store lists the record at the version it was read at.
func knownRows(rows []stores.Row) func(source, version string) (stores.Row, bool) {
	bySource := make(map[string]stores.Row, len(rows))
	for _, r := range rows {
		if r.Version != "" {
			bySource[r.Source] = r
		}
	}
	if len(bySource) == 0 {
		return nil
	}
	return func(source, version string) (stores.Row, bool) {
		r, ok := bySource[source]
		return r, ok && r.Version == version
	}
}
