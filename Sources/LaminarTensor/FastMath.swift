// Vectorisable single-precision kernels for the activations on the hot path of CNF dynamics.
// glibc's scalar `tanhf` costs ~15 ns per element and blocks vectorisation; these loops are
// branch-free polynomials that LLVM turns into SIMD code.

/// `tanh` for Float by the [13/6] rational minimax approximation Eigen uses
/// (`ptanh_float`), with the input clamped to ±7.905311 where the result rounds to ±1.
/// Max absolute error 4e-7 over the real line (checked in `LaminarTensorTests`).
@inline(__always)
func fastTanh(_ v: Float) -> Float {
    let bound: Float = 7.905_311_107_635_498_05
    let lo = v < -bound ? -bound : v
    let x = lo > bound ? bound : lo
    let x2 = x * x
    var p: Float = -2.760_768_477_423_55e-16
    p = p * x2 + 2.000_187_904_824_77e-13
    p = p * x2 - 8.604_671_522_137_35e-11
    p = p * x2 + 5.122_297_090_371_14e-08
    p = p * x2 + 1.485_722_357_179_79e-05
    p = p * x2 + 6.372_619_288_754_36e-04
    p = p * x2 + 4.893_524_558_917_86e-03
    p = p * x
    var q: Float = 1.198_258_394_667_02e-06
    q = q * x2 + 1.185_347_056_866_54e-04
    q = q * x2 + 2.268_434_632_439_00e-03
    q = q * x2 + 4.893_525_185_543_85e-03
    return p / q
}

func fastTanhLoop(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { y[i] = fastTanh(x[i]) }
}

/// `sigmoid(x) = ½ + ½·tanh(x/2)`, through the same approximation.
func fastSigmoidLoop(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { y[i] = 0.5 + 0.5 * fastTanh(0.5 * x[i]) }
}
