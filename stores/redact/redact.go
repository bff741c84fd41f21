// Package redact decides which state values look secret and masks them for
// display. Masking never changes a stored record: it works on copies.
package redact

import (
	"regexp"
	"strings"

	"statescope/stores"
)

// Mask is what a secret value is shown as.
const Mask = "••••••••"

// secretKey matches key names that conventionally hold credentials.
var secretKey = regexp.MustCompile(`(?i)(passw(or)?d|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private|credential|connection[_-]?str|conn[_-]?str|dsn|auth|cert(ificate)?[_-]?key|signing|session[_-]?key|^key$|[_-]key$|sas)`)

// secretValue matches values that are secrets whatever their key: URLs with
// a password and PEM private keys.
var secretValue = regexp.MustCompile(`(?s)(://[^/\s:@]+:[^/\s@]+@|-----BEGIN [A-Z ]*PRIVATE KEY-----)`)

// IsSecretKey reports whether a key name looks like it holds a secret.
func IsSecretKey(key string) bool { return secretKey.MatchString(key) }

// IsSecretValue reports whether a string value is a secret on its face.
func IsSecretValue(v string) bool { return secretValue.MatchString(v) }

// Value masks v if its key or its content looks secret. Maps and lists
// under a secret key are masked whole; elsewhere they are walked.
func Value(key string, v any) any {
	if IsSecretKey(key) && v != nil {
		return Mask
	}
	switch t := v.(type) {
	case map[string]any:
		return Map(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = Value("", e)
		}
		return out
	case string:
		if IsSecretValue(t) {
			return Mask
		}
	}
	return v
}

// Map returns a masked copy of m (nil stays nil).
func Map(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = Value(k, v)
	}
	return out
}

// State returns a copy of s with secret-looking outputs and config masked.
func State(s *stores.State) *stores.State {
	c := s.Clone()
	c.Outputs = Map(s.Outputs)
	c.Config = Map(s.Config)
	return c
}

// Count reports how many values in s would be masked.
func Count(s *stores.State) int {
	return count(s.Outputs) + count(s.Config)
}

func count(v any) int {
	switch t := v.(type) {
	case map[string]any:
		n := 0
		for k, e := range t {
			if IsSecretKey(k) && e != nil {
				n++
			} else {
				n += count(e)
			}
		}
		return n
	case []any:
		n := 0
		for _, e := range t {
			n += count(e)
		}
		return n
	case string:
		if IsSecretValue(t) {
			return 1
		}
	}
	return 0
}

// Text masks secret-looking values inside free text (error messages,
// evidence) — URLs with passwords and PEM keys.
func Text(s string) string {
	if !strings.Contains(s, "://") && !strings.Contains(s, "PRIVATE KEY") {
		return s
	}
	return secretValue.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, "://") {
			i := strings.Index(m[3:], ":")
			return "://" + m[3:3+i] + ":" + Mask + "@"
		}
		return Mask
	})
}
