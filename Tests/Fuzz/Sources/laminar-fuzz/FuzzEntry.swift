// libFuzzer driver for Laminar's parsers. The target is chosen with LAMINAR_FUZZ_TARGET (idx,
// safetensors, checkpoint, points-csv, npy, time-series-csv); LAMINAR_FUZZ_CORPUS names a directory that
// receives the seed inputs when it is empty. Other arguments are libFuzzer's.
import CLibFuzzer
import Foundation
import _LaminarFuzzTargets

nonisolated(unsafe) private var selected = FuzzTarget.idx

private func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    _ = selected.run(bytes)
    return 0
}

@main
enum LaminarFuzz {
    static func main() {
        let environment = ProcessInfo.processInfo.environment
        let name = environment["LAMINAR_FUZZ_TARGET"] ?? "idx"
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("LAMINAR_FUZZ_TARGET '\(name)' is unknown; use \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        selected = target
        if let corpus = environment["LAMINAR_FUZZ_CORPUS"] {
            try? FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
            if (try? FileManager.default.contentsOfDirectory(atPath: corpus))?.isEmpty ?? true {
                for (i, seed) in target.seeds.enumerated() {
                    FileManager.default.createFile(atPath: "\(corpus)/seed-\(i)", contents: Data(seed))
                }
            }
        }
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in testOneInput(data, size) })
    }
}
