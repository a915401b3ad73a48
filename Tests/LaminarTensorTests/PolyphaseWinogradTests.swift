import Testing
@testable import LaminarTensor
import _LaminarTestSupport

/// Winograd F(3 × 3, 2 × 2) over the four phases of 4 × 4 stride-2 padding-1 convolutions: the
/// tile transforms against the direct 1-D and 2-D correlations and their adjoints against the
/// inner-product identity, and the engine's three directions against the direct loops in Double
/// (maps from 26 × 26 down to a 1 × 1 output, partial and whole tiles, 16–19 channels, with and
/// without bias, chunking and two threads), Float against Double.
@Suite struct PolyphaseWinogradTests {
    typealias T = WinogradTransform32

    /// 1-D: `Aᵀ[(G g) ⊙ (Bᵀ d)]` is the valid correlation of 4 inputs with 2 taps (3 outputs).
    @Test func vectorTransformsComputeTheCorrelation() {
        var rng = RandomGenerator(seed: 40)
        for _ in 0..<20 {
            let d = Tensor<Double>.randomNormal([4], using: &rng).scalars
            let g = Tensor<Double>.randomNormal([2], using: &rng).scalars
            let v = T.inputVector((d[0], d[1], d[2], d[3])), u = T.filterVector((g[0], g[1]))
            let y = T.outputVector((u.0 * v.0, u.1 * v.1, u.2 * v.2, u.3 * v.3))
            let got = [y.0, y.1, y.2]
            for i in 0..<3 {
                let direct = g[0] * d[i] + g[1] * d[i + 1]
                #expect(abs(got[i] - direct) <= 1e-12 * (1 + abs(direct)))
            }
        }
    }

    /// One tile: `Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A` equals the 3 × 3 valid correlation of the 4 × 4 tile
    /// `d` with the 2 × 2 filter `g`, both read with row and column strides (as the engine reads
    /// one phase of a zero-padded plane and of a 4 × 4 filter).
    @Test func tileTransformsComputeTheCorrelation() {
        var rng = RandomGenerator(seed: 41)
        for _ in 0..<20 {
            // The tile at stride (2·9, 2) in a 9-wide buffer, the filter at stride (8, 2).
            let buffer = Tensor<Double>.randomNormal([9 * 9], using: &rng).scalars
            let filter = Tensor<Double>.randomNormal([16], using: &rng).scalars
            var v = [Double](repeating: .nan, count: 32), u = [Double](repeating: .nan, count: 16)
            buffer.withUnsafeBufferPointer { T.input($0.baseAddress! + 9 + 1, rowStride: 18, columnStride: 2, &v, stride: 2) }
            filter.withUnsafeBufferPointer { T.filter($0.baseAddress! + 5, rowStride: 8, columnStride: 2, &u, stride: 1) }
            let product = (0..<16).map { u[$0] * v[2 * $0] }
            let y = product.withUnsafeBufferPointer { T.output($0.baseAddress!, stride: 1) }
            let got = [[y.0.0, y.0.1, y.0.2], [y.1.0, y.1.1, y.1.2], [y.2.0, y.2.1, y.2.2]]
            func d(_ s: Int, _ r: Int) -> Double { buffer[9 + 1 + 18 * s + 2 * r] }
            func g(_ a: Int, _ b: Int) -> Double { filter[5 + 8 * a + 2 * b] }
            for i in 0..<3 {
                for j in 0..<3 {
                    var direct = 0.0
                    for a in 0..<2 { for b in 0..<2 { direct += g(a, b) * d(i + a, j + b) } }
                    #expect(abs(got[i][j] - direct) <= 1e-12 * (1 + abs(direct)))
                }
            }
        }
    }

    /// `⟨Bᵀ d B, v⟩ = ⟨d, B v Bᵀ⟩` (the adjoint adding onto what is there), `⟨Aᵀ m A, y⟩ =
    /// ⟨m, A y Aᵀ⟩` and `⟨G g Gᵀ, u⟩ = ⟨g, Gᵀ u G⟩`, with strided reads and writes.
    @Test func adjointTransformsAreAdjoint() {
        var rng = RandomGenerator(seed: 42)
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { $0 * $1 }.reduce(0, +) }
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 * (1 + abs(a)) }
        for _ in 0..<20 {
            // Input transform: d in a 4 × 4 tile at stride (10, 2), v at stride 3.
            let d = Tensor<Double>.randomNormal([16], using: &rng).scalars
            let v = Tensor<Double>.randomNormal([16], using: &rng).scalars
            let base = Tensor<Double>.randomNormal([40], using: &rng).scalars
            var dBuffer = [Double](repeating: 0, count: 40)
            for s in 0..<4 { for r in 0..<4 { dBuffer[10 * s + 2 * r] = d[4 * s + r] } }
            var tv = [Double](repeating: .nan, count: 48)
            dBuffer.withUnsafeBufferPointer { T.input($0.baseAddress!, rowStride: 10, columnStride: 2, &tv, stride: 3) }
            var vBuffer = [Double](repeating: .nan, count: 48)
            for xi in 0..<16 { vBuffer[3 * xi] = v[xi] }
            var adjoint = base
            vBuffer.withUnsafeBufferPointer { T.addInputAdjoint($0.baseAddress!, stride: 3, &adjoint, rowStride: 10, columnStride: 2) }
            func tileIndex(_ xi: Int) -> Int { 10 * (xi / 4) + 2 * (xi % 4) }
            let added: [Double] = (0..<16).map { (xi: Int) -> Double in adjoint[tileIndex(xi)] - base[tileIndex(xi)] }
            let transformed: [Double] = (0..<16).map { (xi: Int) -> Double in tv[3 * xi] }
            #expect(close(dot(transformed, v), dot(d, added)))
            // Entries off the tile's stride are left alone.
            let untouched: [Int] = (0..<40).filter { (i: Int) -> Bool in i % 10 >= 8 || i % 2 == 1 }
            #expect(untouched.allSatisfy { adjoint[$0] == base[$0] })

            // Output transform.
            let m = Tensor<Double>.randomNormal([16], using: &rng).scalars
            let y = Tensor<Double>.randomNormal([9], using: &rng).scalars
            let ty = m.withUnsafeBufferPointer { T.output($0.baseAddress!, stride: 1) }
            var strided = [Double](repeating: .nan, count: 32)
            T.outputAdjoint(((y[0], y[1], y[2]), (y[3], y[4], y[5]), (y[6], y[7], y[8])), &strided, stride: 2)
            let left = dot([ty.0.0, ty.0.1, ty.0.2, ty.1.0, ty.1.1, ty.1.2, ty.2.0, ty.2.1, ty.2.2], y)
            #expect(close(left, dot(m, (0..<16).map { strided[2 * $0] })))

            // Filter transform: g at stride (8, 2) as in a 4 × 4 filter, u at stride 2.
            let g = Tensor<Double>.randomNormal([4], using: &rng).scalars
            let u = Tensor<Double>.randomNormal([16], using: &rng).scalars
            var filter = [Double](repeating: .nan, count: 16)
            for a in 0..<2 { for b in 0..<2 { filter[8 * a + 2 * b + 1] = g[2 * a + b] } }
            var gu = [Double](repeating: .nan, count: 32)
            filter.withUnsafeBufferPointer { T.filter($0.baseAddress! + 1, rowStride: 8, columnStride: 2, &gu, stride: 2) }
            var ug = [Double](repeating: .nan, count: 16)
            u.withUnsafeBufferPointer { T.filterAdjoint($0.baseAddress!, stride: 1, &ug, rowStride: 8, columnStride: 2) }
            #expect(close(dot((0..<16).map { gu[2 * $0] }, u), dot(g, [ug[0], ug[2], ug[8], ug[10]])))
        }
    }

    /// A convolution case: `[N, C, H, W]` input, `O` output channels, with or without bias.
    typealias Case = WinogradEngineTests.Case

    /// The stem's maps (26 × 26 → 13 × 13 with partial tiles, 13 × 13 → 6 × 6 whole tiles),
    /// even and odd maps, a non-square one, a 2 × 2 output and a 1 × 1 output (2 × 3 input);
    /// more input than output channels and the reverse.
    static let cases = [
        Case(input: [3, 16, 26, 26], outputs: 17, bias: true),
        Case(input: [3, 17, 13, 13], outputs: 16, bias: false),
        Case(input: [3, 16, 12, 12], outputs: 19, bias: true),
        Case(input: [3, 18, 7, 7], outputs: 16, bias: false),
        Case(input: [3, 16, 5, 9], outputs: 18, bias: true),
        Case(input: [3, 19, 4, 4], outputs: 16, bias: true),
        Case(input: [3, 16, 2, 3], outputs: 17, bias: false),
    ]

    /// Forward, input gradient and weight gradient on the polyphase Winograd path equal the
    /// direct loops in Double (to rounding of the transforms) and the Double reference within
    /// Float rounding: one image per chunk, two-image chunks with a remainder, the whole batch
    /// in one chunk on two threads (and per-thread blocks of one and two images).
    @Test(arguments: cases)
    func engineMatchesDirectLoops(_ c: Case) {
        var rng = RandomGenerator(seed: 43)
        let x = Tensor<Double>.randomNormal(c.input, using: &rng)
        let w = Tensor<Double>.randomNormal([c.outputs, c.input[1], 4, 4], using: &rng)
        let bias = c.bias ? Tensor<Double>.randomNormal([c.outputs], using: &rng) : nil
        var expected = ConvolutionKernelTests.naiveConv(x, w, stride: 2, padding: 1)
        if let bias { expected = expected + bias.reshaped([1, c.outputs, 1, 1]) }
        let gy = Tensor<Double>.randomNormal(expected.shape, using: &rng)
        let (dx, dw) = ConvEngineTests.naiveBackward(x, w, gy, stride: 2, padding: 1)
        let g = ConvGeometry(channels: c.input[1], height: c.input[2], width: c.input[3], kernelHeight: 4, kernelWidth: 4,
                             stride: 2, padding: 1)
        #expect(PolyphaseWinogradEngine.applies(g))
        let (th, tw) = PolyphaseWinogradEngine.tiles(g)
        let perImage = 16 * max(4 * c.input[1], c.outputs) * th * tw
        let twoImages = PolyphaseWinogradEngine.budgetDivisor * 2 * perImage
        #expect(PolyphaseWinogradEngine.chunkSize(g, outputChannels: c.outputs, images: 3) >= 1)
        ConvEngine.$columnBudget.withValue(twoImages) {
            #expect(PolyphaseWinogradEngine.chunkSize(g, outputChannels: c.outputs, images: 3) == 2)
        }
        for (budget, threads) in [(1, 1), (twoImages, 1), (1 << 24, 2)] {
            RowParallel.$threadCount.withValue(threads) {
                ConvEngine.$columnBudget.withValue(budget) {
                    ConvEngine.$algorithm.withValue(.winograd) {
                        #expect(ConvEngine.usesPolyphaseWinograd(g, outputChannels: c.outputs))
                        let y = Tensor.conv2d(x, weight: w, bias: bias, stride: 2, padding: 1)
                        #expect(closeness(y, expected, rtol: 1e-12, atol: 1e-12) <= 1, "\(c) \(budget) \(threads)")
                        let gotDx = Tensor.conv2dBackwardInput(gy, weight: w, inputShape: x.shape, stride: 2, padding: 1)
                        #expect(closeness(gotDx, dx, rtol: 1e-12, atol: 1e-12) <= 1, "\(c) \(budget) \(threads)")
                        let gotDw = Tensor.conv2dBackwardWeight(x, gradOutput: gy, weightShape: w.shape, stride: 2, padding: 1)
                        #expect(closeness(gotDw, dw, rtol: 1e-12, atol: 1e-11) <= 1, "\(c) \(budget) \(threads)")

                        // Float: sums of up to 19·16 = 304 products of unit normals (magnitude ~17),
                        // so absolute rounding errors of a few 1e-5.
                        let (xf, wf, gf) = (Tensor<Float>(x), Tensor<Float>(w), Tensor<Float>(gy))
                        let f = Tensor.conv2d(xf, weight: wf, bias: bias.map { Tensor<Float>($0) }, stride: 2, padding: 1)
                        #expect(closeness(Tensor<Double>(f), expected, rtol: 4e-5, atol: 4e-5) <= 1, "\(c) Float")
                        let fdx = Tensor.conv2dBackwardInput(gf, weight: wf, inputShape: x.shape, stride: 2, padding: 1)
                        #expect(closeness(Tensor<Double>(fdx), dx, rtol: 4e-5, atol: 4e-5) <= 1, "\(c) Float")
                        let fdw = Tensor.conv2dBackwardWeight(xf, gradOutput: gf, weightShape: w.shape, stride: 2, padding: 1)
                        #expect(closeness(Tensor<Double>(fdw), dw, rtol: 1e-4, atol: 1e-4) <= 1, "\(c) Float")
                    }
                }
            }
        }
    }

    /// The input gradient overwrites `dx` (callers need not initialise it): a fresh output
    /// buffer full of garbage gives the same result as the direct loops. Checked through the
    /// engine entry point with a NaN-filled buffer.
    @Test func backwardInputOverwritesItsOutput() {
        var rng = RandomGenerator(seed: 44)
        let x = [2, 16, 7, 9], o = 16
        let w = Tensor<Double>.randomNormal([o, 16, 4, 4], using: &rng)
        let g = ConvGeometry(channels: 16, height: 7, width: 9, kernelHeight: 4, kernelWidth: 4, stride: 2, padding: 1)
        let gy = Tensor<Double>.randomNormal([2, o, g.outputHeight, g.outputWidth], using: &rng)
        let (expected, _) = ConvEngineTests.naiveBackward(Tensor<Double>(zeros: x), w, gy, stride: 2, padding: 1)
        var dx = [Double](repeating: .nan, count: expected.count)
        gy.withUnsafeBufferPointer { dy in
            w.withUnsafeBufferPointer { wp in
                dx.withUnsafeMutableBufferPointer {
                    PolyphaseWinogradEngine.backwardInput(gradOutput: dy.baseAddress!, weight: wp.baseAddress!,
                                                          gradInput: $0.baseAddress!, n: 2, outputChannels: o, g)
                }
            }
        }
        #expect(closeness(Tensor(shape: x, scalars: dx), expected, rtol: 1e-12, atol: 1e-12) <= 1)
    }

    /// The automatic choice: the polyphase engine for 4 × 4 stride 2 padding 1 with enough
    /// channels on both sides, im2col + GEMM otherwise; forcing `winograd` never applies it to
    /// other geometries, forcing `im2col` keeps the old path.
    @Test func dispatchRule() {
        func geometry(_ c: Int, kernel: Int = 4, stride: Int = 2, padding: Int = 1) -> ConvGeometry {
            ConvGeometry(channels: c, height: 26, width: 26, kernelHeight: kernel, kernelWidth: kernel, stride: stride, padding: padding)
        }
        let minimum = ConvEngine.winogradMinimumChannels
        #expect(ConvEngine.usesPolyphaseWinograd(geometry(minimum), outputChannels: minimum))
        #expect(ConvEngine.usesPolyphaseWinograd(geometry(64), outputChannels: 64))
        #expect(!ConvEngine.usesWinograd(geometry(64), outputChannels: 64))
        #expect(!ConvEngine.usesPolyphaseWinograd(geometry(minimum - 1), outputChannels: 64))
        #expect(!ConvEngine.usesPolyphaseWinograd(geometry(64), outputChannels: minimum - 1))
        #expect(!ConvEngine.usesPolyphaseWinograd(geometry(64, padding: 0), outputChannels: 64))
        #expect(!ConvEngine.usesPolyphaseWinograd(geometry(64, stride: 1), outputChannels: 64))
        #expect(!ConvEngine.usesPolyphaseWinograd(geometry(64, kernel: 3, stride: 1), outputChannels: 64))
        ConvEngine.$algorithm.withValue(.winograd) {
            #expect(ConvEngine.usesPolyphaseWinograd(geometry(1), outputChannels: 1))
            #expect(!ConvEngine.usesPolyphaseWinograd(geometry(64, kernel: 2), outputChannels: 64))
        }
        ConvEngine.$algorithm.withValue(.im2col) {
            #expect(!ConvEngine.usesPolyphaseWinograd(geometry(64), outputChannels: 64))
        }
    }
}
