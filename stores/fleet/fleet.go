// Package fleet runs one piece of work against many contexts at once:
// a bounded number in parallel, each under its own timeout, so one
// unreachable store is a row with its error and never holds up the rest.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"statescope/stores"
	"statescope/stores/config"
)

// DefaultParallel and DefaultTimeout are the CLI's defaults.
const (
	DefaultParallel = 8
	DefaultTimeout  = 30 * time.Second
)

// Member is one context of the fleet.
type Member struct {
	Name   string
	Target string
	// Problem is why the config's entry for it could not be read.
	Problem string
}

// Check says what keeps the member from being opened before any dial: its
// config entry could not be read, it has no store, or no name to choose it by.
func (m Member) Check() error {
	return config.Context{Store: m.Target, Problem: m.Problem}.Check(m.Name, "the config")
}

// Label is the member's target without credentials.
func (m Member) Label() string { return stores.RedactTarget(m.Target) }

// Transport is how the store is reached: the target's scheme.
func (m Member) Transport() string {
	t, err := stores.ParseTarget(m.Target)
	if err != nil {
		return "?"
	}
	return t.Scheme
}

// Select picks contexts from the config: the named ones in the order
// given, or every context (sorted, each under its name as the config
// spells it) when names is empty. A typed name matches as given, else
// trimmed of spaces; blank names are skipped and repeats dropped.
func Select(cfg *config.Config, names []string) ([]Member, error) {
	if len(names) == 0 {
		if len(cfg.Contexts) == 0 {
			return nil, fmt.Errorf("no contexts are defined in the config")
		}
		var out []Member
		for _, n := range cfg.Names() {
			out = append(out, Member{Name: n, Target: cfg.Contexts[n].Store, Problem: cfg.Contexts[n].Problem})
		}
		return out, nil
	}
	var out []Member
	var unknown []string
	for _, n := range names {
		if _, ok := cfg.Contexts[n]; !ok {
			n = strings.TrimSpace(n)
		}
		c, ok := cfg.Contexts[n]
		switch {
		case strings.TrimSpace(n) == "":
			continue
		case !ok:
			unknown = append(unknown, n)
			continue
		case slices.ContainsFunc(out, func(m Member) bool { return m.Name == n }):
			continue
		}
		out = append(out, Member{Name: n, Target: c.Store, Problem: c.Problem})
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown context(s) %s; known: %s", strings.Join(unknown, ", "), strings.Join(cfg.Names(), ", "))
	}
	return out, nil
}

// Options bound the work.
type Options struct {
	// Parallel is how many members run at once (at least 1).
	Parallel int
	// Timeout bounds each member's work, opening its store included.
	Timeout time.Duration
}

// ErrTimeout marks a member that did not answer within its timeout.
var ErrTimeout = errors.New("no answer")

// Failure names the kind of a member's failure, in the words fleet tables
// use: "unsupported" (reachable, but without what was asked, such as a lock
// inventory), "timed out", else "failed". Most failures are not about
// reaching the store, so only the kinds an operator acts on differently
// are told apart; the error itself says the rest.
func Failure(err error) string {
	switch {
	case errors.Is(err, stores.ErrUnsupported):
		return "unsupported"
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	return "failed"
}

// Run calls do for every member, at most opt.Parallel at once, each under
// its own timeout, and hands each result to done as it arrives (one call
// at a time). A member whose do does not return within the timeout is
// reported with ErrTimeout and left to finish on its own: Run never waits
// for it. Run returns when every member has been reported.
func Run[T any](ctx context.Context, members []Member, opt Options, do func(context.Context, Member) (T, error), done func(Member, T, error)) {
	parallel := max(opt.Parallel, 1)
	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	sem := make(chan struct{}, parallel)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				var zero T
				mu.Lock()
				done(m, zero, ctx.Err())
				mu.Unlock()
				return
			}
			v, err := Within(ctx, timeout, func(ctx context.Context) (T, error) { return do(ctx, m) })
			<-sem
			mu.Lock()
			done(m, v, err)
			mu.Unlock()
		}()
	}
	wg.Wait()
}

// Within runs f under a timeout and gives up waiting when it passes, even
// if f ignores its context (a dial that does not honour it).
func Within[T any](ctx context.Context, timeout time.Duration, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f(ctx)
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			r.err = fmt.Errorf("%w within %s: %v", ErrTimeout, timeout, r.err)
		}
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return zero, fmt.Errorf("%w within %s", ErrTimeout, timeout)
		}
		return zero, ctx.Err()
	}
}

// Open opens a member's store read-only: fleet work only ever reads.
func Open(ctx context.Context, m Member) (stores.Store, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	return stores.OpenReadOnly(ctx, m.Target)
}
