package storetest

import (
	"context"
	"testing"
	"time"
)

// Waiting in tests without a clock bound. A loaded machine may take any
// time to start a process, deliver a kill or end a goroutine, so a fixed
// bound ("within 5 s") fails for reasons that are not the code's. The only
// bound here is the test binary's -timeout: a wait that reaches it fails
// the test with a message saying what never happened, just before the
// binary would panic.

// patienceMargin is left before the binary's deadline for the failure
// message and the test's cleanups.
const patienceMargin = 15 * time.Second

// Patience is a context that ends patienceMargin before the test binary's
// -timeout, and never under -timeout 0.
func Patience(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	if d, ok := t.Deadline(); ok {
		ctx, cancel = context.WithDeadline(context.Background(), d.Add(-patienceMargin))
	}
	t.Cleanup(cancel)
	return ctx
}

// Remaining is how long Patience has left, for APIs that take a duration.
func Remaining(t *testing.T) time.Duration {
	if d, ok := Patience(t).Deadline(); ok {
		return time.Until(d)
	}
	return 24 * time.Hour
}

// Await polls cond until it holds (true) or Patience ends (false).
func Await(t *testing.T, cond func() bool) bool {
	ctx := Patience(t)
	for !cond() {
		select {
		case <-ctx.Done():
			return cond()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return true
}

// Eventually is Await failing t with what when cond never holds.
func Eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !Await(t, cond) {
		t.Fatalf("%s never happened", what)
	}
}

// Receive waits for a value on ch, failing t with what if none comes.
func Receive[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-Patience(t).Done():
		t.Fatalf("%s never happened", what)
		var zero T
		return zero
	}
}
