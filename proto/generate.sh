#!/usr/bin/env bash
# Regenerates the Swift code of the protobuf messages Grus writes. Needs protoc (Debian:
# protobuf-compiler) and protoc-gen-swift built from swift-protobuf at the version Package.swift
# names (swift build -c release --product protoc-gen-swift in a package depending on it).
#   PROTOC_GEN_SWIFT=/path/to/protoc-gen-swift bash proto/generate.sh
set -euo pipefail
cd "$(dirname "$0")"
plugin=${PROTOC_GEN_SWIFT:?set PROTOC_GEN_SWIFT to the protoc-gen-swift binary}
protoc --plugin=protoc-gen-swift="$plugin" --swift_out=. --swift_opt=Visibility=Internal tensorboard_event.proto onnx_subset.proto
mv tensorboard_event.pb.swift ../Sources/GrusRecipes/Generated/TensorBoardEvent.pb.swift
mkdir -p ../Sources/GrusRecipes/Generated
mv onnx_subset.pb.swift ../Sources/GrusRecipes/Generated/ONNX.pb.swift
