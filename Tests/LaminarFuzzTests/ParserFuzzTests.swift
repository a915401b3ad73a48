import Foundation
import Testing
import _LaminarFuzzTargets

/// Mutation fuzzing of every file parser, in process and deterministic: a crash fails the run.
/// `make fuzz` runs the same targets under libFuzzer for longer.
@Suite struct ParserFuzzTests {
    /// Executions per target; `LAMINAR_FUZZ_ITERATIONS` raises it for longer local runs.
    static let iterations = Int(ProcessInfo.processInfo.environment["LAMINAR_FUZZ_ITERATIONS"] ?? "") ?? 3_000

    @Test(arguments: FuzzTarget.allCases)
    func mutatedInputsAreAcceptedOrRejectedWithTypedErrors(_ target: FuzzTarget) {
        for seed in target.seeds { #expect(target.run(seed) == .accepted, "\(target): a seed input is rejected") }
        let result = fuzz(target, iterations: Self.iterations, seed: 1)
        print("fuzz \(target.rawValue): \(result.executions) executions, \(result.accepted) accepted, \(result.rejected) rejected, 0 crashes")
        #expect(result.executions == Self.iterations + target.seeds.count)
        // The mutations must reach the error paths, or the run proves nothing.
        #expect(result.rejected > Self.iterations / 10, "\(target): only \(result.rejected) inputs rejected")
    }

    /// Regression inputs (each was a crash or an untyped failure found by fuzzing).
    @Test func regressionInputs() {
        let cases: [(FuzzTarget, [UInt8])] = [
            // IDX header claiming 2³²−1 × 2³²−1 elements: must not overflow or allocate.
            (.idx, [0, 0, 8, 2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
            // Found by libFuzzer: a zero dimension next to huge ones overflowed the shape product.
            // (It is a valid empty array and is accepted; see `emptyArrayWithHugeDimensions`.)
            // gzip magic followed by garbage.
            (.idx, [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]),
            // safetensors header length near Int.max.
            (.safetensors, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x7B, 0x7D]),
            (.npy, Array("\u{93}NUMPY".utf8) + [1, 0, 0xFF, 0xFF]),
            (.pointsCSV, Array("x,y\n1e999999,2\n".utf8)),
            // Found by fuzzing: a ')' before the '(' of the shape crashed the .npy header parser.
            (.npy, Self.npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': )3, 2(, }")),
            // Found by review of the same code: a shape whose element count overflows Int.
            (.npy, Self.npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }")),
        ]
        for (target, bytes) in cases { #expect(target.run(bytes) == .rejected, "\(target)") }
    }

    @Test func emptyArrayWithHugeDimensions() throws {
        let bytes: [UInt8] = [0, 0, 8, 4, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0x6E, 0, 0, 8, 0, 0, 0, 0, 0, 0]
        #expect(FuzzTarget.idx.run(bytes) == .accepted)
    }

    static func npy(header: String) -> [UInt8] {
        let h = Array(header.utf8)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h + [UInt8](repeating: 0, count: 48)
    }
}
