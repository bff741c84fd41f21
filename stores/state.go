// Package stores holds statescope's model of workflow IaC state: the record,
// the store contract every backend implements, the optional lock capabilities,
// and the registry that opens a store from a target string.
package stores

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"statescope/stores/jsondoc"
)

// Status values workflow writes. Nothing upstream validates the field, so a
// record may carry any string; these are the ones the engine itself uses.
const (
	StatusPlanned      = "planned"
	StatusProvisioning = "provisioning"
	StatusActive       = "active"
	StatusDestroying   = "destroying"
	StatusDestroyed    = "destroyed"
	StatusError        = "error"
)

// Statuses lists the workflow statuses in lifecycle order.
var Statuses = []string{StatusPlanned, StatusProvisioning, StatusActive, StatusDestroying, StatusDestroyed, StatusError}

// TimeLayout is how the engine writes created_at and updated_at.
const TimeLayout = "2006-01-02T15:04:05Z"

// State is workflow's module.IaCState. Field order, JSON names and omitempty
// rules match upstream exactly. Outputs and Config keep JSON numbers as
// json.Number so large integers survive.
//
// A State decoded from stored bytes remembers them: EncodeState writes those
// bytes back unchanged, or with only the fields that differ replaced (see
// EncodeState), so no write loses what statescope does not model.
type State struct {
	ResourceID   string         `json:"resource_id"`
	ResourceType string         `json:"resource_type"`
	Provider     string         `json:"provider"`
	ProviderRef  string         `json:"provider_ref,omitempty"`
	ProviderID   string         `json:"provider_id,omitempty"`
	ConfigHash   string         `json:"config_hash,omitempty"`
	Status       string         `json:"status"`
	Outputs      map[string]any `json:"outputs"`
	Config       map[string]any `json:"config"`
	Dependencies []string       `json:"dependencies,omitempty"`
	CreatedAt    string         `json:"created_at"`
	UpdatedAt    string         `json:"updated_at"`
	Error        string         `json:"error,omitempty"`
	// Unknown holds top-level fields statescope does not know (a newer
	// workflow's, say), in document order, as written. They are kept on
	// every write.
	Unknown []Field `json:"-"`

	// stored is the document this record was decoded from, nil for a
	// record built in memory. It is never modified.
	stored []byte
	// exact: the record is written as its own stored bytes whatever it
	// replaces (see Exact).
	exact bool
}

// Field is one top-level field of a record, its value as JSON.
type Field = jsondoc.Member

// stateFields is State without its methods, for encoding/json.
type stateFields State

// knownKeys are the JSON keys of the modelled fields, in upstream order.
var knownKeys = func() []string {
	t := reflect.TypeFor[stateFields]()
	var keys []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}()

// knownRaw holds the known keys as written plainly (no escapes).
var knownRaw = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range knownKeys {
		m[k] = true
	}
	return m
}()

// KnownKeys lists the JSON keys statescope models, in upstream order.
func KnownKeys() []string { return slices.Clone(knownKeys) }

// canonKey maps a key to the modelled field encoding/json fills from it
// (names match case-insensitively, as upstream's decoder does), or to
// itself for an unknown field.
func canonKey(k string) string {
	for _, known := range knownKeys {
		if k == known {
			return k
		}
	}
	f := foldName(k)
	for _, known := range knownKeys {
		if f == foldName(known) {
			return known
		}
	}
	return k
}

// foldName is encoding/json's case folding of field names.
func foldName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			continue
		}
		b.WriteRune(unicode.ToUpper(unicode.ToLower(r)))
	}
	return b.String()
}

// DecodeState parses one record. It accepts both key orders (engine and wfctl)
// and null, {} or missing outputs/config. A document that is not a JSON object,
// or whose fields have the wrong types, is an error that says why. The
// record keeps data (which must not be modified afterwards) and its
// unknown fields.
func DecodeState(data []byte) (*State, error) {
	s, err := decodeFields(data)
	if err != nil {
		return nil, err
	}
	var kerr error
	err = jsondoc.Keys(data, func(raw, value []byte) {
		if len(raw) > 2 && knownRaw[string(raw[1:len(raw)-1])] {
			return // the common case, without decoding the key
		}
		key, err := jsondoc.Unquote(raw)
		if err != nil {
			kerr = err
			return
		}
		if slices.Contains(knownKeys, canonKey(key)) {
			return
		}
		// A repeated key: the last value counts, as for every decoder.
		if i := slices.IndexFunc(s.Unknown, func(f Field) bool { return f.Key == key }); i >= 0 {
			s.Unknown[i].Value = value
		} else {
			s.Unknown = append(s.Unknown, Field{Key: key, Value: value})
		}
	})
	if err = cmp.Or(err, kerr); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	s.stored = data
	return s, nil
}

// decodeFields decodes the modelled fields only.
func decodeFields(data []byte) (*State, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var s stateFields
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("invalid JSON: trailing data after the record")
	}
	if s.ResourceID == "" {
		return nil, fmt.Errorf("record has no resource_id")
	}
	// omitempty drops an empty list on write, so [] and absent are the same
	// record; normalising here keeps round trips stable (found by fuzzing).
	if len(s.Dependencies) == 0 {
		s.Dependencies = nil
	}
	return (*State)(&s), nil
}

var idPattern = regexp.MustCompile(`"resource_id"\s*:\s*"((?:[^"\\]|\\.)*)"`)

// GuessID finds the resource ID in an undecodable record's bytes, for
// naming a corrupt entry; fallback (usually the file or key name) otherwise.
func GuessID(raw []byte, fallback string) string {
	m := idPattern.FindSubmatch(raw)
	if m == nil {
		return fallback
	}
	var id string
	if json.Unmarshal(append(append([]byte{'"'}, m[1]...), '"'), &id) != nil || id == "" {
		return fallback
	}
	return id
}

// EncodeState writes a record. A record decoded from stored bytes is
// written as those bytes, with only the fields whose values changed
// replaced, inserted where upstream orders them or removed: key order,
// spacing, escapes, number formatting and unknown fields all stay. A record
// built in memory is written the way the engine and plugins do:
// MarshalIndent with two spaces, upstream key order, HTML characters
// escaped, no newline; unknown fields follow the known ones.
func EncodeState(s *State) ([]byte, error) {
	if s == nil {
		return []byte("null"), nil
	}
	if s.stored != nil {
		if orig, err := DecodeState(s.stored); err == nil {
			changed := s.changedFrom(orig)
			if len(changed) == 0 {
				return s.stored, nil
			}
			return s.patch(s.stored, changed)
		}
	}
	doc, err := json.MarshalIndent((*stateFields)(s), "", "  ")
	if err != nil || len(s.Unknown) == 0 {
		return doc, err
	}
	keys := make([]string, len(s.Unknown))
	for i, f := range s.Unknown {
		keys[i] = f.Key
	}
	return s.patch(doc, keys)
}

// patch rewrites the changed top-level keys of doc to s's values.
func (s *State) patch(doc []byte, changed []string) ([]byte, error) {
	compact, err := json.Marshal((*stateFields)(s))
	if err != nil {
		return nil, err
	}
	want, err := jsondoc.Members(compact)
	if err != nil {
		return nil, err
	}
	want = append(want, s.Unknown...)
	return jsondoc.Patch(doc, want, changed, canonKey)
}

// changedFrom lists the JSON keys whose values differ between s and orig.
func (s *State) changedFrom(orig *State) []string {
	var out []string
	a, b := reflect.ValueOf(stateFields(*s)), reflect.ValueOf(stateFields(*orig))
	for i, key := range knownKeys {
		if !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			out = append(out, key)
		}
	}
	return append(out, unknownChanges(s.Unknown, orig.Unknown)...)
}

func unknownChanges(a, b []Field) []string {
	var out []string
	for _, f := range a {
		i := slices.IndexFunc(b, func(g Field) bool { return g.Key == f.Key })
		if i < 0 || !jsondoc.Equal(f.Value, b[i].Value) {
			out = append(out, f.Key)
		}
	}
	for _, g := range b {
		if !slices.ContainsFunc(a, func(f Field) bool { return f.Key == g.Key }) {
			out = append(out, g.Key)
		}
	}
	return out
}

// Equal reports whether two records hold the same values, unknown fields
// included, however they are laid out.
func (s *State) Equal(o *State) bool {
	if s == nil || o == nil {
		return s == o
	}
	return len(s.changedFrom(o)) == 0
}

// Exact returns a copy of s that is written as its own stored bytes, even
// over a record laid out otherwise (WithLayoutOf leaves it as it is): a
// restored backup goes back byte for byte.
func (s *State) Exact() *State {
	c := s.Clone()
	c.exact = true
	return c
}

// WithLayoutOf returns a copy of s that is written as base's stored bytes
// with s's values: for a record that replaces base (an edit, an import),
// so only what differs changes in the store. With no base (or one built in
// memory) the copy is written in the engine's layout.
func (s *State) WithLayoutOf(base *State) *State {
	c := s.Clone()
	if s.exact && s.stored != nil {
		return c
	}
	c.stored = nil
	if base != nil {
		c.stored = base.stored
	}
	return c
}

// Clone returns a deep copy, so stores never share maps with callers.
func (s *State) Clone() *State {
	if s == nil {
		return nil
	}
	c := *s
	c.Outputs = cloneMap(s.Outputs)
	c.Config = cloneMap(s.Config)
	if s.Dependencies != nil {
		c.Dependencies = append([]string(nil), s.Dependencies...)
	}
	c.Unknown = slices.Clone(s.Unknown)
	return &c
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return cloneMap(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = cloneValue(e)
		}
		return out
	default:
		return v
	}
}

// ParseTime reads a record timestamp. Upstream writes second-precision UTC,
// but any RFC 3339 time is accepted.
func ParseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// FormatTime writes a timestamp in the engine's layout.
func FormatTime(t time.Time) string {
	// RFC 3339 writes a UTC time exactly as TimeLayout does, and the time
	// package formats it on a fast path (listings format one per record).
	return t.UTC().Format(time.RFC3339)
}

// IsStuck reports a record a crash left half-done: provisioning or destroying
// for longer than threshold.
func (s *State) IsStuck(now time.Time, threshold time.Duration) bool {
	if s.Status != StatusProvisioning && s.Status != StatusDestroying {
		return false
	}
	t, ok := ParseTime(s.UpdatedAt)
	return ok && now.Sub(t) > threshold
}

// StuckReason is the reason recorded when a stuck record is marked error.
func StuckReason(status string) string { return "left in " + status + " by an interrupted run" }
