import Foundation
import Testing
import LaminarData

/// IDX reading and MNIST-format directories.
@Suite struct IDXTests {
    static let sharedMNIST = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared/data/mnist-t10k").standardized.path

    @Test func roundTripAndGzip() throws {
        let original = IDXFile(shape: [2, 3, 2], bytes: (0..<12).map { UInt8($0 * 20) })
        #expect(try IDXFile.parse(original.serialized(), path: "x") == original)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("idx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let raw = dir.appendingPathComponent("a-idx3-ubyte")
        try Data(original.serialized()).write(to: raw)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-k", raw.path]
        try gzip.run()
        gzip.waitUntilExit()
        #expect(try IDXFile.read(path: raw.path + ".gz") == original)
        // A truncated gzip stream is an error naming the file.
        let gz = try Data(contentsOf: URL(fileURLWithPath: raw.path + ".gz"))
        #expect(throws: DataError.self) { try IDXFile.parse([UInt8](gz.prefix(gz.count - 12)), path: "t.gz") }
    }

    @Test func corruptFilesGiveTypedErrorsNamingTheProblem() {
        let good = IDXFile(shape: [2, 2], bytes: [1, 2, 3, 4]).serialized()
        let cases: [([UInt8], String)] = [
            ([1, 0, 8, 2] + Array(good[4...]), "magic"),
            ([0, 0, 0x0D, 2] + Array(good[4...]), "element type"),
            ([0, 0, 8, 9] + Array(good[4...]), "dimensions"),
            (Array(good.dropLast()), "truncated"),
            (good + [0], "after the data"),
            ([0, 0, 8], "shorter"),
        ]
        for (bytes, word) in cases {
            do {
                _ = try IDXFile.parse(bytes, path: "digits.idx")
                Issue.record("accepted a corrupt file (\(word))")
            } catch let error as DataError {
                #expect("\(error)".contains("digits.idx") && "\(error)".contains(word), "\(error)")
            } catch {
                Issue.record("untyped error \(error)")
            }
        }
    }

    @Test(.enabled(
        if: FileManager.default.fileExists(atPath: MNISTFormat.fashionMNISTDirectory),
        "\(MNISTFormat.fashionMNISTDirectory) is absent (apt-get install dataset-fashion-mnist)"))
    func fashionMNISTLoadsWhenInstalled() throws {
        let splits = try MNISTFormat.load(directory: MNISTFormat.fashionMNISTDirectory)
        #expect(splits.train.count == 60_000 && splits.test.count == 10_000 && splits.note == nil)
        #expect(splits.train.height == 28 && splits.train.width == 28)
    }

    @Test(.enabled(
        if: FileManager.default.fileExists(atPath: IDXTests.sharedMNIST),
        "\(IDXTests.sharedMNIST) is absent (the real MNIST test digits are not part of a clone)"))
    func testOnlyDirectoryIsSplitNineToOne() throws {
        let splits = try MNISTFormat.load(directory: Self.sharedMNIST)
        #expect(splits.train.count == 9_000 && splits.test.count == 1_000)
        #expect(splits.note?.contains("only t10k") == true)
        #expect(Set(splits.test.labels) == Set(0...9))
    }

    @Test func mismatchedImagesAndLabelsAreRejected() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mnist-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(IDXFile(shape: [20, 2, 2], bytes: [UInt8](repeating: 7, count: 80)).serialized())
            .write(to: dir.appendingPathComponent("t10k-images-idx3-ubyte"))
        try Data(IDXFile(shape: [19], bytes: [UInt8](repeating: 1, count: 19)).serialized())
            .write(to: dir.appendingPathComponent("t10k-labels-idx1-ubyte"))
        #expect(throws: DataError.self) { try MNISTFormat.load(directory: dir.path) }
    }
}
