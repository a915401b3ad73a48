import Testing
@testable import LaminarTensor
import _LaminarTestSupport

/// Kernels against naive loops.
@Suite struct TensorKernelTests {
    static func naiveMatmul(_ a: [Double], _ b: [Double], m: Int, n: Int, k: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for p in 0..<k { c[i * n + j] += a[i * k + p] * b[p * n + j] } } }
        return c
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmulMatchesNaiveLoop(transposeA: Bool, transposeB: Bool) {
        var rng = RandomGenerator(seed: 1)
        for (m, n, k) in [(5, 7, 3), (512, 64, 64), (1, 1, 9)] {
            let a = Tensor<Double>.randomNormal(transposeA ? [k, m] : [m, k], using: &rng)
            let b = Tensor<Double>.randomNormal(transposeB ? [n, k] : [k, n], using: &rng)
            let plainA = transposeA ? a.transposed() : a
            let plainB = transposeB ? b.transposed() : b
            let expected = Tensor(shape: [m, n], scalars: Self.naiveMatmul(plainA.scalars, plainB.scalars, m: m, n: n, k: k))
            let got = Tensor.matmul(a, transposeA: transposeA, b, transposeB: transposeB)
            // Double: summation order only, relative 1e-12.
            #expect(closeness(got, expected, rtol: 1e-12, atol: 1e-12) <= 1)
            let gotFloat = Tensor.matmul(Tensor<Float>(a), transposeA: transposeA, Tensor<Float>(b), transposeB: transposeB)
            // Float: k ≤ 64 products of unit normals, relative 1e-5 of the magnitude.
            #expect(closeness(Tensor<Double>(gotFloat), expected, rtol: 1e-5, atol: 1e-5) <= 1)
        }
    }

    @Test func broadcastingMatchesExplicitLoops() {
        var rng = RandomGenerator(seed: 2)
        let x = Tensor<Double>.randomNormal([2, 3, 4], using: &rng)
        let row = Tensor<Double>.randomNormal([4], using: &rng)
        let channel = Tensor<Double>.randomNormal([1, 3, 1], using: &rng)
        let sum = x + row
        let prod = x * channel
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
            #expect(sum[i, j, k] == x[i, j, k] + row[k])
            #expect(prod[i, j, k] == x[i, j, k] * channel[0, j, 0])
        } } }
        #expect((x * 2).scalars == x.scalars.map { $0 * 2 })
    }

    @Test func reductionsMatchExplicitLoops() {
        var rng = RandomGenerator(seed: 3)
        let x = Tensor<Double>.randomNormal([3, 4, 5], using: &rng)
        let s1 = x.sum(axes: [1])
        let m0 = x.max(axes: [0], keepDims: true)
        for i in 0..<3 { for k in 0..<5 {
            let expected = (0..<4).reduce(0.0) { $0 + x[i, $1, k] }
            #expect(Swift.abs(s1[i, k] - expected) < 1e-12)
        } }
        for j in 0..<4 { for k in 0..<5 {
            #expect(m0[0, j, k] == (0..<3).map { x[$0, j, k] }.max()!)
        } }
        #expect(Swift.abs(x.mean().scalar - x.scalars.reduce(0, +) / 60) < 1e-12)
        #expect(Tensor<Double>([1, .nan, 3]).max().scalar.isNaN)
    }

    @Test func logSumExpIsStable() {
        let x = Tensor<Double>(shape: [3, 2], scalars: [1000, 1000, -.infinity, -.infinity, 0, -1000])
        let l = x.logSumExp(axes: [1])
        #expect(Swift.abs(l[0] - (1000 + 0.6931471805599453)) < 1e-9)
        #expect(l[1] == -.infinity)
        #expect(Swift.abs(l[2]) < 1e-12)
    }

    @Test func shapeOperationsRoundTrip() {
        var rng = RandomGenerator(seed: 4)
        let x = Tensor<Double>.randomNormal([2, 3, 4], using: &rng)
        #expect(x.transposed([2, 0, 1]).transposed([1, 2, 0]) == x)
        #expect(x.transposed([2, 0, 1])[3, 1, 2] == x[1, 2, 3])
        let a = x.slice(axis: 1, 0..<1), b = x.slice(axis: 1, 1..<3)
        #expect(Tensor.concatenate([a, b], axis: 1) == x)
        #expect(b.placed(into: [2, 3, 4], axis: 1, at: 1) + a.placed(into: [2, 3, 4], axis: 1, at: 0) == x)
        #expect(x.reshaped([6, -1]).shape == [6, 4])
        #expect(x.unsqueezed(at: 1).shape == [2, 1, 3, 4] && x.unsqueezed(at: 1).squeezed(at: 1) == x)
        #expect(Tensor<Double>([1, 2]).reshaped([1, 2]).broadcast(to: [3, 2]).scalars == [1, 2, 1, 2, 1, 2])
    }

    /// `fill` and `copyScalars` work on raw memory (memset, doubling memcpy); every element must
    /// still be the value, for every count, including the sign of a negative zero.
    @Test(arguments: [0, 1, 2, 3, 7, 64, 1000, 32_769])
    func fillAndCopyReachEveryElement(count: Int) {
        for value: Double in [0, -0.0, 1.5, -3.25, .infinity] {
            let t = Tensor<Double>(repeating: value, shape: [count])
            #expect(t.scalars.allSatisfy { $0 == value && $0.sign == value.sign })
            let f = Tensor<Float>(repeating: Float(value), shape: [count])
            #expect(f.scalars.allSatisfy { $0 == Float(value) && $0.sign == value.sign })
        }
        let source = (0..<count).map { Float($0) * 0.5 - 3 }
        let copied = Tensor<Float>(shape: [count], scalars: source)
        #expect(copied.scalars == source)
        var shared = copied
        shared.withUnsafeMutableBufferPointer { if !$0.isEmpty { $0[0] = 99 } }  // copy on write
        #expect(copied.scalars == source)
    }

    @Test func affineCopiesTheBiasIntoEveryRow() {
        var rng = RandomGenerator(seed: 9)
        for rows in [1, 2, 5, 37] {  // the bias rows are filled by doubling copies
            let x = Tensor<Double>.randomNormal([rows, 3], using: &rng)
            let w = Tensor<Double>.randomNormal([4, 3], using: &rng), b = Tensor<Double>.randomNormal([4], using: &rng)
            let expected = Tensor.matmul(x, w, transposeB: true) + b
            #expect(closeness(Tensor.affine(x, weight: w, bias: b), expected, rtol: 1e-13, atol: 1e-13) <= 1)
        }
    }

    @Test func unaryKernelsMatchScalarFormulas() {
        let values: [Double] = [-1000, -20, -3, -0.5, 0, 0.25, 2, 30, 1000]
        let x = Tensor<Double>(values)
        func check(_ op: UnaryOp, _ f: (Double) -> Double) {
            for (got, v) in zip(x.map(op).scalars, values) {
                let want = f(v)
                #expect(got == want || Swift.abs(got - want) <= 1e-14 * Swift.max(1, Swift.abs(want)), "\(op) at \(v)")
            }
        }
        check(.tanh, { Foundation.tanh($0) })
        check(.relu, { Swift.max($0, 0) })
        check(.square, { $0 * $0 })
        check(.abs, { Swift.abs($0) })
        check(.negate, { -$0 })
        check(.scale(3), { 3 * $0 })
        check(.shift(-2), { $0 - 2 })
        check(.step, { $0 > 0 ? 1 : 0 })
        check(.sigmoid, { $0 >= 0 ? 1 / (1 + Foundation.exp(-$0)) : Foundation.exp($0) / (1 + Foundation.exp($0)) })
        check(.softplus, { Swift.max($0, 0) + Foundation.log1p(Foundation.exp(-Swift.abs($0))) })
        check(.elu, { $0 > 0 ? $0 : Foundation.expm1($0) })
        // Stable at ±1000: finite, and the right limits.
        let s = x.map(.softplus).scalars
        let softplusFinite = s.allSatisfy { $0.isFinite }
        #expect(softplusFinite && s.first == 0 && s.last == 1000)
        let sigmoidFinite = x.map(.sigmoid).scalars.allSatisfy { $0.isFinite }
        #expect(sigmoidFinite)
    }

    @Test func floatTanhApproximationIsAccurate() {
        // The vectorised Float tanh: max absolute error 4e-7 against Double tanh on [-10, 10].
        let xs = (0...20_000).map { Float(-10 + Double($0) * 0.001) }
        let got = Tensor<Float>(xs).map(.tanh).scalars
        let worst = zip(xs, got).map { Swift.abs(Double($1) - Foundation.tanh(Double($0))) }.max()!
        #expect(worst < 5e-7)
        // Saturates exactly (the clamp bound depends on whether the build uses FMA).
        #expect(Tensor<Float>([8, -8, 20, -1e30]).map(.tanh).scalars == [1, -1, 1, -1])
        let sig = Tensor<Float>(xs).map(.sigmoid).scalars
        let worstSigmoid = zip(xs, sig).map { Swift.abs(Double($1) - 1 / (1 + Foundation.exp(-Double($0)))) }.max()!
        #expect(worstSigmoid < 5e-7)
    }

    @Test func floatSoftplusAndExpApproximationsAreAccurate() {
        // The vectorised Float softplus: absolute error against Double on [-100, 100]; exp
        // relative error on [-87, 88]; the extremes stay finite.
        let xs = (0...200_000).map { Float(-100 + Double($0) * 0.001) }
        let got = Tensor<Float>(xs).map(.softplus).scalars
        let worst = zip(xs, got).map { x, y -> Double in
            let v = Double(x)
            return Swift.abs(Double(y) - (Swift.max(v, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(v))))) / Swift.max(1, Swift.abs(v))
        }.max()!
        #expect(worst < 3e-7)
        let extremes = Tensor<Float>([-Float.greatestFiniteMagnitude, -1e30, 1e30, Float.greatestFiniteMagnitude]).map(.softplus).scalars
        #expect(extremes[0] >= 0 && extremes[0] < 1e-37 && extremes[1] >= 0 && extremes[1] < 1e-37 && extremes[2] == 1e30 && extremes[3] == Float.greatestFiniteMagnitude)
        let es = (0...17_500).map { Float(-87 + Double($0) * 0.01) }
        let worstExp = es.map { Swift.abs(Double(fastExp($0)) / Foundation.exp(Double($0)) - 1) }.max()!
        #expect(worstExp < 3e-7)
    }
}

import Foundation

@Suite struct RandomGeneratorTests {
    @Test func sameSeedSameStreamDifferentSeedDifferentStream() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42), c = RandomGenerator(seed: 43)
        let sa = (0..<100).map { _ in a.next() }, sb = (0..<100).map { _ in b.next() }, sc = (0..<100).map { _ in c.next() }
        #expect(sa == sb && sa != sc)
    }

    @Test func savedStateContinuesTheStream() {
        var a = RandomGenerator(seed: 7)
        _ = (0..<10).map { _ in a.next() }
        var b = RandomGenerator(state: a.state)!
        #expect((0..<50).map { _ in a.next() } == (0..<50).map { _ in b.next() })
    }

    @Test func distributionsHaveTheRightMoments() {
        var rng = RandomGenerator(seed: 9)
        let n = 200_000
        let normal = Tensor<Double>.randomNormal([n], using: &rng).scalars
        let mean = normal.reduce(0, +) / Double(n)
        let variance = normal.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        // 5 standard errors: sd(mean) = 1/√n ≈ 0.0022, sd(variance) ≈ √(2/n) ≈ 0.0032.
        #expect(Swift.abs(mean) < 5 / Double(n).squareRoot())
        #expect(Swift.abs(variance - 1) < 5 * (2 / Double(n)).squareRoot())
        let uniform = Tensor<Double>.randomUniform([n], using: &rng).scalars
        #expect(uniform.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(Swift.abs(uniform.reduce(0, +) / Double(n) - 0.5) < 5 * (1 / 12 / Double(n)).squareRoot())
        let signs = Tensor<Double>.randomRademacher([n], using: &rng).scalars
        #expect(signs.allSatisfy { $0 == 1 || $0 == -1 })
        #expect(Swift.abs(signs.reduce(0, +)) < 5 * Double(n).squareRoot())
    }
}

@Suite struct ConvolutionKernelTests {
    static func naiveConv(_ x: Tensor<Double>, _ w: Tensor<Double>, stride: Int, padding: Int) -> Tensor<Double> {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, k) = (w.shape[0], w.shape[2])
        let ho = (h + 2 * padding - k) / stride + 1, wo = (wd + 2 * padding - k) / stride + 1
        var out = [Double](repeating: 0, count: n * o * ho * wo)
        for b in 0..<n { for oc in 0..<o { for oy in 0..<ho { for ox in 0..<wo {
            var s = 0.0
            for ic in 0..<c { for ky in 0..<k { for kx in 0..<k {
                let y = oy * stride + ky - padding, xx = ox * stride + kx - padding
                if y >= 0 && y < h && xx >= 0 && xx < wd { s += x[b, ic, y, xx] * w[oc, ic, ky, kx] }
            } } }
            out[((b * o + oc) * ho + oy) * wo + ox] = s
        } } } }
        return Tensor(shape: [n, o, ho, wo], scalars: out)
    }

    @Test(arguments: [(1, 0), (1, 1), (2, 0), (2, 1)])
    func conv2dMatchesNaiveLoops(stride: Int, padding: Int) {
        var rng = RandomGenerator(seed: 6)
        let x = Tensor<Double>.randomNormal([2, 3, 7, 6], using: &rng)
        let w = Tensor<Double>.randomNormal([4, 3, 3, 3], using: &rng)
        let expected = Self.naiveConv(x, w, stride: stride, padding: padding)
        // Double: summation order only. Float: 27-term sums of unit normals, 1e-5 relative.
        #expect(closeness(Tensor.conv2d(x, weight: w, stride: stride, padding: padding), expected, rtol: 1e-12, atol: 1e-12) <= 1)
        let f = Tensor.conv2d(Tensor<Float>(x), weight: Tensor<Float>(w), stride: stride, padding: padding)
        #expect(closeness(Tensor<Double>(f), expected, rtol: 1e-5, atol: 1e-5) <= 1)
    }

    @Test func averagePoolingAveragesWindows() {
        let x = Tensor<Double>(shape: [1, 1, 2, 4], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(x.avgPool2d(kernel: 2, stride: 2).scalars == [3.5, 5.5])
    }
}

@Suite struct BLASKernelTests {
    /// The feature → OpenBLAS core mapping used when the library fell back to old kernels.
    @Test func coreTypeFollowsTheCPUFeatures() {
        let avx512: Set<String> = ["avx512f", "avx512vl", "avx512bw", "avx512dq", "avx512cd", "avx2", "fma"]
        #expect(BLASKernels.bestCoreType(flags: avx512.union(["avx512_bf16"])) == "Cooperlake")
        #expect(BLASKernels.bestCoreType(flags: avx512) == "SkylakeX")
        #expect(BLASKernels.bestCoreType(flags: ["avx", "avx2", "fma"]) == "Haswell")
        #expect(BLASKernels.bestCoreType(flags: ["sse2", "sse3"]) == nil)
    }

    /// Whatever core is selected, products stay exact against the naive loop.
    @Test func productsAreRightAfterTheKernelChoice() {
        BLASKernels.ensureBestKernels()
        var rng = RandomGenerator(seed: 1)
        let a = Tensor<Float>.randomNormal([37, 29], using: &rng), b = Tensor<Float>.randomNormal([29, 41], using: &rng)
        let c = matmul(a, b)
        let expected = TensorKernelTests.naiveMatmul(a.scalars.map(Double.init), b.scalars.map(Double.init), m: 37, n: 41, k: 29)
        #expect(zip(c.scalars, expected).allSatisfy { Swift.abs(Double($0) - $1) < 1e-4 }, "core \(BLASKernels.coreName)")
    }

    /// Small products run on one thread, large ones on every configured thread, and OpenBLAS
    /// idles at one thread in between (so its workers sleep); the products are right either way.
    @Test func smallProductsRunOnOneThread() {
        let configuredBefore = BLASThreads.configured
        let openBLASBefore = BLASThreads.openBLASThreads
        defer {
            BLASThreads.configured = configuredBefore
            BLASThreads.openBLASThreads = openBLASBefore
        }
        BLASThreads.set(2)
        #expect(BLASThreads.count == 2 && BLASThreads.openBLASThreads == 1)
        var inside = 0
        BLASThreads.run(flops: 1_000) { inside = BLASThreads.openBLASThreads }
        #expect(inside == 1)
        BLASThreads.run(flops: BLASThreads.singleThreadFlops) { inside = BLASThreads.openBLASThreads }
        #expect(inside == 2 && BLASThreads.openBLASThreads == 1)
        BLASThreads.withOneThreadPerProduct {
            BLASThreads.run(flops: BLASThreads.singleThreadFlops) { inside = BLASThreads.openBLASThreads }
        }
        #expect(inside == 1)
        var rng = RandomGenerator(seed: 2)
        let a = Tensor<Float>.randomNormal([64, 48], using: &rng), b = Tensor<Float>.randomNormal([48, 32], using: &rng)
        let expected = TensorKernelTests.naiveMatmul(a.scalars.map(Double.init), b.scalars.map(Double.init), m: 64, n: 32, k: 48)
        #expect(zip(matmul(a, b).scalars, expected).allSatisfy { Swift.abs(Double($0) - $1) < 1e-4 })
    }
}
