// Package snapshot is the format of `statescope export`: a whole store as
// one JSON document, unreadable records included byte for byte, so a
// snapshot can restore or migrate state without losing anything.
package snapshot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"statescope/stores"
)

// Format identifies the document and its version.
const Format = "statescope-snapshot/v1"

// Document is one snapshot.
type Document struct {
	Format string `json:"format"`
	// Source is the exported store, credentials removed.
	Source string `json:"source"`
	// ExportedAt is RFC 3339 UTC.
	ExportedAt string `json:"exported_at"`
	// Tool is the statescope version that wrote it.
	Tool    string   `json:"tool"`
	Records []Record `json:"records"`
}

// Record is one record: a decoded State, or for an unreadable one its
// stored bytes (base64) and why it could not be read.
type Record struct {
	ResourceID string        `json:"resource_id"`
	State      *stores.State `json:"state,omitempty"`
	// SHA256 is the hash of the record as statescope read it.
	SHA256 string `json:"sha256,omitempty"`
	// Corrupt is why the record could not be read; empty for a good one.
	Corrupt string `json:"corrupt,omitempty"`
	Source  string `json:"source,omitempty"`
	// Raw is the unreadable record's stored bytes; nil when the backend
	// cannot hand them out (RawMissing then says so).
	Raw        []byte `json:"raw_base64,omitempty"`
	RawMissing string `json:"raw_missing,omitempty"`
}

// MarshalJSON writes the state as stores.EncodeState does, so unknown
// fields and the stored values' formatting travel with the snapshot.
func (r Record) MarshalJSON() ([]byte, error) {
	type plain Record
	var state json.RawMessage
	if r.State != nil {
		var err error
		if state, err = stores.EncodeState(r.State); err != nil {
			return nil, err
		}
	}
	return json.Marshal(struct {
		plain
		State json.RawMessage `json:"state,omitempty"`
	}{plain(r), state})
}

// UnmarshalJSON reads the state as stores.DecodeState does; it is written
// in the engine's layout where nothing is stored yet (see WithLayoutOf).
func (r *Record) UnmarshalJSON(data []byte) error {
	type plain Record
	aux := struct {
		*plain
		State json.RawMessage `json:"state,omitempty"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	r.State = nil
	if len(aux.State) > 0 && string(aux.State) != "null" {
		st, err := stores.DecodeState(bytes.Clone(aux.State))
		if err != nil {
			return fmt.Errorf("record %q: %w", r.ResourceID, err)
		}
		r.State = st.WithLayoutOf(nil)
	}
	return nil
}

// Encode writes doc as indented JSON.
func Encode(w io.Writer, doc *Document) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// Decode reads a snapshot, keeping numbers exact, and checks its format
// and that every record names a resource.
func Decode(r io.Reader) (*Document, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc Document
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a statescope snapshot: %w", err)
	}
	if doc.Format != Format {
		return nil, fmt.Errorf("not a statescope snapshot: format %q, want %q", doc.Format, Format)
	}
	for i, rec := range doc.Records {
		switch {
		case rec.ResourceID == "":
			return nil, fmt.Errorf("snapshot record %d has no resource_id", i)
		case rec.Corrupt == "" && rec.State == nil:
			return nil, fmt.Errorf("snapshot record %q has neither a state nor a corrupt reason", rec.ResourceID)
		case rec.State != nil && rec.State.ResourceID != rec.ResourceID:
			return nil, fmt.Errorf("snapshot record %q holds a state for %q", rec.ResourceID, rec.State.ResourceID)
		}
	}
	return &doc, nil
}
