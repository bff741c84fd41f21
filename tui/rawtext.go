package tui

import (
	"regexp"
	"slices"
	"strings"

	"statescope/stores/redact"
)

// rawMember finds "key": value pairs in JSON text that may not parse (a
// corrupt record), so values under secret-looking keys can be masked.
var rawMember = regexp.MustCompile(`"((?:[^"\\\n]|\\.)*)"(\s*:\s*)("(?:[^"\\\n]|\\.)*"?|[^,}\]\s]+)`)

// cutPassword is a URL's password that the end of the text cut off
// before its '@' (which redact needs to tell it from a port): in text
// that stops there, masked to be safe.
var cutPassword = regexp.MustCompile(`://[^/\s:@"]+:([^/\s@"]*)\z`)

// secretSpan is a byte range [start, end) of raw text that masking
// replaces with repl.
type secretSpan struct {
	start, end int
	repl       string
}

// rawSecrets finds what masking hides in a record's raw text, which may
// not parse, in order and without overlaps: the value under each
// secret-looking key (an object or list whole, to its closing bracket or
// the end of the text), and secret-looking text anywhere (URLs with a
// password, private keys, a URL cut off after its user). Text that
// breaks inside a key is beyond it: those are the rules it can follow.
func rawSecrets(text string) []secretSpan {
	var spans []secretSpan
	for _, m := range rawMember.FindAllStringSubmatchIndex(text, -1) {
		if !redact.IsSecretKey(text[m[2]:m[3]]) {
			continue
		}
		start, end := m[6], m[7]
		if c := text[start]; c == '{' || c == '[' {
			end = closing(text, start)
		}
		spans = append(spans, secretSpan{start, end, `"` + redact.Mask + `"`})
	}
	for _, sp := range redact.TextSpans(text) {
		spans = append(spans, secretSpan{sp[0], sp[1], redact.Mask})
	}
	if m := cutPassword.FindStringSubmatchIndex(text); m != nil && m[3] > m[2] {
		spans = append(spans, secretSpan{m[2], m[3], redact.Mask})
	}
	slices.SortFunc(spans, func(a, b secretSpan) int { return a.start - b.start })
	var out []secretSpan
	for _, sp := range spans {
		if n := len(out); n > 0 && sp.start < out[n-1].end {
			out[n-1].end = max(out[n-1].end, sp.end)
			continue
		}
		out = append(out, sp)
	}
	return out
}

// closing is the end of the object or list opening at text[start]: after
// its closing bracket, or the end of the text when it has none.
func closing(text string, start int) int {
	depth, inString := 0, false
	for i := start; i < len(text); i++ {
		switch c := text[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return len(text)
}

// maskRaw masks what redact would mask in a record's raw text (see
// rawSecrets). It reports how many values it masked.
func maskRaw(text string) (string, int) {
	spans := rawSecrets(text)
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(text[last:sp.start] + sp.repl)
		last = sp.end
	}
	b.WriteString(text[last:])
	return b.String(), len(spans)
}
