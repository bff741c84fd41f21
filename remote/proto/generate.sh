#!/bin/sh
# Regenerates the Go code for statescope's protos. Needs protoc and the Go
# plugins (protoc-gen-go v1.36.12, protoc-gen-go-grpc) in PATH or in
# ~/.cache/statescope/bin.
set -eu
cd "$(dirname "$0")"
PATH="${STATESCOPE_TOOLS:-$HOME/.cache/statescope}/bin:$PATH"
protoc -I . -I /usr/include \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  iacpb/iac.proto lockadminpb/lockadmin.proto pluginpb/plugin.proto
