// Package stores holds statescope's model of workflow IaC state: the record,
// the store contract every backend implements, the optional lock capabilities,
// and the registry that opens a store from a target string.
package stores

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
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
// rules match upstream exactly so a record read and written back is unchanged.
// Outputs and Config keep JSON numbers as json.Number so large integers survive.
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
}

// DecodeState parses one record. It accepts both key orders (engine and wfctl)
// and null, {} or missing outputs/config. A document that is not a JSON object,
// or whose fields have the wrong types, is an error that says why.
func DecodeState(data []byte) (*State, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var s State
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
	return &s, nil
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

// EncodeState writes a record the way the engine and plugins do: MarshalIndent
// with two spaces, upstream key order, HTML characters escaped, no newline.
func EncodeState(s *State) ([]byte, error) {
	return json.MarshalIndent(s, "", "  ")
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
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// IsStuck reports a record a crash left half-done: provisioning or destroying
// for longer than threshold.
func (s *State) IsStuck(now time.Time, threshold time.Duration) bool {
	if s.Status != StatusProvisioning && s.Status != StatusDestroying {
		return false
	}
	t, ok := ParseTime(s.UpdatedAt)
	return ok && now.Sub(t) > threshold
}
