import Foundation
import Testing
import LaminarNN
import _LaminarTestSupport

/// The safetensors reader and writer, against a file written by Python and against Python's reader.
@Suite struct SafetensorsTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fixture = packageRoot.appendingPathComponent("../shared/fixtures/safetensors/python-written.safetensors")
    static let expected = packageRoot.appendingPathComponent("../shared/fixtures/safetensors/python-written.expected.json")
    static var sharedPresent: Bool { FileManager.default.fileExists(atPath: fixture.path) }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("laminar-nn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    struct Expected: Decodable { let dtype: String; let shape: [Int]; let sum: Double; let first: [Double] }

    @Test(.enabled(if: sharedPresent, "../shared/fixtures is absent (a user's clone): the Python-written fixture check is skipped"))
    func readsThePythonWrittenFixtureExactly() throws {
        let file = try SafetensorsFile.read(from: Self.fixture)
        let expected = try JSONDecoder().decode([String: Expected].self, from: Data(contentsOf: Self.expected))
        #expect(Set(file.entries.keys) == Set(expected.keys))
        #expect(file.metadata["model"] == "fixture")
        let names = ["float32": "F32", "float64": "F64", "int64": "I64"]
        for (name, e) in expected {
            let entry = try #require(file.entries[name])
            #expect(entry.dtype == names[e.dtype], "\(name)")
            #expect(entry.shape == e.shape, "\(name)")
            let t = try file.tensor(name, as: Double.self)
            // F32 values widen exactly to Double, so sums agree to summation-order rounding.
            #expect(Swift.abs(t.sumOfElements - e.sum) <= 1e-9 * Swift.max(1, Swift.abs(e.sum)), "\(name)")
            #expect(Array(t.scalars.prefix(e.first.count)) == e.first, "\(name)")
        }
    }

    @Test func writtenFilesRoundTripBitForBit() throws {
        let dir = try Self.temporaryDirectory()
        var rng = RandomGenerator(seed: 1)
        let tensors: [(String, Tensor<Float>)] = [
            ("a", .randomNormal([3, 4], using: &rng)), ("scalar", Tensor(2.5)), ("empty", Tensor(zeros: [0, 3])),
        ]
        let url = dir.appendingPathComponent("x.safetensors")
        try SafetensorsFile.write(tensors, metadata: ["k": "v"], to: url)
        let file = try SafetensorsFile.read(from: url)
        #expect(file.metadata == ["k": "v"])
        for (name, t) in tensors { #expect(try file.tensor(name, as: Float.self) == t) }
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["x.safetensors"])
    }

    @Test func pythonReadsWhatWeWrite() throws {
        let script = Self.packageRoot.appendingPathComponent("Scripts/check-safetensors.py").path
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import numpy"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return }
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            print("python3 with numpy is not available: the cross-reader check is skipped")
            return
        }
        let dir = try Self.temporaryDirectory()
        let url = dir.appendingPathComponent("y.safetensors")
        var rng = RandomGenerator(seed: 2)
        let a = Tensor<Double>.randomNormal([5, 2], using: &rng)
        try SafetensorsFile.write([("weights", a)], metadata: ["model": "test"], to: url)
        let run = Process()
        run.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        run.arguments = ["python3", script, url.path]
        let pipe = Pipe()
        run.standardOutput = pipe
        try run.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        run.waitUntilExit()
        #expect(run.terminationStatus == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let tensors = try #require(json["tensors"] as? [String: [String: Any]])
        let w = try #require(tensors["weights"])
        #expect(w["dtype"] as? String == "F64")
        #expect(w["shape"] as? [Int] == [5, 2])
        #expect(Swift.abs((w["sum"] as? Double ?? .nan) - a.sumOfElements) < 1e-12)
        #expect((json["metadata"] as? [String: String])?["model"] == "test")
    }

    static func bytes(header: String, payload: Int) -> [UInt8] {
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var out: [UInt8] = []
        for i in 0..<8 { out.append(UInt8((UInt64(h.count) >> (8 * UInt64(i))) & 0xFF)) }
        return out + h + [UInt8](repeating: 0, count: payload)
    }

    @Test func malformedFilesGiveTypedErrors() throws {
        func error(_ b: [UInt8]) -> CheckpointError? {
            do { _ = try SafetensorsFile.parse(b, path: "f"); return nil } catch { return error as? CheckpointError }
        }
        let good = Self.bytes(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, payload: 8)
        #expect(error(good) == nil)
        if case .truncated = error(Array(good.prefix(good.count - 3))) {} else { Issue.record("truncated payload") }
        if case .truncated = error([1, 2, 3]) {} else { Issue.record("short file") }
        if case .invalidHeader = error([255, 255, 255, 255, 0, 0, 0, 0]) {} else { Issue.record("huge header") }
        if case .invalidHeader = error(Self.bytes(header: "{not json", payload: 0)) {} else { Issue.record("bad JSON") }
        if case .badOffsets = error(Self.bytes(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, payload: 8)) {} else {
            Issue.record("byte count")
        }
        if case .badOffsets = error(Self.bytes(
            header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
            payload: 12)) {} else { Issue.record("overlap") }
        if case .unsupportedDType = error(Self.bytes(header: #"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, payload: 8)) {} else {
            Issue.record("dtype")
        }
    }
}
