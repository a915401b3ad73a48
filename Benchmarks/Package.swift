// swift-tools-version:6.0
// Laminar's benchmarks: a separate package so that the library's build stays lean.
// `make bench` runs it in release mode; debug builds refuse to report numbers.
import Foundation
import PackageDescription

// A path dependency's identity is its directory name, which differs between clones.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let rootIdentity = root.lastPathComponent.lowercased()

let package = Package(
    name: "LaminarBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "..")],
    targets: [
        // Raw CBLAS, for the "matmul path vs raw BLAS" comparison.
        .systemLibrary(name: "CBLASBench", path: "Sources/CBLASBench"),
        .executableTarget(
            name: "laminar-bench",
            dependencies: [.product(name: "Laminar", package: rootIdentity), "CBLASBench"]),
    ]
)
