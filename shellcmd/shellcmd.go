// Package shellcmd formats the statescope commands printed for a user to
// copy and run. Every argument is quoted for a POSIX shell, so a pasted
// line passes IDs, tokens and targets through unchanged: S3 tokens carry
// double quotes, Azure tokens a `|`, resource IDs may hold anything.
package shellcmd

import "al.essio.dev/pkg/shellescape"

// Line is `statescope ARGS…` with each argument quoted where it must be.
func Line(args ...string) string {
	return "statescope " + shellescape.QuoteCommand(args)
}
