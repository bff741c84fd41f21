// Package proto_test checks statescope's IaCStateBackend declaration against
// the contract table (workflow-state-compat.md §4.1–4.2): wire names and
// every field number and type.
package proto_test

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"statescope/remote/proto/iacpb"
)

func TestServiceAndMethodNames(t *testing.T) {
	sd := iacpb.File_iacpb_iac_proto.Services().ByName("IaCStateBackend")
	if sd == nil || sd.FullName() != "workflow.plugin.external.iac.IaCStateBackend" {
		t.Fatalf("service full name: %v", sd)
	}
	rpcs := [][3]string{
		{"Configure", "ConfigureRequest", "ConfigureResponse"},
		{"GetState", "GetStateRequest", "GetStateResponse"},
		{"SaveState", "SaveStateRequest", "SaveStateResponse"},
		{"ListStates", "ListStatesRequest", "ListStatesResponse"},
		{"DeleteState", "DeleteStateRequest", "DeleteStateResponse"},
		{"Lock", "LockRequest", "LockResponse"},
		{"Unlock", "UnlockRequest", "UnlockResponse"},
		{"ListBackendNames", "ListBackendNamesRequest", "ListBackendNamesResponse"},
	}
	if sd.Methods().Len() != len(rpcs) {
		t.Errorf("service has %d methods, contract has %d", sd.Methods().Len(), len(rpcs))
	}
	for _, r := range rpcs {
		m := sd.Methods().ByName(protoreflect.Name(r[0]))
		if m == nil {
			t.Errorf("missing RPC %s", r[0])
			continue
		}
		if m.IsStreamingClient() || m.IsStreamingServer() {
			t.Errorf("%s is streaming; the contract is unary", r[0])
		}
		if got := m.Input().FullName(); got != protoreflect.FullName("workflow.plugin.external.iac."+r[1]) {
			t.Errorf("%s request is %s", r[0], got)
		}
		if got := m.Output().FullName(); got != protoreflect.FullName("workflow.plugin.external.iac."+r[2]) {
			t.Errorf("%s response is %s", r[0], got)
		}
	}
	// The generated client dials these paths.
	if iacpb.IaCStateBackend_ListBackendNames_FullMethodName != "/workflow.plugin.external.iac.IaCStateBackend/ListBackendNames" {
		t.Errorf("method path %s", iacpb.IaCStateBackend_ListBackendNames_FullMethodName)
	}
}

type field struct {
	name     string
	number   protoreflect.FieldNumber
	kind     protoreflect.Kind
	repeated bool
}

func TestMessageFields(t *testing.T) {
	str := protoreflect.StringKind
	id := []field{{"resource_id", 1, str, false}}
	contract := map[string][]field{
		"IaCState": {
			{"resource_id", 1, str, false}, {"resource_type", 2, str, false}, {"provider", 3, str, false},
			{"provider_ref", 4, str, false}, {"provider_id", 5, str, false}, {"config_hash", 6, str, false},
			{"status", 7, str, false}, {"outputs_json", 8, protoreflect.BytesKind, false},
			{"config_json", 9, protoreflect.BytesKind, false}, {"dependencies", 10, str, true},
			{"created_at", 11, str, false}, {"updated_at", 12, str, false}, {"error", 13, str, false},
		},
		"ConfigureRequest":         {{"backend_name", 1, str, false}, {"config_json", 2, protoreflect.BytesKind, false}},
		"GetStateRequest":          id,
		"DeleteStateRequest":       id,
		"LockRequest":              id,
		"UnlockRequest":            id,
		"GetStateResponse":         {{"state", 1, protoreflect.MessageKind, false}, {"exists", 2, protoreflect.BoolKind, false}},
		"SaveStateRequest":         {{"state", 1, protoreflect.MessageKind, false}},
		"ListStatesRequest":        {{"filter", 1, protoreflect.MessageKind, true}},
		"ListStatesResponse":       {{"states", 1, protoreflect.MessageKind, true}},
		"ListBackendNamesResponse": {{"backend_names", 1, str, true}},
		"ConfigureResponse":        nil, "SaveStateResponse": nil, "DeleteStateResponse": nil,
		"LockResponse": nil, "UnlockResponse": nil, "ListBackendNamesRequest": nil,
	}
	msgs := iacpb.File_iacpb_iac_proto.Messages()
	checkFields(t, msgs, contract)
	filter := msgs.ByName("ListStatesRequest").Fields().ByName("filter")
	if !filter.IsMap() || filter.MapKey().Kind() != protoreflect.StringKind || filter.MapValue().Kind() != protoreflect.StringKind {
		t.Error("ListStatesRequest.filter is not map<string,string>")
	}
	for _, ref := range []struct{ msg, field, want string }{
		{"GetStateResponse", "state", "IaCState"}, {"SaveStateRequest", "state", "IaCState"}, {"ListStatesResponse", "states", "IaCState"},
	} {
		got := msgs.ByName(protoreflect.Name(ref.msg)).Fields().ByName(protoreflect.Name(ref.field)).Message().FullName()
		if got != protoreflect.FullName("workflow.plugin.external.iac."+ref.want) {
			t.Errorf("%s.%s is %s", ref.msg, ref.field, got)
		}
	}
	if iacpb.File_iacpb_iac_proto.Package() != "workflow.plugin.external.iac" {
		t.Errorf("package %s", iacpb.File_iacpb_iac_proto.Package())
	}
}

// checkFields compares every message in contract with its descriptor:
// the same fields, each with the contract's number, kind and cardinality.
func checkFields(t *testing.T, msgs protoreflect.MessageDescriptors, contract map[string][]field) {
	t.Helper()
	for name, fields := range contract {
		md := msgs.ByName(protoreflect.Name(name))
		if md == nil {
			t.Errorf("missing message %s", name)
			continue
		}
		if md.Fields().Len() != len(fields) {
			t.Errorf("%s has %d fields, contract has %d", name, md.Fields().Len(), len(fields))
		}
		for _, f := range fields {
			fd := md.Fields().ByName(protoreflect.Name(f.name))
			switch {
			case fd == nil:
				t.Errorf("%s.%s missing", name, f.name)
			case fd.Number() != f.number || fd.Kind() != f.kind || (fd.Cardinality() == protoreflect.Repeated) != f.repeated:
				t.Errorf("%s.%s = %d:%v (%v), contract %d:%v (repeated %v)", name, f.name, fd.Number(), fd.Kind(), fd.Cardinality(), f.number, f.kind, f.repeated)
			}
		}
	}
}
