// swift-tools-version:6.0
// A package that depends on Laminar the way a user's package does, to compile and run the
// README's library examples (Scripts/check-library-examples fills in the path and writes
// Sources/laminar-client/main.swift from the README; this file is its template).
import PackageDescription

let package = Package(
    name: "LaminarClient",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "@ROOT@")],
    targets: [
        .executableTarget(
            name: "laminar-client",
            dependencies: [.product(name: "Laminar", package: "@IDENTITY@")]),
    ]
)
