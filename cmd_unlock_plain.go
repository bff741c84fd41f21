package main

import (
	"context"
	"fmt"

	"statescope/remote"
	"statescope/stores"
	"statescope/stores/shellcmd"
)

// plainUnlock is `unlock ID --plain`: the backend's own Unlock, for a
// remote backend without a lock inventory (a stock workflow plugin), where
// no lock can be seen and released by its token. It shows what a plain
// Unlock does on that backend and confirms like the TUI's U: the ID typed
// back on a terminal, or --yes.
func (a *app) plainUnlock(ctx context.Context, id string, m *mutation) error {
	verb := "a plain unlock of " + id
	eng, done, err := a.mutationEngine(ctx, m, verb)
	if err != nil {
		return err
	}
	defer done()
	warning, ok := remote.PlainUnlockWarning(ctx, eng.Store)
	if !ok {
		return refused("%s has a lock inventory (or is not a remote backend): release the lock by its token with `%s`, which checks it is still the lock you saw", eng.Target, shellcmd.Line("unlock", id))
	}
	fmt.Fprintf(a.out, "Plain unlock of %s on %s\n%s\n"+
		"statescope cannot see this lock: not who holds it, nor whether its operation still runs. Nothing is backed up; the unlock is audited.\n",
		id, stores.Describe(eng.Store), warning)
	if err := a.canAsk(m, verb); err != nil {
		return err
	}
	if m.dryRun {
		fmt.Fprintf(a.out, "dry run: would call the backend's plain Unlock on %s\n", id)
		return nil
	}
	if !m.yes {
		if err := a.confirmRelease(id); err != nil {
			return err
		}
	}
	if err := remote.PlainUnlock(ctx, eng, id); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "unlocked %s (plain Unlock; audited)\n", id)
	return nil
}
