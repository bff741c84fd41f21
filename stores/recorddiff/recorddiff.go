// Package recorddiff compares two records the way the diff view and the
// `diff` command show them: the whole record by JSON path (header fields
// such as status, dependencies and timestamps, then outputs and config),
// or only the sections a partial document holds.
package recorddiff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"statescope/stores"
	"statescope/stores/redact"
	"statescope/tui/jsondiff"
)

// Sections are the parts of a record a diff compares: nil for the whole
// record; otherwise only these top-level fields (a file that holds only
// outputs, or outputs and config, is compared on what it has).
type Sections []string

// String says what a diff compares.
func (only Sections) String() string {
	if only == nil {
		return "whole record"
	}
	return strings.Join(only, " & ") + " only"
}

// Doc is the record as the JSON document the diff compares: every
// top-level field, or only the sections given. Numbers stay exact.
func Doc(s *stores.State, only Sections) (map[string]any, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", s.ResourceID, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", s.ResourceID, err)
	}
	if only == nil {
		return doc, nil
	}
	out := make(map[string]any, len(only))
	for _, k := range only {
		out[k] = doc[k]
	}
	return out, nil
}

// Compare returns the differences from a to b over the sections given,
// the record's header fields first, then outputs and config.
func Compare(a, b *stores.State, only Sections) ([]jsondiff.Change, error) {
	da, err := Doc(a, only)
	if err != nil {
		return nil, err
	}
	db, err := Doc(b, only)
	if err != nil {
		return nil, err
	}
	var head, body []jsondiff.Change
	for _, c := range jsondiff.Compare(da, db) {
		if InBody(c) {
			body = append(body, c)
		} else {
			head = append(head, c)
		}
	}
	return append(head, body...), nil
}

// InBody reports a change under outputs or config; the others are the
// record's header fields (status, dependencies, timestamps…).
func InBody(c jsondiff.Change) bool {
	return len(c.Keys) > 0 && (c.Keys[0] == "outputs" || c.Keys[0] == "config")
}

// DecodeCompared reads a document to compare with: a whole record, or a
// document of just outputs ({"outputs": …}, {"outputs": …, "config": …},
// or a bare outputs object), reported by the sections it holds.
func DecodeCompared(raw []byte) (*stores.State, Sections, error) {
	var probe map[string]json.RawMessage
	if json.Unmarshal(raw, &probe) != nil || probe["resource_id"] != nil {
		s, err := stores.DecodeState(raw)
		return s, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("invalid JSON: %w", err)
	}
	s := &stores.State{}
	var only Sections
	for _, k := range []string{"outputs", "config"} {
		v, ok := doc[k]
		if !ok {
			continue
		}
		m, isMap := v.(map[string]any)
		if !isMap && v != nil {
			return nil, nil, fmt.Errorf("%s is not a JSON object", k)
		}
		only = append(only, k)
		if k == "outputs" {
			s.Outputs = m
		} else {
			s.Config = m
		}
	}
	switch {
	case only == nil:
		s.Outputs, only = doc, Sections{"outputs"} // a bare outputs object
	case len(only) < len(doc):
		return nil, nil, fmt.Errorf("not a record (no resource_id) and not just outputs and config")
	}
	return s, only, nil
}

// Masked reports a change under a secret-looking key anywhere on its path.
func Masked(c jsondiff.Change) bool {
	for _, k := range c.Keys {
		if redact.IsSecretKey(k) {
			return true
		}
	}
	return false
}

// Visible is a value of a change as it may be shown: masked unless
// revealed.
func Visible(c jsondiff.Change, v any, revealed bool) any {
	switch {
	case revealed:
		return v
	case Masked(c) && v != nil:
		return redact.Mask
	}
	return redact.Value("", v)
}

// Shown is a value as displayed: compact JSON, masked unless revealed (a
// mask is shown bare).
func Shown(c jsondiff.Change, v any, revealed bool) string {
	v = Visible(c, v, revealed)
	if v == redact.Mask {
		return redact.Mask
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
