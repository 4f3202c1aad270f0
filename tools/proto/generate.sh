#!/usr/bin/env bash
# Regenerates Sources/Importers/TensorFlowGraph.pb.swift from tensorflow_graph_subset.proto.
# The generated file is committed; CI never runs this. Run it only after editing the .proto.
#
# Needs:
#   - protoc (Debian: apt-get install -y protobuf-compiler; 3.21 was used)
#   - protoc-gen-swift of the SAME release as the SwiftProtobuf runtime in Package.resolved (1.39.x):
#       git clone https://github.com/apple/swift-protobuf /tmp/swift-protobuf   # or the local mirror
#       cd /tmp/swift-protobuf && git checkout 1.39.0 && swift build -c release --product protoc-gen-swift
#     then pass PROTOC_GEN_SWIFT=/tmp/swift-protobuf/.build/release/protoc-gen-swift, or put it on PATH.
#
# Usage: tools/proto/generate.sh   (from anywhere; paths are relative to the repository root)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"
if [[ -z "$plugin" || ! -x "$plugin" ]]; then
    echo "generate.sh: protoc-gen-swift not found; set PROTOC_GEN_SWIFT or add it to PATH (see the header)." >&2
    exit 1
fi
if ! command -v protoc >/dev/null; then
    echo "generate.sh: protoc not found (apt-get install -y protobuf-compiler)." >&2
    exit 1
fi

output="$root/Sources/Importers"
mkdir -p "$output"
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT

# Internal visibility: the message types are an implementation detail of TFGraphDefImporter.
protoc \
    --plugin=protoc-gen-swift="$plugin" \
    --proto_path="$root/tools/proto" \
    --swift_out="$staging" \
    --swift_opt=Visibility=Internal \
    --swift_opt=FileNaming=DropPath \
    "$root/tools/proto/tensorflow_graph_subset.proto"

mv "$staging/tensorflow_graph_subset.pb.swift" "$output/TensorFlowGraph.pb.swift"
echo "wrote $output/TensorFlowGraph.pb.swift"
