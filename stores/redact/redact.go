// Package redact decides which state values look secret and masks them for
// display. Masking never changes a stored record: it works on copies.
//
// Everything here is pure and safe for concurrent use, and cheap enough to
// run inside a store's decode workers: key names are matched by one scan over
// a precomputed token table (no regular expression per key), and values reach
// the regular expression only past a substring prefilter.
package redact

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"statescope/stores"
)

// Mask is what a secret value is shown as.
const Mask = "••••••••"

// secretTokens are the key-name fragments that conventionally hold
// credentials, matched anywhere in the lower-cased name: the expansion of
//
//	passw(or)?d|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private|
//	credential|connection[_-]?str|conn[_-]?str|dsn|auth|
//	cert(ificate)?[_-]?key|signing|session[_-]?key|sas
//
// plus "key" as the whole name or after a final _ or - (see secretKeyName).
// stores/redact's tests keep that expression as the oracle.
var secretTokens = []string{
	"password", "passwd", "pwd", "secret", "token", "private", "credential",
	"dsn", "auth", "signing", "sas",
	"apikey", "api_key", "api-key",
	"accesskey", "access_key", "access-key",
	"connectionstr", "connection_str", "connection-str",
	"connstr", "conn_str", "conn-str",
	"certkey", "cert_key", "cert-key",
	"certificatekey", "certificate_key", "certificate-key",
	"sessionkey", "session_key", "session-key",
}

// tokensByFirst indexes secretTokens by their first byte, so the scan tries
// only the few tokens that can start at each position.
var tokensByFirst = func() (t [256][]string) {
	for _, tok := range secretTokens {
		t[tok[0]] = append(t[tok[0]], tok)
	}
	return t
}()

// secretValue matches values that are secrets whatever their key: URLs with
// a password and PEM private keys.
var secretValue = regexp.MustCompile(`(?s)(://[^/\s:@]+:[^/\s@]+@|-----BEGIN [A-Z ]*PRIVATE KEY-----)`)

// keyVerdicts caches IsSecretKey per distinct key name (real states repeat
// the same names in every record; a lookup is several times cheaper than a
// scan). It stops growing at maxCachedKeys so a store whose key names are
// unbounded (IDs used as keys) cannot grow it without limit.
var (
	keyVerdicts sync.Map // string → bool
	cachedKeys  atomic.Int64
)

const (
	maxCachedKeys   = 1 << 14
	maxCachedKeyLen = 64
)

// IsSecretKey reports whether a key name looks like it holds a secret. Case
// is ignored the way Unicode simple folding ignores it (so the Kelvin sign
// counts as k and the long s as s).
func IsSecretKey(key string) bool {
	if v, ok := keyVerdicts.Load(key); ok {
		return v.(bool)
	}
	secret := scanKey(key)
	if len(key) <= maxCachedKeyLen && cachedKeys.Load() < maxCachedKeys {
		if _, loaded := keyVerdicts.LoadOrStore(strings.Clone(key), secret); !loaded {
			cachedKeys.Add(1)
		}
	}
	return secret
}

// scanKey is IsSecretKey without the cache.
func scanKey(key string) bool {
	var buf [64]byte // most names fold on the stack
	var folded []byte
	if len(key) <= len(buf) {
		folded = buf[:0]
	}
	return secretKeyName(foldKey(folded, key))
}

// foldKey appends key to dst lower-cased. Runes outside ASCII become 0xFF,
// which no token contains, except the two that fold to ASCII letters.
func foldKey(dst []byte, key string) []byte {
	for i := 0; i < len(key); {
		c := key[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(key[i:])
		i += n
		switch r {
		case '\u212A': // KELVIN SIGN
			dst = append(dst, 'k')
		case '\u017F': // LATIN SMALL LETTER LONG S
			dst = append(dst, 's')
		default:
			dst = append(dst, 0xFF)
		}
	}
	return dst
}

// secretKeyName matches a lower-cased key name against the token table.
func secretKeyName(b []byte) bool {
	n := len(b)
	if n >= 3 && string(b[n-3:]) == "key" && (n == 3 || b[n-4] == '_' || b[n-4] == '-') {
		return true
	}
	for i, c := range b {
		for _, tok := range tokensByFirst[c] {
			if len(b)-i >= len(tok) && string(b[i:i+len(tok)]) == tok {
				return true
			}
		}
	}
	return false
}

// IsSecretValue reports whether a string value is a secret on its face.
func IsSecretValue(v string) bool {
	return mayBeSecretValue(v) && secretValue.MatchString(v)
}

// mayBeSecretValue is a necessary condition for secretValue to match: a URL
// with credentials has "://" followed somewhere by '@'; a PEM key has its
// marker line.
func mayBeSecretValue(v string) bool {
	if i := strings.Index(v, "://"); i >= 0 && strings.IndexByte(v[i+3:], '@') >= 0 {
		return true
	}
	return strings.Contains(v, "PRIVATE KEY-----")
}

// Value masks v if its key or its content looks secret. Maps and lists
// under a secret key are masked whole; elsewhere they are walked.
func Value(key string, v any) any {
	if v != nil && IsSecretKey(key) {
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

// State returns a copy of s with secret-looking outputs, config and
// unknown fields masked. Masking already copies every map and list it
// walks, so only the remaining shared slice is copied here.
func State(s *stores.State) *stores.State {
	c := *s
	c.Outputs = Map(s.Outputs)
	c.Config = Map(s.Config)
	if s.Dependencies != nil {
		c.Dependencies = append([]string(nil), s.Dependencies...)
	}
	c.Unknown = Fields(s.Unknown)
	return &c
}

// Fields returns masked copies of a record's unknown fields. A value that
// is not valid JSON is masked whole.
func Fields(fs []stores.Field) []stores.Field {
	if fs == nil {
		return nil
	}
	out := make([]stores.Field, len(fs))
	for i, f := range fs {
		out[i] = stores.Field{Key: f.Key, Value: maskRaw(f.Key, f.Value)}
	}
	return out
}

func maskRaw(key string, raw json.RawMessage) json.RawMessage {
	v, err := decodeJSON(raw)
	switch {
	case err != nil:
		v = Mask
	case count(map[string]any{key: v}) == 0:
		return raw
	}
	masked, _ := json.Marshal(Value(key, v)) // decoded values always encode
	return masked
}

// FieldValues decodes unknown fields into a map (numbers as written).
func FieldValues(fs []stores.Field) map[string]any {
	if len(fs) == 0 {
		return nil
	}
	m := make(map[string]any, len(fs))
	for _, f := range fs {
		if v, err := decodeJSON(f.Value); err == nil {
			m[f.Key] = v
		} else {
			m[f.Key] = string(f.Value)
		}
	}
	return m
}

func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// Count reports how many values in s would be masked.
func Count(s *stores.State) int {
	return count(s.Outputs) + count(s.Config) + count(FieldValues(s.Unknown))
}

func count(v any) int {
	switch t := v.(type) {
	case map[string]any:
		n := 0
		for k, e := range t {
			if e != nil && IsSecretKey(k) {
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

// secretText matches secrets inside free text: the password of a URL, and a
// PEM private key from its BEGIN line through its END line (or the end of
// the text), body included.
var secretText = regexp.MustCompile(`(?s)(://[^/\s:@]+:[^/\s@]+@|-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|\z))`)

// Text masks secret-looking values inside free text (error messages,
// evidence) — URLs with passwords and PEM keys.
func Text(s string) string {
	spans := TextSpans(s)
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp[0]])
		b.WriteString(Mask)
		last = sp[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// TextSpans returns the byte ranges [start, end) of s that Text masks, in
// order: the password of a URL, a PEM private key whole.
func TextSpans(s string) [][2]int {
	if !mayBeSecretValue(s) {
		return nil
	}
	var out [][2]int
	for _, m := range secretText.FindAllStringIndex(s, -1) {
		if strings.HasPrefix(s[m[0]:], "://") {
			// "://user:password@": only the password.
			i := m[0] + 3 + strings.IndexByte(s[m[0]+3:m[1]], ':')
			out = append(out, [2]int{i + 1, m[1] - 1})
			continue
		}
		out = append(out, [2]int{m[0], m[1]})
	}
	return out
}
