// swift-tools-version:6.0
//
// Laminar: continuous normalizing flows and neural ODEs in Swift.
//
// Build settings
// --------------
// * `LAMINAR_INTERNAL_CHECKS` compiles in expensive invariant checks (shape and stride
//   assertions inside kernels, graph consistency checks). Off by default; enable with
//   `swift build -Xswiftc -DLAMINAR_INTERNAL_CHECKS`. Benchmarks refuse to report numbers
//   from such builds.
// * Numerical tests are meant to run optimised:
//   `swift test -c release -Xswiftc -enable-testing` (what `make test` does).

import PackageDescription

// Cross-module optimisation (the generic tensor and autodiff code specialised for the scalar
// types where it is used, FFJORD<Float> calling Variable ops, instead of running through the
// generic runtime) is a build flag, `-Xswiftc -cross-module-optimization`, that the Makefile
// passes: `unsafeFlags` here would stop other packages from depending on Laminar by version.
// Without it, release builds still get the compiler's default, conservative cross-module
// optimisation.

let package = Package(
    name: "Laminar",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Laminar", targets: ["Laminar"]),
        .executable(name: "laminar", targets: ["laminar"]),
        // For the libFuzzer package in Tests/Fuzz; not API.
        .library(name: "_LaminarFuzzTargets", targets: ["_LaminarFuzzTargets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        // MARK: - C libraries (one shim each, imported only by the lowest layer that needs it)
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CPNG", path: "Sources/CPNG",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib",
            providers: [.apt(["zlib1g-dev"])]),
        // Open MPI's headers live outside the default include path; pkg-config (ompi-c) finds them.
        .systemLibrary(
            name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]),

        // MARK: - Public API
        .target(
            name: "LaminarTensor",
            dependencies: ["CBLAS", .product(name: "RealModule", package: "swift-numerics")]),
        .target(name: "LaminarAutodiff", dependencies: ["LaminarTensor"]),
        .target(name: "LaminarODE", dependencies: ["LaminarTensor", "LaminarAutodiff"]),
        .target(name: "LaminarDistributed", dependencies: ["CMPI"]),
        .target(name: "LaminarNN", dependencies: ["LaminarTensor", "LaminarAutodiff", "LaminarDistributed"]),
        // One training lifecycle (task protocol, loop, run directory) for every model.
        .target(
            name: "LaminarTraining",
            dependencies: ["LaminarTensor", "LaminarAutodiff", "LaminarNN", "LaminarDistributed"]),
        .target(name: "LaminarSDE", dependencies: ["LaminarTensor", "LaminarAutodiff", "LaminarODE"]),
        .target(name: "LaminarData", dependencies: ["LaminarTensor", "CZlib"]),
        .target(name: "LaminarImaging", dependencies: ["CPNG"]),
        .target(
            name: "LaminarFlows",
            dependencies: ["LaminarTensor", "LaminarAutodiff", "LaminarODE", "LaminarNN", "LaminarData", "LaminarDistributed", "LaminarTraining"]),
        .target(
            name: "LaminarClassifiers",
            dependencies: ["LaminarTensor", "LaminarAutodiff", "LaminarODE", "LaminarNN", "LaminarData", "LaminarDistributed", "LaminarTraining"]),
        .target(
            name: "LaminarLatentODE",
            dependencies: ["LaminarTensor", "LaminarAutodiff", "LaminarODE", "LaminarSDE", "LaminarNN", "LaminarData", "LaminarDistributed", "LaminarTraining"]),
        .target(
            name: "Laminar",
            dependencies: [
                "LaminarTensor", "LaminarAutodiff", "LaminarODE", "LaminarNN", "LaminarTraining",
                "LaminarData", "LaminarImaging", "LaminarFlows", "LaminarClassifiers", "LaminarLatentODE",
                "LaminarSDE",
                "LaminarDistributed",
            ]),
        .executableTarget(
            name: "laminar",
            dependencies: [
                "Laminar",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The benchmarks (`make bench`, `make bench-smoke`): a target of this package so that they
        // compile against the same build of the library as `make test` and `make demo`.
        .executableTarget(
            name: "laminar-bench",
            dependencies: ["Laminar", "CBLAS"],
            path: "Benchmarks/Sources/laminar-bench"),

        // MARK: - Implementation details (not API)
        .target(
            name: "_LaminarTestSupport",
            dependencies: ["LaminarTensor", "LaminarAutodiff"]),
        // The parsers as fuzz targets, shared by the mutation tests and `make fuzz` (libFuzzer).
        .target(
            name: "_LaminarFuzzTargets",
            dependencies: ["LaminarData", "LaminarNN", "LaminarFlows", "LaminarLatentODE"]),

        // MARK: - Unit test bundles (mirror the modules)
        .testTarget(
            name: "LaminarTensorTests",
            dependencies: ["LaminarTensor", "_LaminarTestSupport"]),
        .testTarget(
            name: "LaminarAutodiffTests",
            dependencies: ["LaminarAutodiff", "_LaminarTestSupport"]),
        .testTarget(
            name: "LaminarODETests",
            dependencies: ["LaminarODE", "LaminarNN", "_LaminarTestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "LaminarDistributedTests",
            dependencies: ["LaminarDistributed", "LaminarNN", "_LaminarTestSupport"]),
        .testTarget(
            name: "LaminarNNTests",
            dependencies: ["LaminarNN", "_LaminarTestSupport"]),
        .testTarget(
            name: "LaminarTrainingTests",
            dependencies: ["LaminarTraining", "_LaminarTestSupport"]),
        .testTarget(
            name: "LaminarDataTests",
            dependencies: ["LaminarData", "_LaminarTestSupport"]),
        .testTarget(
            name: "LaminarImagingTests",
            dependencies: ["LaminarImaging"]),
        .testTarget(
            name: "LaminarFlowsTests",
            dependencies: ["LaminarFlows", "_LaminarTestSupport"]),
        .testTarget(
            name: "LaminarClassifiersTests",
            dependencies: ["LaminarClassifiers", "_LaminarTestSupport"]),
        .testTarget(
            name: "LaminarSDETests",
            dependencies: ["LaminarSDE", "_LaminarTestSupport"]),
        .testTarget(
            name: "LaminarLatentODETests",
            dependencies: ["LaminarLatentODE", "_LaminarTestSupport"]),
        .testTarget(
            name: "LaminarFuzzTests",
            dependencies: ["_LaminarFuzzTargets"]),
        .testTarget(
            name: "LaminarCLITests",
            dependencies: ["Laminar", "laminar"]),
    ]
)
