package proto_test

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"statescope/remote/proto/pluginpb"
)

// The PluginService subset a host calls on load, checked against upstream
// workflow plugin/external/proto/plugin.proto (package workflow.plugin.v1).
func TestPluginServiceNames(t *testing.T) {
	fd := pluginpb.File_pluginpb_plugin_proto
	if fd.Package() != "workflow.plugin.v1" {
		t.Fatalf("package %s", fd.Package())
	}
	sd := fd.Services().ByName("PluginService")
	if sd == nil || sd.FullName() != "workflow.plugin.v1.PluginService" {
		t.Fatalf("service: %v", sd)
	}
	rpcs := map[string]string{
		"GetManifest":         "Manifest",
		"GetTriggerTypes":     "TypeList",
		"GetContractRegistry": "ContractRegistry",
	}
	if sd.Methods().Len() != len(rpcs) {
		t.Errorf("service has %d methods, want %d", sd.Methods().Len(), len(rpcs))
	}
	for name, out := range rpcs {
		m := sd.Methods().ByName(protoreflect.Name(name))
		if m == nil {
			t.Errorf("missing RPC %s", name)
			continue
		}
		if m.IsStreamingClient() || m.IsStreamingServer() {
			t.Errorf("%s is streaming", name)
		}
		if got := m.Input().FullName(); got != "google.protobuf.Empty" {
			t.Errorf("%s request is %s", name, got)
		}
		if got := m.Output().FullName(); got != protoreflect.FullName("workflow.plugin.v1."+out) {
			t.Errorf("%s response is %s", name, got)
		}
	}
	if pluginpb.PluginService_GetContractRegistry_FullMethodName != "/workflow.plugin.v1.PluginService/GetContractRegistry" {
		t.Errorf("method path %s", pluginpb.PluginService_GetContractRegistry_FullMethodName)
	}
}

func TestPluginMessageFields(t *testing.T) {
	str, enum := protoreflect.StringKind, protoreflect.EnumKind
	contract := map[string][]field{
		"Manifest":           {{"name", 1, str, false}, {"version", 2, str, false}, {"author", 3, str, false}, {"description", 4, str, false}},
		"TypeList":           {{"types", 1, str, true}},
		"ContractRegistry":   {{"contracts", 1, protoreflect.MessageKind, true}},
		"ContractDescriptor": {{"kind", 1, enum, false}, {"service_name", 5, str, false}, {"mode", 10, enum, false}},
	}
	msgs := pluginpb.File_pluginpb_plugin_proto.Messages()
	checkFields(t, msgs, contract)
	reg := msgs.ByName("ContractRegistry").Fields().ByName("contracts").Message().FullName()
	if reg != "workflow.plugin.v1.ContractDescriptor" {
		t.Errorf("ContractRegistry.contracts is %s", reg)
	}
	cd := msgs.ByName("ContractDescriptor").Fields()
	for fieldName, enumName := range map[string]protoreflect.FullName{"kind": "workflow.plugin.v1.ContractKind", "mode": "workflow.plugin.v1.ContractMode"} {
		if got := cd.ByName(protoreflect.Name(fieldName)).Enum().FullName(); got != enumName {
			t.Errorf("ContractDescriptor.%s is %s", fieldName, got)
		}
	}
}

func TestPluginEnumValues(t *testing.T) {
	want := map[protoreflect.FullName]map[string]protoreflect.EnumNumber{
		"workflow.plugin.v1.ContractKind": {
			"CONTRACT_KIND_UNSPECIFIED": 0, "CONTRACT_KIND_MODULE": 1, "CONTRACT_KIND_STEP": 2,
			"CONTRACT_KIND_SERVICE": 3, "CONTRACT_KIND_TRIGGER": 4, "CONTRACT_KIND_MESSAGE": 5,
		},
		"workflow.plugin.v1.ContractMode": {
			"CONTRACT_MODE_UNSPECIFIED": 0, "CONTRACT_MODE_LEGACY_STRUCT": 1,
			"CONTRACT_MODE_PROTO_WITH_LEGACY_STRUCT": 2, "CONTRACT_MODE_STRICT_PROTO": 3,
		},
	}
	enums := pluginpb.File_pluginpb_plugin_proto.Enums()
	for full, values := range want {
		ed := enums.ByName(full.Name())
		if ed == nil || ed.FullName() != full {
			t.Errorf("missing enum %s", full)
			continue
		}
		if ed.Values().Len() != len(values) {
			t.Errorf("%s has %d values, want %d", full, ed.Values().Len(), len(values))
		}
		for name, num := range values {
			v := ed.Values().ByName(protoreflect.Name(name))
			if v == nil || v.Number() != num {
				t.Errorf("%s.%s = %v, want %d", full, name, v, num)
			}
		}
	}
}
