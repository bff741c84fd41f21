package server

import (
	"context"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"statescope/remote/proto/iacpb"
	"statescope/remote/proto/pluginpb"
)

// RegisterPlugin adds Register's services and the PluginService that a
// workflow host queries after the handshake, before it uses the backend.
func (s *Server) RegisterPlugin(g *grpc.Server) {
	s.Register(g)
	pluginpb.RegisterPluginServiceServer(g, &pluginService{services: g.GetServiceInfo})
}

// iacPackage prefixes the services a host may find in the contract
// registry; taken from the descriptor so it follows the proto.
var iacPackage = string(iacpb.File_iacpb_iac_proto.Package()) + "."

// pluginService answers the host's loading calls for a state-only plugin.
type pluginService struct {
	pluginpb.UnimplementedPluginServiceServer
	services func() map[string]grpc.ServiceInfo
}

// GetManifest leaves the manifest to plugin.json: Unimplemented is the
// host's cue to use it, and only plugin.json can declare iacStateBackends,
// which the host checks against ListBackendNames.
func (*pluginService) GetManifest(context.Context, *emptypb.Empty) (*pluginpb.Manifest, error) {
	return nil, status.Error(codes.Unimplemented, "statescope embeds no manifest: the host reads plugin.json beside the binary")
}

// GetTriggerTypes lists none, so the host sets up no trigger callbacks.
func (*pluginService) GetTriggerTypes(context.Context, *emptypb.Empty) (*pluginpb.TypeList, error) {
	return &pluginpb.TypeList{}, nil
}

// GetContractRegistry lists a SERVICE descriptor for each registered
// workflow IaC service, sorted; the host loads a state backend only from a
// plugin whose registry names IaCStateBackend.
func (p *pluginService) GetContractRegistry(context.Context, *emptypb.Empty) (*pluginpb.ContractRegistry, error) {
	var names []string
	for name := range p.services() {
		if strings.HasPrefix(name, iacPackage) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	reg := &pluginpb.ContractRegistry{}
	for _, name := range names {
		reg.Contracts = append(reg.Contracts, &pluginpb.ContractDescriptor{
			Kind:        pluginpb.ContractKind_CONTRACT_KIND_SERVICE,
			ServiceName: name,
			Mode:        pluginpb.ContractMode_CONTRACT_MODE_STRICT_PROTO,
		})
	}
	return reg, nil
}
