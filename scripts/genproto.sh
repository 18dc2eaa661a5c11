#!/usr/bin/env bash
# Regenerates the Go code of the plugin gRPC protocol (sdk/wire/pluginpb) from
# skill.proto. The generated files are committed, so builds never need protoc;
# run this only after editing a .proto file.
#
# Reproducible: protoc-gen-go is installed at the google.golang.org/protobuf
# version go.mod requires (the runtime and the generator must match), and
# protoc-gen-go-grpc at a pinned version (it is versioned apart from grpc-go;
# v1.6.x needs grpc-go >= 1.64). Both go into a private bin dir, so whatever is
# on PATH does not matter. protoc comes from Debian's protobuf-compiler and is
# installed with apt-get when missing and this runs as root.
set -euo pipefail

GRPC_GEN_VERSION=v1.6.2
PROTOC_WANT=3.21.12 # the version the committed files were generated with

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! command -v protoc >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ]; then
		apt-get update
		apt-get install -y protobuf-compiler
	else
		echo "genproto: protoc not found; install it (Debian: apt-get install -y protobuf-compiler)" >&2
		exit 1
	fi
fi
have=$(protoc --version | awk '{print $2}')
if [ "$have" != "$PROTOC_WANT" ]; then
	echo "genproto: warning: protoc $have, the committed files used $PROTOC_WANT (only the header comment should differ)" >&2
fi

pb_version=$(go list -m -f '{{.Version}}' google.golang.org/protobuf)
bin="${XDG_CACHE_HOME:-$HOME/.cache}/skills-genproto/protobuf-$pb_version-grpc-$GRPC_GEN_VERSION"
mkdir -p "$bin"
if [ ! -x "$bin/protoc-gen-go" ] || [ ! -x "$bin/protoc-gen-go-grpc" ]; then
	GOBIN="$bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$pb_version"
	GOBIN="$bin" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$GRPC_GEN_VERSION"
fi

PATH="$bin:$PATH" protoc \
	--proto_path=sdk/wire/pluginpb \
	--go_out=sdk/wire/pluginpb --go_opt=paths=source_relative \
	--go-grpc_out=sdk/wire/pluginpb --go-grpc_opt=paths=source_relative \
	skill.proto
echo "genproto: wrote sdk/wire/pluginpb/skill.pb.go and skill_grpc.pb.go"
