package filesystem

import (
	"bytes"
	"encoding/json"
	"path/filepath"

	"statescope/stores"
)

// metadataFile is what wfctl writes beside its records.
const metadataFile = "metadata.json"

func isWfctlMetadata(data []byte) bool {
	return bytes.Contains(data, []byte(`"generator_metadata"`))
}

// isWfctlDir reports a directory wfctl wrote: it has wfctl's metadata.json.
// Records statescope creates there get wfctl's file name and key order, so
// wfctl can find and delete them.
func (s *Store) isWfctlDir() bool {
	data, err := ReadFile(filepath.Join(s.dir, metadataFile))
	return err == nil && isWfctlMetadata(data)
}

// wfctlRecord is a record in wfctl's key order: config before outputs.
type wfctlRecord struct {
	ResourceID   string         `json:"resource_id"`
	ResourceType string         `json:"resource_type"`
	Provider     string         `json:"provider"`
	ProviderRef  string         `json:"provider_ref,omitempty"`
	ProviderID   string         `json:"provider_id,omitempty"`
	ConfigHash   string         `json:"config_hash,omitempty"`
	Status       string         `json:"status"`
	Config       map[string]any `json:"config"`
	Outputs      map[string]any `json:"outputs"`
	Dependencies []string       `json:"dependencies,omitempty"`
	CreatedAt    string         `json:"created_at"`
	UpdatedAt    string         `json:"updated_at"`
	Error        string         `json:"error,omitempty"`
}

// encode writes st over the record file it replaces (prev) keeping that
// file's bytes except the fields that changed (stores.State.WithLayoutOf);
// a new record in a wfctl directory is written in wfctl's key order
// (unless it already is, such as bytes restored from a wfctl file).
func encode(st *stores.State, prev []byte, wfctlDir bool) ([]byte, error) {
	if prev != nil {
		if base, err := stores.DecodeState(prev); err == nil {
			return stores.EncodeState(st.WithLayoutOf(base))
		}
	}
	data, err := stores.EncodeState(st)
	if err != nil || !wfctlDir || wfctlOrder(data) {
		return data, err
	}
	layout, err := json.MarshalIndent(wfctlRecord{
		ResourceID: st.ResourceID, ResourceType: st.ResourceType, Provider: st.Provider,
		ProviderRef: st.ProviderRef, ProviderID: st.ProviderID, ConfigHash: st.ConfigHash,
		Status: st.Status, Config: st.Config, Outputs: st.Outputs, Dependencies: st.Dependencies,
		CreatedAt: st.CreatedAt, UpdatedAt: st.UpdatedAt, Error: st.Error,
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	base, err := stores.DecodeState(layout)
	if err != nil {
		return nil, err
	}
	return stores.EncodeState(st.WithLayoutOf(base))
}

// wfctlOrder reports a record whose top-level config key comes before its
// outputs key, as wfctl writes them.
func wfctlOrder(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false
		}
		switch key {
		case "config":
			return true
		case "outputs":
			return false
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
	}
	return false
}
