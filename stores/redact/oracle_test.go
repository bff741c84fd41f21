package redact

import (
	"regexp"
	"strings"

	"statescope/stores"
)

// The reference rules: the regular expressions masking used before the
// token scan, kept as the oracle the fast matcher must agree with.

// refKeyRules are the alternatives of the reference key pattern, one per
// rule (passw(or)?d and passwd are one rule: the second is redundant).
var refKeyRules = []string{
	`passw(or)?d|passwd`, `pwd`, `secret`, `token`, `api[_-]?key`, `access[_-]?key`, `private`,
	`credential`, `connection[_-]?str`, `conn[_-]?str`, `dsn`, `auth`, `cert(ificate)?[_-]?key`,
	`signing`, `session[_-]?key`, `^key$`, `[_-]key$`, `sas`,
}

var refSecretKey = regexp.MustCompile(`(?i)(passw(or)?d|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private|credential|connection[_-]?str|conn[_-]?str|dsn|auth|cert(ificate)?[_-]?key|signing|session[_-]?key|^key$|[_-]key$|sas)`)

var refSecretValue = regexp.MustCompile(`(?s)(://[^/\s:@]+:[^/\s@]+@|-----BEGIN [A-Z ]*PRIVATE KEY-----)`)

func refIsSecretKey(k string) bool   { return refSecretKey.MatchString(k) }
func refIsSecretValue(v string) bool { return refSecretValue.MatchString(v) }

// refRulesMatching names the reference key rules that match k.
func refRulesMatching(k string) []string {
	var rules []string
	for _, r := range refKeyRules {
		if regexp.MustCompile(`(?i)(` + r + `)`).MatchString(k) {
			rules = append(rules, r)
		}
	}
	return rules
}

func refValue(key string, v any) any {
	if refIsSecretKey(key) && v != nil {
		return Mask
	}
	switch t := v.(type) {
	case map[string]any:
		return refMap(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = refValue("", e)
		}
		return out
	case string:
		if refIsSecretValue(t) {
			return Mask
		}
	}
	return v
}

func refMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = refValue(k, v)
	}
	return out
}

func refState(s *stores.State) *stores.State {
	c := s.Clone()
	c.Outputs = refMap(s.Outputs)
	c.Config = refMap(s.Config)
	return c
}

func refCount(v any) int {
	switch t := v.(type) {
	case map[string]any:
		n := 0
		for k, e := range t {
			if refIsSecretKey(k) && e != nil {
				n++
			} else {
				n += refCount(e)
			}
		}
		return n
	case []any:
		n := 0
		for _, e := range t {
			n += refCount(e)
		}
		return n
	case string:
		if refIsSecretValue(t) {
			return 1
		}
	}
	return 0
}

// refSecretText is the reference value pattern with a PEM key's body and
// END line added: the original masked only the BEGIN line of a key inside
// free text and left its body in error messages.
var refSecretText = regexp.MustCompile(`(?s)(://[^/\s:@]+:[^/\s@]+@|-----BEGIN [A-Z ]*PRIVATE KEY-----(.*?-----END [A-Z ]*PRIVATE KEY-----|.*))`)

func refText(s string) string {
	return refSecretText.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, "://") {
			i := strings.Index(m[3:], ":")
			return "://" + m[3:3+i] + ":" + Mask + "@"
		}
		return Mask
	})
}
