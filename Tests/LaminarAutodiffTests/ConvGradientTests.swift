import Testing
@testable import LaminarTensor
import LaminarAutodiff
import _LaminarTestSupport

/// First- and second-order finite-difference checks, in Double, of the convolution and its two
/// adjoint products in the geometries the models use, with the bias fused into the convolution,
/// with several images per chunk and with the batch split over two threads.
@Suite struct ConvGradientTests {
    static let cases = [
        OperationCase("conv2d 1×1 + bias", [[3, 3, 3, 4], [2, 3, 1, 1], [2]]) {
            square(conv2d($0[0], weight: $0[1], bias: $0[2]))
        },
        OperationCase("conv2d 4×4 stride 2 + bias", [[3, 2, 6, 6], [2, 2, 4, 4], [2]]) {
            square(conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1))
        },
        OperationCase("conv2d 3×3 batch", [[4, 2, 4, 4], [3, 2, 3, 3]]) {
            square(conv2d($0[0], weight: $0[1], padding: 1))
        },
        OperationCase("conv2d input gradient stride 2", [[2, 2, 3, 3], [2, 2, 4, 4]]) {
            square(conv2dBackwardInput($0[0], weight: $0[1], inputShape: [2, 2, 6, 6], stride: 2, padding: 1))
        },
        OperationCase("conv2d input gradient 1×1", [[3, 2, 3, 3], [2, 3, 1, 1]]) {
            square(conv2dBackwardInput($0[0], weight: $0[1], inputShape: [3, 3, 3, 3], stride: 1, padding: 0))
        },
        OperationCase("conv2d weight gradient stride 2", [[2, 2, 6, 6], [2, 2, 3, 3]]) {
            square(conv2dBackwardWeight($0[0], gradOutput: $0[1], weightShape: [2, 2, 4, 4], stride: 2, padding: 1))
        },
        OperationCase("conv2d weight gradient 1×1", [[3, 2, 3, 3], [3, 4, 3, 3]]) {
            square(conv2dBackwardWeight($0[0], gradOutput: $0[1], weightShape: [4, 2, 1, 1], stride: 1, padding: 0))
        },
    ]

    /// Engine settings under which every case is checked: one image per chunk on one thread,
    /// two images per chunk on one thread, and blocks of images on two threads.
    static let settings = [(1, 1), (2 * 2 * 16 * 16, 1), (1 << 22, 2)]

    @Test(arguments: cases)
    func firstOrderGradientMatchesFiniteDifferences(_ op: OperationCase) {
        for (budget, threads) in Self.settings {
            RowParallel.$threadCount.withValue(threads) {
                ConvEngine.$columnBudget.withValue(budget) {
                    let result = checkGradient(op.f, at: op.inputs())
                    // Central differences, h = 1e-6: truncation ~1e-12, rounding ~1e-10 relative.
                    #expect(result.maxError < 1e-6, "\(op.name), budget \(budget), threads \(threads): \(result)")
                }
            }
        }
    }

    @Test(arguments: cases)
    func secondOrderGradientMatchesFiniteDifferences(_ op: OperationCase) {
        for (budget, threads) in Self.settings {
            RowParallel.$threadCount.withValue(threads) {
                ConvEngine.$columnBudget.withValue(budget) {
                    let result = checkSecondOrderGradient(op.f, at: op.inputs())
                    // Differences of a gradient, h = 1e-5: truncation ~1e-10, rounding ~1e-11/h relative.
                    #expect(result.maxError < 1e-5, "\(op.name), budget \(budget), threads \(threads): \(result)")
                }
            }
        }
    }
}
