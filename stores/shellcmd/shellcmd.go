// Package shellcmd formats the statescope commands printed for a user to
// copy and run. Every argument is quoted for a POSIX shell, so a pasted
// line passes IDs, tokens and targets through unchanged: S3 tokens carry
// double quotes, Azure tokens a `|`, resource IDs may hold anything.
package shellcmd

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"al.essio.dev/pkg/shellescape"

	"statescope/stores/printable"
)

// Line is `statescope ARGS…` with each argument quoted where it must be.
func Line(args ...string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = Quote(a)
	}
	return "statescope " + strings.Join(quoted, " ")
}

// Quote quotes one argument: as it is when it needs nothing, in single
// quotes when it prints, else in $'…' with what does not print (newline,
// escape, bidi control, invalid byte) as \xHH, so the printed line cannot
// act on the terminal and still gives the shell the exact bytes (bash,
// zsh, ksh, BusyBox and POSIX.1-2024 shells read $'…').
func Quote(s string) string {
	if printable.Is(s) {
		return shellescape.Quote(s)
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteByte(s[i])
		case printable.Is(s[i : i+n]):
			b.WriteString(s[i : i+n])
		default:
			for _, c := range []byte(s[i : i+n]) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		}
		i += n
	}
	b.WriteByte('\'')
	return b.String()
}
