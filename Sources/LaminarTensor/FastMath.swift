// Vectorisable single-precision kernels for the activations on the hot path of CNF dynamics.
// glibc's scalar `tanhf` costs ~15 ns per element and blocks vectorisation; these loops are
// branch-free polynomials that LLVM turns into SIMD code.

/// `a·b + c`: one fused multiply–add when the build targets a CPU that has it (the Makefile
/// defines `LAMINAR_FMA` together with `-target-cpu haswell`), otherwise a multiply and an add
/// (without hardware FMA, `addingProduct` would be a call into libm).
@inline(__always)
func multiplyAdd(_ a: Float, _ b: Float, _ c: Float) -> Float {
    #if LAMINAR_FMA
    return c.addingProduct(a, b)
    #else
    return a * b + c
    #endif
}

/// `tanh` for Float by the [13/6] rational minimax approximation Eigen uses
/// (`ptanh_float`), with the input clamped where the result rounds to ±1 (±7.905311 with
/// separate multiplies and adds, ±7.998812 with fused multiply–adds, as in Eigen).
/// Max absolute error 4e-7 over the real line (checked in `LaminarTensorTests`).
@inline(__always)
func fastTanh(_ v: Float) -> Float {
    #if LAMINAR_FMA
    let bound: Float = 7.998_811_721_801_757_81
    #else
    let bound: Float = 7.905_311_107_635_498_05
    #endif
    let lo = v < -bound ? -bound : v
    let x = lo > bound ? bound : lo
    let x2 = x * x
    var p: Float = -2.760_768_477_423_55e-16
    p = multiplyAdd(p, x2, 2.000_187_904_824_77e-13)
    p = multiplyAdd(p, x2, -8.604_671_522_137_35e-11)
    p = multiplyAdd(p, x2, 5.122_297_090_371_14e-08)
    p = multiplyAdd(p, x2, 1.485_722_357_179_79e-05)
    p = multiplyAdd(p, x2, 6.372_619_288_754_36e-04)
    p = multiplyAdd(p, x2, 4.893_524_558_917_86e-03)
    p = p * x
    var q: Float = 1.198_258_394_667_02e-06
    q = multiplyAdd(q, x2, 1.185_347_056_866_54e-04)
    q = multiplyAdd(q, x2, 2.268_434_632_439_00e-03)
    q = multiplyAdd(q, x2, 4.893_525_185_543_85e-03)
    return p / q
}

func fastTanhLoop(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { y[i] = fastTanh(x[i]) }
}

/// `sigmoid(x) = ½ + ½·tanh(x/2)`, through the same approximation.
func fastSigmoidLoop(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { y[i] = 0.5 + 0.5 * fastTanh(0.5 * x[i]) }
}

/// `exp(x)` for Float, `x` clamped to [−87, 88]: Cody–Waite reduction by ln 2 and a degree-6
/// polynomial on [−ln2/2, ln2/2], scaled by 2ⁿ through the exponent bits. Relative error
/// below 2e-7 (checked in `LaminarTensorTests`).
@inline(__always)
func fastExp(_ v: Float) -> Float {
    let x = v < -87 ? -87 : (v > 88 ? 88 : v)
    // Round x·log2(e) to an integer by adding 1.5·2²³: the sum's low mantissa bits hold n
    // (branch- and call-free, so the loop vectorises).
    let shifted = x * 1.442_695_040_888_963_4 + 12_582_912
    let n = shifted - 12_582_912
    let k = Int32(bitPattern: shifted.bitPattern) &- 0x4B40_0000
    let r = (x - n * 0.693_145_751_953_125) - n * 1.428_606_765_330_187e-06
    var p: Float = 1.0 / 720
    p = multiplyAdd(p, r, 1.0 / 120)
    p = multiplyAdd(p, r, 1.0 / 24)
    p = multiplyAdd(p, r, 1.0 / 6)
    p = multiplyAdd(p, r, 0.5)
    p = multiplyAdd(p, r, 1)
    p = multiplyAdd(p, r, 1)
    return p * Float(bitPattern: UInt32(bitPattern: (k &+ 127) &<< 23))
}

/// `softplus(x) = max(x, 0) + log1p(exp(−|x|))` for Float without calls into libm: with
/// `e = exp(−|x|) ∈ (0, 1]`, `log(1 + e) = 2·atanh(s)`, `s = e/(2 + e) ≤ 1/3`, summed to s¹³.
/// Absolute error below 3e-7 (checked in `LaminarTensorTests`).
@inline(__always)
func fastSoftplus(_ v: Float) -> Float {
    let e = fastExp(-abs(v))
    let s = e / (2 + e)
    let s2 = s * s
    var p: Float = 1.0 / 13
    p = multiplyAdd(p, s2, 1.0 / 11)
    p = multiplyAdd(p, s2, 1.0 / 9)
    p = multiplyAdd(p, s2, 1.0 / 7)
    p = multiplyAdd(p, s2, 1.0 / 5)
    p = multiplyAdd(p, s2, 1.0 / 3)
    p = multiplyAdd(p, s2, 1)
    return (v > 0 ? v : 0) + 2 * s * p
}

func fastSoftplusLoop(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { y[i] = fastSoftplus(x[i]) }
}
