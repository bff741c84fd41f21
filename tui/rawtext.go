package tui

import (
	"regexp"

	"statescope/stores/redact"
)

// rawMember finds "key": value pairs in JSON text that may not parse (a
// corrupt record), so values under secret-looking keys can be masked.
var rawMember = regexp.MustCompile(`"((?:[^"\\\n]|\\.)*)"(\s*:\s*)("(?:[^"\\\n]|\\.)*"?|[^,}\]\s]+)`)

// maskRaw masks what redact would mask in a record's raw text: values
// under secret-looking keys and secret-looking values (URLs with a
// password, private keys). It reports how many it masked.
func maskRaw(text string) (string, int) {
	n := 0
	text = rawMember.ReplaceAllStringFunc(text, func(m string) string {
		p := rawMember.FindStringSubmatch(m)
		if !redact.IsSecretKey(p[1]) {
			return m
		}
		n++
		return `"` + p[1] + `"` + p[2] + `"` + redact.Mask + `"`
	})
	masked := redact.Text(text)
	if masked != text {
		n++
	}
	return masked, n
}
