// swift-tools-version:6.0
import PackageDescription

// Release builds skip bounds and exclusivity checks in the numeric modules; debug builds keep them.
let fast: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Grus",
    products: [
        .executable(name: "grus", targets: ["grus"]),
        .library(name: "GrusCore", targets: ["GrusCore"]),
        .library(name: "GrusNN", targets: ["GrusNN"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
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
        .executableTarget(name: "grus", dependencies: [
            "GrusCore", "GrusNN",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "GrusCoreTests", dependencies: ["GrusCore"]),
        .testTarget(name: "GrusNNTests", dependencies: ["GrusNN", "GrusCore"],
                    resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
