import Testing
@testable import LaminarTensor
import LaminarAutodiff
import _LaminarTestSupport

/// First- and second-order finite-difference checks, in Double, of the convolutions on the two
/// Winograd engines and their two adjoint products, every direction forced onto them: 3 × 3
/// stride-1 padding-1 (`WinogradEngine`: odd and even maps) and 4 × 4 stride-2 padding-1
/// (`PolyphaseWinogradEngine`: partial and whole tiles, a 1 × 1 output); batch 1 and more, with
/// and without bias, on one thread and on two.
@Suite struct WinogradGradientTests {
    static let cases = [
        OperationCase("winograd conv2d 5×5 + bias", [[2, 3, 5, 5], [4, 3, 3, 3], [4]]) {
            square(conv2d($0[0], weight: $0[1], bias: $0[2], padding: 1))
        },
        OperationCase("winograd conv2d 4×6 batch 1", [[1, 2, 4, 6], [3, 2, 3, 3]]) {
            square(conv2d($0[0], weight: $0[1], padding: 1))
        },
        OperationCase("winograd input gradient 7×7", [[2, 3, 7, 7], [3, 2, 3, 3]]) {
            square(conv2dBackwardInput($0[0], weight: $0[1], inputShape: [2, 2, 7, 7], stride: 1, padding: 1))
        },
        OperationCase("winograd weight gradient 3×4", [[3, 2, 3, 4], [3, 3, 3, 4]]) {
            square(conv2dBackwardWeight($0[0], gradOutput: $0[1], weightShape: [3, 2, 3, 3], stride: 1, padding: 1))
        },
        OperationCase("polyphase conv2d 7×7 + bias", [[2, 3, 7, 7], [4, 3, 4, 4], [4]]) {
            square(conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1))
        },
        OperationCase("polyphase conv2d 4×9 batch 1", [[1, 2, 4, 9], [3, 2, 4, 4]]) {
            square(conv2d($0[0], weight: $0[1], stride: 2, padding: 1))
        },
        OperationCase("polyphase conv2d 2×3 (1×1 output)", [[2, 2, 2, 3], [2, 2, 4, 4], [2]]) {
            square(conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1))
        },
        OperationCase("polyphase input gradient 9×8", [[2, 3, 4, 4], [3, 2, 4, 4]]) {
            square(conv2dBackwardInput($0[0], weight: $0[1], inputShape: [2, 2, 9, 8], stride: 2, padding: 1))
        },
        OperationCase("polyphase weight gradient 6×5", [[3, 2, 6, 5], [3, 3, 3, 2]]) {
            square(conv2dBackwardWeight($0[0], gradOutput: $0[1], weightShape: [3, 2, 4, 4], stride: 2, padding: 1))
        },
    ]

    static let threadCounts = [1, 2]

    @Test(arguments: cases)
    func firstOrderGradientMatchesFiniteDifferences(_ op: OperationCase) {
        for threads in Self.threadCounts {
            RowParallel.$threadCount.withValue(threads) {
                ConvEngine.$algorithm.withValue(.winograd) {
                    let result = checkGradient(op.f, at: op.inputs())
                    // Central differences, h = 1e-6: truncation ~1e-12, rounding ~1e-10 relative.
                    #expect(result.maxError < 1e-6, "\(op.name), threads \(threads): \(result)")
                }
            }
        }
    }

    @Test(arguments: cases)
    func secondOrderGradientMatchesFiniteDifferences(_ op: OperationCase) {
        for threads in Self.threadCounts {
            RowParallel.$threadCount.withValue(threads) {
                ConvEngine.$algorithm.withValue(.winograd) {
                    let result = checkSecondOrderGradient(op.f, at: op.inputs())
                    // Differences of a gradient, h = 1e-5: truncation ~1e-10, rounding ~1e-11/h relative.
                    #expect(result.maxError < 1e-5, "\(op.name), threads \(threads): \(result)")
                }
            }
        }
    }
}
