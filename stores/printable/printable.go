// Package printable shows text that may hold anything — resource IDs,
// evidence read from a store — without letting it act on a terminal or a
// renderer: whatever does not print becomes its Go escape.
package printable

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Is reports whether every character of s prints (spaces included;
// newlines, tabs, control and format characters and invalid bytes not).
func Is(s string) bool {
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] >= ' ' && s[i] <= '~' // the common case, a byte at a time
	}
	if ascii {
		return true
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || !strconv.IsPrint(r) {
			return false
		}
		i += n
	}
	return true
}

// Escape is s with each character that does not print, and each invalid
// byte, written as Go writes it in a string literal (\n, \x1b, \u202e,
// \xff); the rest, backslashes included, is kept as it is.
func Escape(s string) string {
	if Is(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || !strconv.IsPrint(r) {
			b.WriteString(strings.Trim(strconv.Quote(s[i:i+n]), `"`))
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
