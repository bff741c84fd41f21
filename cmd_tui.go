package main

import (
	"context"
)

// runTUI opens the terminal UI on the selected store. Until the TUI lands
// it prints the listing.
func (a *app) runTUI(ctx context.Context) error {
	cmd := a.listCommand()
	cmd.SetContext(ctx)
	return cmd.RunE(cmd, nil)
}
