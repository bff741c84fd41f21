package tui

import (
	"context"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"

	"statescope/stores"
)

// maxCoalesce bounds how many streamed entries one message carries, so the
// table fills promptly but a fast store is not delivered row by row.
const maxCoalesce = 4096

// entriesMsg is one streamed batch of a list load; next reads the batch
// after it (nil once done).
type entriesMsg struct {
	gen     int
	entries []stores.Entry
	done    bool
	err     error
	next    tea.Cmd
}

type streamItem struct {
	entries []stores.Entry
	done    bool
	err     error
}

// streamEntries lists s through stores.Stream in a goroutine that feeds a
// channel; the command delivers the first batch and each message carries
// the command for the next. The goroutine ends when the list does or ctx
// is cancelled, whether or not anyone reads on.
func streamEntries(ctx context.Context, gen int, s stores.Store) tea.Cmd {
	return func() tea.Msg {
		ch := make(chan streamItem, 4)
		go func() {
			defer close(ch)
			err := stores.Stream(ctx, s, stores.Filter{}, func(batch []stores.Entry) error {
				select {
				case ch <- streamItem{entries: batch}:
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
		msg := entriesMsg{gen: gen}
		select {
		case it, ok := <-ch:
			if !ok {
				return entriesMsg{gen: gen, done: true, err: ctx.Err()}
			}
			msg.entries, msg.done, msg.err = append([]stores.Entry(nil), it.entries...), it.done, it.err
		case <-ctx.Done():
			return entriesMsg{gen: gen, done: true, err: ctx.Err()}
		}
	drain:
		for !msg.done && len(msg.entries) < maxCoalesce {
			select {
			case it, ok := <-ch:
				if !ok {
					msg.done, msg.err = true, ctx.Err()
					break drain
				}
				msg.entries = append(msg.entries, it.entries...)
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
