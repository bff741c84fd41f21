// Package wire converts between statescope's state model and the gRPC
// messages, following workflow's JSON-bytes convention for maps: send empty
// bytes for nil and {} for empty; accept empty, null and {} back.
package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"statescope/remote/proto/iacpb"
	"statescope/remote/proto/lockadminpb"
	"statescope/stores"
)

// EncodeMap: nil → empty bytes (what the plugins send), otherwise JSON.
func EncodeMap(m map[string]any) ([]byte, error) {
	if m == nil {
		return nil, nil
	}
	return json.Marshal(m)
}

// DecodeMap: empty bytes and null give nil, {} an empty map, anything that
// is not a JSON object an error. Numbers stay json.Number.
func DecodeMap(b []byte) (map[string]any, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the JSON object")
	}
	return m, nil
}

// ToProto converts a record.
func ToProto(s *stores.State) (*iacpb.IaCState, error) {
	outputs, err := EncodeMap(s.Outputs)
	if err != nil {
		return nil, fmt.Errorf("outputs: %w", err)
	}
	config, err := EncodeMap(s.Config)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &iacpb.IaCState{
		ResourceId: s.ResourceID, ResourceType: s.ResourceType, Provider: s.Provider,
		ProviderRef: s.ProviderRef, ProviderId: s.ProviderID, ConfigHash: s.ConfigHash,
		Status: s.Status, OutputsJson: outputs, ConfigJson: config, Dependencies: s.Dependencies,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, Error: s.Error,
	}, nil
}

// FromProto converts a record; malformed map JSON is an error.
func FromProto(p *iacpb.IaCState) (*stores.State, error) {
	outputs, err := DecodeMap(p.GetOutputsJson())
	if err != nil {
		return nil, fmt.Errorf("outputs_json: %w", err)
	}
	config, err := DecodeMap(p.GetConfigJson())
	if err != nil {
		return nil, fmt.Errorf("config_json: %w", err)
	}
	s := &stores.State{
		ResourceID: p.GetResourceId(), ResourceType: p.GetResourceType(), Provider: p.GetProvider(),
		ProviderRef: p.GetProviderRef(), ProviderID: p.GetProviderId(), ConfigHash: p.GetConfigHash(),
		Status: p.GetStatus(), Outputs: outputs, Config: config,
		CreatedAt: p.GetCreatedAt(), UpdatedAt: p.GetUpdatedAt(), Error: p.GetError(),
	}
	if len(p.GetDependencies()) > 0 {
		s.Dependencies = p.GetDependencies()
	}
	return s, nil
}

// EntryToProto converts a listed entry; a record that cannot be encoded
// travels as an unreadable entry saying why.
func EntryToProto(e stores.Entry) *lockadminpb.Entry {
	out := &lockadminpb.Entry{Id: e.ID, Source: e.Source, Problem: e.Problem}
	if e.State != nil {
		pb, err := ToProto(e.State)
		if err != nil {
			out.Problem = err.Error()
		} else {
			out.State = pb
		}
	}
	return out
}

// EntryFromProto converts a listed entry back.
func EntryFromProto(p *lockadminpb.Entry) stores.Entry {
	e := stores.Entry{ID: p.GetId(), Source: p.GetSource(), Problem: p.GetProblem()}
	if p.GetState() != nil && e.Problem == "" {
		st, err := FromProto(p.GetState())
		if err != nil {
			e.Problem = err.Error()
		} else {
			e.State = st
		}
	}
	return e
}

// LockToProto converts a lock.
func LockToProto(l stores.LockInfo) *lockadminpb.LockInfo {
	out := &lockadminpb.LockInfo{
		ResourceId: l.ResourceID, Token: l.Token, HolderGone: l.HolderGone, Verdict: string(l.Verdict),
		Evidence: l.Evidence, Source: l.Source, Release: l.Release, Raw: l.Raw,
		AcquiredAt: timestamp(l.AcquiredAt),
	}
	if h := l.Holder; h != nil {
		out.Holder = &lockadminpb.Holder{
			Tool: h.Tool, User: h.User, Host: h.Host, Pid: int64(h.PID), Operation: h.Operation,
			Since: timestamp(h.Since), Nonce: h.Nonce, Details: h.Details,
		}
	}
	return out
}

// LockFromProto converts a lock back.
func LockFromProto(p *lockadminpb.LockInfo) stores.LockInfo {
	l := stores.LockInfo{
		ResourceID: p.GetResourceId(), Token: p.GetToken(), HolderGone: p.GetHolderGone(),
		Verdict: stores.Verdict(p.GetVerdict()), Evidence: p.GetEvidence(), Source: p.GetSource(),
		Release: p.GetRelease(), Raw: p.GetRaw(), AcquiredAt: fromTimestamp(p.GetAcquiredAt()),
	}
	if h := p.GetHolder(); h != nil {
		l.Holder = &stores.Holder{
			Tool: h.GetTool(), User: h.GetUser(), Host: h.GetHost(), PID: int(h.GetPid()), Operation: h.GetOperation(),
			Since: fromTimestamp(h.GetSince()), Nonce: h.GetNonce(), Details: h.GetDetails(),
		}
	}
	return l
}

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func fromTimestamp(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}
