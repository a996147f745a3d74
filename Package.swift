// swift-tools-version:6.0
import PackageDescription

import Foundation

// Release builds skip bounds and exclusivity checks in the numeric modules; debug builds keep them.
// On x86-64 they also target haswell (AVX2, FMA: every x86 server CPU since 2015) so the gate
// loops vectorise 8 floats wide. GRUS_TARGET_CPU overrides it (e.g. `native`, or `none`).
var fastFlags = ["-Ounchecked", "-enforce-exclusivity=unchecked"]
#if arch(x86_64)
let targetCPU = ProcessInfo.processInfo.environment["GRUS_TARGET_CPU"] ?? "haswell"
#else
let targetCPU = ProcessInfo.processInfo.environment["GRUS_TARGET_CPU"] ?? "none"
#endif
if targetCPU != "none" { fastFlags += ["-target-cpu", targetCPU] }
// Debug builds still optimise these modules (keeping every check): the generic gate kernels are
// far too slow unspecialised, and the test suite runs in debug.
let fast: [SwiftSetting] = [
    .unsafeFlags(fastFlags, .when(configuration: .release)),
    .unsafeFlags(["-O"], .when(configuration: .debug)),
]

let package = Package(
    name: "Grus",
    products: [
        .executable(name: "grus", targets: ["grus"]),
        .library(name: "GrusCore", targets: ["GrusCore"]),
        .library(name: "GrusNN", targets: ["GrusNN"]),
        .library(name: "GrusAudio", targets: ["GrusAudio"]),
        .library(name: "GrusText", targets: ["GrusText"]),
        .library(name: "GrusTasks", targets: ["GrusTasks"]),
        .library(name: "GrusInference", targets: ["GrusInference"]),
        .library(name: "GrusTrain", targets: ["GrusTrain"]),
        .library(name: "GrusRecipes", targets: ["GrusRecipes"]),
        .library(name: "GrusReports", targets: ["GrusReports"]),
        .library(name: "GrusExport", targets: ["GrusExport"]),
        .library(name: "GrusExperiment", targets: ["GrusExperiment"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/JohnSundell/Plot", from: "0.14.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // System libraries (Debian: libopenblas-dev, libfftw3-dev, libsndfile1-dev).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CFFTW", path: "Sources/CFFTW", pkgConfig: "fftw3f",
                       providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CSndFile", path: "Sources/CSndFile", pkgConfig: "sndfile",
                       providers: [.apt(["libsndfile1-dev"])]),

        .target(name: "GrusCore", dependencies: ["CBLAS"], swiftSettings: fast),
        .target(name: "GrusNN", dependencies: ["GrusCore"], swiftSettings: fast),
        .target(name: "GrusText", dependencies: ["GrusCore"], swiftSettings: fast),
        .target(name: "GrusAudio", dependencies: ["GrusCore", "CSndFile", "CFFTW"], swiftSettings: fast),
        .target(name: "GrusData", dependencies: ["GrusCore", "GrusAudio", "GrusText"]),
        .target(name: "GrusTasks", dependencies: ["GrusCore", "GrusNN", "GrusData"]),
        .target(name: "GrusInference", dependencies: ["GrusCore", "GrusNN", "GrusAudio", "GrusText", "GrusData", "GrusTasks"]),
        .target(name: "GrusTrain", dependencies: ["GrusCore", "GrusNN", "GrusAudio", "GrusText", "GrusData", "GrusTasks", "GrusInference"]),
        .target(name: "GrusRecipes", dependencies: ["GrusCore", "GrusNN", "GrusAudio", "GrusText", "GrusData", "GrusTasks", "GrusTrain",
                                                    .product(name: "Yams", package: "Yams")]),
        .target(name: "GrusReports", dependencies: ["GrusCore", "GrusData", "GrusTasks", "GrusTrain", "GrusRecipes",
                                                    .product(name: "Plot", package: "Plot"),
                                                    .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(name: "GrusExport", dependencies: ["GrusCore", "GrusNN", "GrusAudio", "GrusTasks", "GrusInference",
                                                   .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(name: "GrusExperiment", dependencies: ["GrusCore", "GrusNN", "GrusAudio", "GrusText", "GrusData", "GrusTasks",
                                                       "GrusInference", "GrusTrain", "GrusRecipes", "GrusReports"]),
        .executableTarget(name: "grus", dependencies: [
            "GrusCore", "GrusNN", "GrusAudio", "GrusText", "GrusData", "GrusTasks", "GrusInference", "GrusTrain", "GrusRecipes",
            "GrusReports", "GrusExport", "GrusExperiment",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // What a program using Grus as a library looks like: GrusInference alone.
        .executableTarget(name: "label-and-spot", dependencies: ["GrusInference"], path: "Examples/label-and-spot"),

        .executableTarget(name: "grus-bench", dependencies: ["GrusCore", "GrusNN", "GrusAudio", "GrusText"], path: "bench/Sources/grus-bench",
                          swiftSettings: fast),

        .testTarget(name: "GrusCoreTests", dependencies: ["GrusCore"]),
        // Reads Sources/ and Package.swift: the modules' arrows point one way.
        .testTarget(name: "ArchitectureTests"),
        .testTarget(name: "GrusRecipesTests", dependencies: ["GrusExperiment", "GrusExport", "GrusReports", "GrusRecipes", "GrusTrain", "GrusInference", "GrusTasks", "GrusData", "GrusCore", "GrusAudio", "GrusNN"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "GrusTextTests", dependencies: ["GrusText", "GrusCore"]),
        .testTarget(name: "GrusAudioTests", dependencies: ["GrusAudio", "GrusCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "GrusNNTests", dependencies: ["GrusNN", "GrusCore"],
                    resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)

// Fuzz targets (libFuzzer supplies main): only with GRUS_FUZZ=1, built by fuzz/run.sh.
if ProcessInfo.processInfo.environment["GRUS_FUZZ"] == "1" {
    package.targets += [
        .target(name: "FuzzSupport", path: "fuzz/FuzzSupport"),
        .executableTarget(name: "FuzzSafetensors", dependencies: ["GrusCore", "FuzzSupport"], path: "fuzz/FuzzSafetensors"),
        .executableTarget(name: "FuzzRecipe", dependencies: ["GrusRecipes", "FuzzSupport"], path: "fuzz/FuzzRecipe"),
        .executableTarget(name: "FuzzText", dependencies: ["GrusText", "GrusData", "FuzzSupport"], path: "fuzz/FuzzText"),
        .executableTarget(name: "FuzzFeatures", dependencies: ["GrusAudio", "GrusCore", "FuzzSupport"], path: "fuzz/FuzzFeatures"),
        .executableTarget(name: "FuzzTagging", dependencies: ["GrusData", "GrusText", "FuzzSupport"], path: "fuzz/FuzzTagging"),
        .executableTarget(name: "FuzzCache", dependencies: ["GrusExperiment", "GrusData", "FuzzSupport"], path: "fuzz/FuzzCache"),
    ]
}
