package main

import (
	"sync/atomic"

	"statescope/tui"
)

// tuiHostKeys is the running terminal UI's host key dialog. remote's options
// are process-wide (remote.Configure runs before any command), so the
// question "trust this host key?" reaches the UI through here: askHostKey
// must not read the terminal the UI is drawing on.
var tuiHostKeys atomic.Pointer[tui.HostKeys]

// routeHostKeys sends host key questions to h until the returned function
// is called.
func routeHostKeys(h *tui.HostKeys) (restore func()) {
	prev := tuiHostKeys.Swap(h)
	return func() { tuiHostKeys.Store(prev) }
}
