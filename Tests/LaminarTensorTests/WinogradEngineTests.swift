import Testing
@testable import LaminarTensor
import _LaminarTestSupport

/// Winograd F(2 × 2, 3 × 3): the tile transforms against the direct 3 × 3 correlation and their
/// adjoints against the inner-product identity, and the engine's three directions against the
/// direct loops in Double (odd and even maps, partial tiles, several channel counts, batch 1
/// and more, with and without bias, chunking and two threads), Float against Double.
@Suite struct WinogradEngineTests {
    /// One tile: `Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A` equals the 2 × 2 valid correlation of the 4 × 4 tile
    /// `d` with the 3 × 3 filter `g` (fails if any of the three matrices is wrong).
    @Test func tileTransformsComputeTheCorrelation() {
        var rng = RandomGenerator(seed: 8)
        for _ in 0..<20 {
            let d = Tensor<Double>.randomNormal([16], using: &rng).scalars
            let g = Tensor<Double>.randomNormal([9], using: &rng).scalars
            var v = [Double](repeating: 0, count: 16), u = v
            d.withUnsafeBufferPointer { WinogradTransform.input($0.baseAddress!, rowLength: 4, &v, stride: 1) }
            g.withUnsafeBufferPointer { WinogradTransform.filter($0.baseAddress!, &u, stride: 1) }
            let product = (0..<16).map { u[$0] * v[$0] }
            let y = product.withUnsafeBufferPointer { WinogradTransform.output($0.baseAddress!, stride: 1) }
            let got = [y.0, y.1, y.2, y.3]
            for oy in 0..<2 {
                for ox in 0..<2 {
                    var direct = 0.0
                    for ky in 0..<3 { for kx in 0..<3 { direct += g[ky * 3 + kx] * d[(oy + ky) * 4 + ox + kx] } }
                    #expect(abs(got[oy * 2 + ox] - direct) <= 1e-12 * (1 + abs(direct)))
                }
            }
        }
    }

    /// The adjoint transforms satisfy `⟨T a, b⟩ = ⟨a, Tᵀ b⟩` for the output transform
    /// (`Aᵀ m A` against `A y Aᵀ`) and the filter transform (`G g Gᵀ` against `Gᵀ u G`), and the
    /// transforms read and write with the requested stride.
    @Test func adjointTransformsAreAdjoint() {
        var rng = RandomGenerator(seed: 9)
        for _ in 0..<20 {
            let m = Tensor<Double>.randomNormal([16], using: &rng).scalars
            let y = Tensor<Double>.randomNormal([4], using: &rng).scalars
            let ty = m.withUnsafeBufferPointer { WinogradTransform.output($0.baseAddress!, stride: 1) }
            var strided = [Double](repeating: .nan, count: 48)
            WinogradTransform.outputAdjoint((y[0], y[1], y[2], y[3]), &strided, stride: 3)
            let tm = (0..<16).map { strided[3 * $0] }
            let left = ty.0 * y[0] + ty.1 * y[1] + ty.2 * y[2] + ty.3 * y[3]
            let right = zip(m, tm).map { $0 * $1 }.reduce(0, +)
            #expect(abs(left - right) <= 1e-12 * (1 + abs(left)))

            let g = Tensor<Double>.randomNormal([9], using: &rng).scalars
            let u = Tensor<Double>.randomNormal([16], using: &rng).scalars
            var gu = [Double](repeating: .nan, count: 32), ug = [Double](repeating: .nan, count: 9)
            g.withUnsafeBufferPointer { WinogradTransform.filter($0.baseAddress!, &gu, stride: 2) }
            u.withUnsafeBufferPointer { WinogradTransform.filterAdjoint($0.baseAddress!, &ug, stride: 1) }
            let lhs = (0..<16).map { gu[2 * $0] * u[$0] }.reduce(0, +)
            let rhs = zip(g, ug).map { $0 * $1 }.reduce(0, +)
            #expect(abs(lhs - rhs) <= 1e-12 * (1 + abs(lhs)))
        }
    }

    /// A convolution case: `[N, C, H, W]` input, `O` output channels, with or without bias.
    struct Case: Sendable, CustomStringConvertible {
        let input: [Int]
        let outputs: Int
        let bias: Bool
        var description: String { "\(input) → \(outputs)\(bias ? " + bias" : "")" }
    }

    /// Even maps (whole tiles), odd maps (7 × 7, 13 × 13: partial tiles), a non-square map, one
    /// pixel, batch 1 and more, more input than output channels and the reverse.
    static let cases = [
        Case(input: [3, 4, 6, 6], outputs: 5, bias: true),
        Case(input: [1, 3, 7, 7], outputs: 2, bias: false),
        Case(input: [2, 5, 13, 13], outputs: 3, bias: true),
        Case(input: [4, 2, 5, 8], outputs: 6, bias: false),
        Case(input: [3, 6, 1, 1], outputs: 4, bias: true),
        Case(input: [1, 17, 4, 3], outputs: 16, bias: true),
    ]

    /// (column budget, threads): one image per chunk, two-image chunks with a remainder, the
    /// whole batch in one chunk on two threads.
    static let settings = [(1, 1), (WinogradEngine.budgetDivisor * 2 * 16 * 6 * 16, 1), (1 << 22, 2)]

    /// Forward, input gradient and weight gradient on the Winograd path equal the direct loops
    /// in Double (to rounding of the transforms) and the Double reference within Float rounding.
    @Test(arguments: cases)
    func engineMatchesDirectLoops(_ c: Case) {
        var rng = RandomGenerator(seed: 31)
        let x = Tensor<Double>.randomNormal(c.input, using: &rng)
        let w = Tensor<Double>.randomNormal([c.outputs, c.input[1], 3, 3], using: &rng)
        let bias = c.bias ? Tensor<Double>.randomNormal([c.outputs], using: &rng) : nil
        var expected = ConvolutionKernelTests.naiveConv(x, w, stride: 1, padding: 1)
        if let bias { expected = expected + bias.reshaped([1, c.outputs, 1, 1]) }
        let gy = Tensor<Double>.randomNormal(expected.shape, using: &rng)
        let (dx, dw) = ConvEngineTests.naiveBackward(x, w, gy, stride: 1, padding: 1)
        let g = ConvGeometry(channels: c.input[1], height: c.input[2], width: c.input[3], kernelHeight: 3, kernelWidth: 3,
                             stride: 1, padding: 1)
        #expect(WinogradEngine.applies(g))
        for (budget, threads) in Self.settings {
            RowParallel.$threadCount.withValue(threads) {
                ConvEngine.$columnBudget.withValue(budget) {
                    ConvEngine.$algorithm.withValue(.winograd) {
                        #expect(ConvEngine.usesWinograd(g, outputChannels: c.outputs))
                        let y = Tensor.conv2d(x, weight: w, bias: bias, padding: 1)
                        #expect(closeness(y, expected, rtol: 1e-12, atol: 1e-12) <= 1, "\(c) \(budget) \(threads)")
                        let gotDx = Tensor.conv2dBackwardInput(gy, weight: w, inputShape: x.shape, stride: 1, padding: 1)
                        #expect(closeness(gotDx, dx, rtol: 1e-12, atol: 1e-12) <= 1, "\(c) \(budget) \(threads)")
                        let gotDw = Tensor.conv2dBackwardWeight(x, gradOutput: gy, weightShape: w.shape, stride: 1, padding: 1)
                        #expect(closeness(gotDw, dw, rtol: 1e-12, atol: 1e-11) <= 1, "\(c) \(budget) \(threads)")

                        let (xf, wf, gf) = (Tensor<Float>(x), Tensor<Float>(w), Tensor<Float>(gy))
                        let f = Tensor.conv2d(xf, weight: wf, bias: bias.map { Tensor<Float>($0) }, padding: 1)
                        #expect(closeness(Tensor<Double>(f), expected, rtol: 1e-5, atol: 1e-5) <= 1)
                        let fdx = Tensor.conv2dBackwardInput(gf, weight: wf, inputShape: x.shape, stride: 1, padding: 1)
                        #expect(closeness(Tensor<Double>(fdx), dx, rtol: 1e-5, atol: 1e-5) <= 1)
                        let fdw = Tensor.conv2dBackwardWeight(xf, gradOutput: gf, weightShape: w.shape, stride: 1, padding: 1)
                        #expect(closeness(Tensor<Double>(fdw), dw, rtol: 1e-4, atol: 1e-4) <= 1)
                    }
                }
            }
        }
    }

    /// Transformed points' matrices are an odd number of cache lines apart (at least the matrix),
    /// so that a tile's 16 points fall in 16 different L1 sets (64 sets of 64 bytes), also for
    /// matrices a whole number of pages long (32 channels × 992 tiles of a 7 × 7 chunk).
    @Test(arguments: [1, 15, 16, 17, 32 * 992, 33 * 992, 64 * 504, 1 << 20])
    func pointStridesSpreadOverCacheSets(_ count: Int) {
        func check<S: TensorScalar>(_: S.Type) {
            let stride = WinogradEngine.pointStride(count, S.self), size = MemoryLayout<S>.stride
            #expect(stride >= count && stride < count + 2 * 64 / size)
            #expect((stride * size) % 64 == 0 && (stride * size / 64) % 2 == 1)
            let sets = Set((0..<WinogradTransform.points).map { ($0 * stride * size / 64) % 64 })
            #expect(sets.count == WinogradTransform.points, "\(S.self) \(count): \(stride)")
        }
        check(Float.self)
        check(Double.self)
    }

    /// The automatic choice: Winograd for 3 × 3 stride 1 padding 1 with enough channels on both
    /// sides, im2col + GEMM otherwise; forcing Winograd never applies it to other geometries.
    @Test func dispatchRule() {
        func geometry(_ c: Int, kernel: Int = 3, stride: Int = 1, padding: Int = 1) -> ConvGeometry {
            ConvGeometry(channels: c, height: 6, width: 6, kernelHeight: kernel, kernelWidth: kernel, stride: stride, padding: padding)
        }
        let minimum = ConvEngine.winogradMinimumChannels
        #expect(ConvEngine.usesWinograd(geometry(minimum), outputChannels: minimum))
        #expect(!ConvEngine.usesWinograd(geometry(minimum - 1), outputChannels: 64))
        #expect(!ConvEngine.usesWinograd(geometry(64), outputChannels: minimum - 1))
        #expect(!ConvEngine.usesWinograd(geometry(64, padding: 0), outputChannels: 64))
        #expect(!ConvEngine.usesWinograd(geometry(64, kernel: 4, stride: 2), outputChannels: 64))
        ConvEngine.$algorithm.withValue(.winograd) {
            #expect(ConvEngine.usesWinograd(geometry(1), outputChannels: 1))
            #expect(!ConvEngine.usesWinograd(geometry(64, stride: 2), outputChannels: 64))
        }
        ConvEngine.$algorithm.withValue(.im2col) {
            #expect(!ConvEngine.usesWinograd(geometry(64), outputChannels: 64))
        }
    }
}
