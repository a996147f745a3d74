#!/usr/bin/env bash
# Regenerates the Swift code of the protobuf messages Grus writes. Needs protoc (Debian:
# protobuf-compiler) and protoc-gen-swift built from swift-protobuf at the version Package.swift
# names (swift build -c release --product protoc-gen-swift in a package depending on it).
#   PROTOC_GEN_SWIFT=/path/to/protoc-gen-swift bash proto/generate.sh
set -euo pipefail
cd "$(dirname "$0")"
plugin=${PROTOC_GEN_SWIFT:?set PROTOC_GEN_SWIFT to the protoc-gen-swift binary}
protoc --plugin=protoc-gen-swift="$plugin" --swift_out=. --swift_opt=Visibility=Internal tensorboard_event.proto onnx_subset.proto
mkdir -p ../Sources/GrusReports/Generated ../Sources/GrusExport/Generated
mv tensorboard_event.pb.swift ../Sources/GrusReports/Generated/TensorBoardEvent.pb.swift
mv onnx_subset.pb.swift ../Sources/GrusExport/Generated/ONNX.pb.swift
