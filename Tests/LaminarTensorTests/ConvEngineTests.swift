import Testing
@testable import LaminarTensor
import _LaminarTestSupport

/// The convolution engine (batched im2col + GEMM per chunk of images, 1 × 1 without im2col,
/// blocks of images on threads) against direct loops in Double, and its Float results against
/// the Double reference.
@Suite struct ConvEngineTests {
    /// A geometry of the models: kernel, stride, padding.
    struct Shape: Sendable, CustomStringConvertible {
        let kernel, stride, padding: Int
        var description: String { "\(kernel)×\(kernel) s\(stride) p\(padding)" }
    }

    /// 3×3 "same" (ODE block, CNF fields), 3×3 valid (classifier stem), 4×4 stride 2 (downsampling),
    /// 1×1 (U-Net skips: the path without im2col), 2×2 stride 2 (pooling).
    static let shapes = [Shape(kernel: 3, stride: 1, padding: 1), Shape(kernel: 3, stride: 1, padding: 0),
                         Shape(kernel: 4, stride: 2, padding: 1), Shape(kernel: 1, stride: 1, padding: 0),
                         Shape(kernel: 2, stride: 2, padding: 0)]

    /// Column budgets: one image per chunk, three images per chunk (a remainder chunk of two),
    /// the whole batch in one chunk.
    static let budgets = [1, 3 * 4 * 9 * 36, 1 << 22]

    static func naiveBackward(_ x: Tensor<Double>, _ w: Tensor<Double>, _ gy: Tensor<Double>, stride: Int, padding: Int)
        -> (input: Tensor<Double>, weight: Tensor<Double>)
    {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, k) = (w.shape[0], w.shape[2])
        let (ho, wo) = (gy.shape[2], gy.shape[3])
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        for b in 0..<n { for oc in 0..<o { for oy in 0..<ho { for ox in 0..<wo {
            let g = gy[b, oc, oy, ox]
            for ic in 0..<c { for ky in 0..<k { for kx in 0..<k {
                let y = oy * stride + ky - padding, xx = ox * stride + kx - padding
                guard y >= 0 && y < h && xx >= 0 && xx < wd else { continue }
                dx[((b * c + ic) * h + y) * wd + xx] += g * w[oc, ic, ky, kx]
                dw[((oc * c + ic) * k + ky) * k + kx] += g * x[b, ic, y, xx]
            } } }
        } } } }
        return (Tensor(shape: x.shape, scalars: dx), Tensor(shape: w.shape, scalars: dw))
    }

    /// Forward (with bias) and both adjoint products equal the direct loops for every geometry,
    /// chunking and thread count, in Double, and stay within Float rounding in Float.
    @Test(arguments: shapes, budgets)
    func engineMatchesDirectLoops(shape: Shape, budget: Int) {
        var rng = RandomGenerator(seed: 21)
        let x = Tensor<Double>.randomNormal([5, 4, 7, 6], using: &rng)
        let w = Tensor<Double>.randomNormal([3, 4, shape.kernel, shape.kernel], using: &rng)
        let bias = Tensor<Double>.randomNormal([3], using: &rng)
        let y = ConvolutionKernelTests.naiveConv(x, w, stride: shape.stride, padding: shape.padding)
        let expected = y + bias.reshaped([1, 3, 1, 1])
        let gy = Tensor<Double>.randomNormal(y.shape, using: &rng)
        let (dx, dw) = Self.naiveBackward(x, w, gy, stride: shape.stride, padding: shape.padding)
        for threads in [1, 2] {
            RowParallel.$threadCount.withValue(threads) {
                ConvEngine.$columnBudget.withValue(budget) {
                    let s = shape.stride, p = shape.padding
                    // Double: summation order only (≤ 36-term sums of unit normals).
                    let got = Tensor.conv2d(x, weight: w, bias: bias, stride: s, padding: p)
                    #expect(closeness(got, expected, rtol: 1e-12, atol: 1e-12) <= 1, "\(shape) threads \(threads)")
                    let gotDx = Tensor.conv2dBackwardInput(gy, weight: w, inputShape: x.shape, stride: s, padding: p)
                    #expect(closeness(gotDx, dx, rtol: 1e-12, atol: 1e-12) <= 1, "\(shape) threads \(threads)")
                    let gotDw = Tensor.conv2dBackwardWeight(x, gradOutput: gy, weightShape: w.shape, stride: s, padding: p)
                    #expect(closeness(gotDw, dw, rtol: 1e-12, atol: 1e-11) <= 1, "\(shape) threads \(threads)")
                    // Float: sums of up to 5·42 products of unit normals, ~1e-6 relative each.
                    let (xf, wf, gf) = (Tensor<Float>(x), Tensor<Float>(w), Tensor<Float>(gy))
                    let f = Tensor.conv2d(xf, weight: wf, bias: Tensor<Float>(bias), stride: s, padding: p)
                    #expect(closeness(Tensor<Double>(f), expected, rtol: 1e-5, atol: 1e-5) <= 1)
                    let fdx = Tensor.conv2dBackwardInput(gf, weight: wf, inputShape: x.shape, stride: s, padding: p)
                    #expect(closeness(Tensor<Double>(fdx), dx, rtol: 1e-5, atol: 1e-5) <= 1)
                    let fdw = Tensor.conv2dBackwardWeight(xf, gradOutput: gf, weightShape: w.shape, stride: s, padding: p)
                    #expect(closeness(Tensor<Double>(fdw), dw, rtol: 1e-4, atol: 1e-4) <= 1)
                }
            }
        }
    }

    /// Chunks never mix images: a chunk size that does not divide the batch, one image per
    /// chunk, and the whole batch give identical Double results.
    @Test func chunkingDoesNotChangeTheResult() {
        var rng = RandomGenerator(seed: 4)
        let x = Tensor<Double>.randomNormal([7, 3, 6, 6], using: &rng)
        let w = Tensor<Double>.randomNormal([5, 3, 3, 3], using: &rng)
        let results = [1, 2 * 27 * 36, 1 << 22].map { budget in
            ConvEngine.$columnBudget.withValue(budget) { Tensor.conv2d(x, weight: w, padding: 1) }
        }
        #expect(closeness(results[0], results[1], rtol: 1e-12, atol: 1e-12) <= 1)
        #expect(closeness(results[0], results[2], rtol: 1e-12, atol: 1e-12) <= 1)
    }
}
