// swift-tools-version:6.0
// libFuzzer build of Laminar's file parsers (`make fuzz`). Built with
// `-sanitize=fuzzer,address` for every module, so coverage reaches into the parsers.
import Foundation
import PackageDescription

// A path dependency's identity is its directory name, which differs between clones.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let rootIdentity = root.lastPathComponent.lowercased()

let package = Package(
    name: "LaminarFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "../..")],
    targets: [
        .target(name: "CLibFuzzer", path: "Sources/CLibFuzzer"),
        .executableTarget(
            name: "laminar-fuzz",
            dependencies: [.product(name: "_LaminarFuzzTargets", package: rootIdentity), "CLibFuzzer"]),
    ]
)
