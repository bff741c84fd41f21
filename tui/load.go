package tui

import (
	"context"
	"errors"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"statescope/stores"
)

// maxCoalesce bounds how many streamed rows one message carries, so one
// Update never appends an unbounded amount.
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

// rowFeed collects a listing's rows as the store yields them, for the
// commands that hand them to the view. The first rows go out at once;
// after that a message waits until it carries an eighth of what the table
// already has (up to maxCoalesce) or the listing ended, so a table of n
// rows fills in O(log n) messages, not thousands of tiny ones each costing
// an append over the whole table.
type rowFeed struct {
	mu        sync.Mutex
	rows      []stores.Row
	delivered int
	done      bool
	err       error
	ready     chan struct{} // signalled when rows or the end arrive
}

func (f *rowFeed) add(rows []stores.Row, done bool, err error) {
	f.mu.Lock()
	f.rows = append(f.rows, rows...)
	f.done, f.err = done, err
	f.mu.Unlock()
	select {
	case f.ready <- struct{}{}:
	default:
	}
}

// take returns what has been collected, and whether a message is due:
// enough rows, or the end.
func (f *rowFeed) take() (rows []stores.Row, done bool, err error, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.done && len(f.rows) < max(1, min(maxCoalesce, f.delivered/8)) {
		return nil, false, nil, false
	}
	n := min(len(f.rows), maxCoalesce)
	f.delivered += n
	// The rows handed out are never written again: appends go past them.
	rows, f.rows = f.rows[:n:n], f.rows[n:]
	done = f.done && len(f.rows) == 0
	return rows, done, f.err, n > 0 || done
}

// streamRows lists s's rows (stores.ListRows: only what a table holds,
// never whole records) in a goroutine that feeds a rowFeed; the command
// delivers the first batch and each message carries the command for the
// next. known offers the rows of the last load for the store to reuse
// where a record's version is unchanged (nil for none). The goroutine ends
// when the list does or ctx is cancelled, whether or not anyone reads on.
func streamRows(ctx context.Context, gen int, s stores.Store, known func(source, version string) (stores.Row, bool)) tea.Cmd {
	return func() tea.Msg {
		f := &rowFeed{ready: make(chan struct{}, 1)}
		go func() {
			err := stores.ListRows(ctx, s, stores.Filter{}, known, func(batch []stores.Row) error {
				f.add(batch, false, nil)
				return ctx.Err()
			})
			f.add(nil, true, err)
		}()
		return readBatch(ctx, gen, f)()
	}
}

func readBatch(ctx context.Context, gen int, f *rowFeed) tea.Cmd {
	return func() tea.Msg {
		for {
			if rows, done, err, ok := f.take(); ok {
				msg := rowsMsg{gen: gen, rows: rows, done: done}
				if done {
					msg.err = err
				} else {
					msg.next = readBatch(ctx, gen, f)
				}
				return msg
			}
			select {
			case <-f.ready:
			case <-ctx.Done():
				return rowsMsg{gen: gen, done: true, err: ctx.Err()}
			}
		}
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
