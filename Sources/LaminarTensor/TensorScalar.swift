import CBLAS
import RealModule

/// Element type of a ``Tensor``: `Float` (the training default) or `Double` (gradient checks,
/// tight solver tolerances).
///
/// The protocol carries the vectorised kernels as static requirements. Each conformance
/// forwards to the generic kernels of this module with its concrete type, so every loop is
/// compiled specialised once, here; generic code in other modules pays one witness-table
/// call per tensor operation, never per element.
public protocol TensorScalar: BinaryFloatingPoint, Real, Sendable, Codable
where Self.RawSignificand: FixedWidthInteger {
    /// The safetensors dtype name (`F32`, `F64`).
    static var dtypeName: String { get }

    /// `C ← α·op(A)·op(B) + β·C` on row-major matrices (CBLAS `?gemm`).
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    /// `y[i] = op(x[i])` for `i < count`; `x` and `y` may alias.
    static func unaryKernel(_ op: UnaryOp, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, count: Int)

    /// `out = a ∘ b` with broadcasting described by `plan`.
    static func binaryKernel(
        _ op: BinaryOp, _ plan: StridedPlan,
        _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>)

    /// Reduces `x` into `out` (pre-filled by the caller with the reduction's identity) following
    /// `plan`: operand 0 is `x`, operand 1 is `out` with zero strides on reduced axes.
    static func reduceKernel(
        _ op: ReduceOp, _ plan: StridedPlan, _ x: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>)

    /// Strided gather: `out` (contiguous, operand 1) ← `x` read with operand-0 strides.
    static func copyKernel(_ plan: StridedPlan, _ x: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>)

    /// `y ← α·x + y` (CBLAS `?axpy`).
    static func axpy(count: Int, alpha: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>)

    /// `Σ (eᵢ / (atol + rtol·max(|aᵢ|, |bᵢ|)))²` and the largest such ratio, in Double: the
    /// solver's error measure.
    static func errorStatistics(
        _ e: UnsafePointer<Self>, _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, count: Int,
        rtol: Double, atol: Double) -> (sumOfSquares: Double, maxAbs: Double)

    /// True when no element is NaN or infinite.
    static func allFinite(_ x: UnsafePointer<Self>, count: Int) -> Bool

    /// Unfolds one image ([C, H, W]) into columns ([C·kh·kw, Ho·Wo]) for convolution as GEMM.
    static func im2col(_ image: UnsafePointer<Self>, _ columns: UnsafeMutablePointer<Self>, _ geometry: ConvGeometry)

    /// The adjoint of ``im2col(_:_:_:)``: adds columns back into an image (overlaps accumulate).
    static func col2im(_ columns: UnsafePointer<Self>, _ image: UnsafeMutablePointer<Self>, _ geometry: ConvGeometry)

    /// `value = φ(p)`, `first = φ′(p)` and optionally `second = φ″(p)` for the activation `op`
    /// (`tanh`, `sigmoid`, `softplus`, `relu`, `elu`, `swish`; other operations: identity).
    static func activationDerivatives(
        _ op: UnaryOp, _ p: UnsafePointer<Self>, value: UnsafeMutablePointer<Self>,
        first: UnsafeMutablePointer<Self>, second: UnsafeMutablePointer<Self>?, count: Int)

    /// `out = a ⊙ b (⊙ c)`, or `out += …` when `accumulate` is set; contiguous operands.
    static func productKernel(
        _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ c: UnsafePointer<Self>?,
        _ out: UnsafeMutablePointer<Self>, count: Int, accumulate: Bool)

    /// `x = a ⊙ b ⊙ c` (or `x += …` when `accumulate` is set) and `y = a ⊙ d` in one pass over
    /// `a`; contiguous operands.
    static func productPairKernel(
        _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ c: UnsafePointer<Self>, _ d: UnsafePointer<Self>,
        _ x: UnsafeMutablePointer<Self>, _ y: UnsafeMutablePointer<Self>, count: Int, accumulate: Bool)

    /// Group normalisation forward over contiguous `[N, C, S]` data (see ``GroupNormGeometry``):
    /// `y = γ·x̂ + β`, also writing `x̂` and the reciprocal standard deviations ([N·G]).
    static func groupNormForward(
        _ x: UnsafePointer<Self>, _ gamma: UnsafePointer<Self>, _ beta: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>,
        _ xhat: UnsafeMutablePointer<Self>, _ rstd: UnsafeMutablePointer<Self>, _ geometry: GroupNormGeometry, epsilon: Double)

    /// The vector–Jacobian product of ``groupNormForward(_:_:_:_:_:_:_:epsilon:)``: `dx`, `dγ`, `dβ`
    /// (the last two overwritten).
    static func groupNormBackward(
        _ dy: UnsafePointer<Self>, _ xhat: UnsafePointer<Self>, _ rstd: UnsafePointer<Self>, _ gamma: UnsafePointer<Self>,
        _ dx: UnsafeMutablePointer<Self>, _ dgamma: UnsafeMutablePointer<Self>, _ dbeta: UnsafeMutablePointer<Self>,
        _ geometry: GroupNormGeometry)
}

// The two conformances are deliberately spelled out: each forwards to the generic kernels with a
// concrete type, which is what makes the compiler emit specialised loops here. A default
// implementation in a protocol extension would be called through the generic entry point.
extension Float: TensorScalar {
    /// `F32`, the safetensors dtype of single precision.
    public static var dtypeName: String { "F32" }

    /// OpenBLAS `cblas_sgemm` (row-major), after the one-time kernel selection of `BLASKernels`,
    /// with the thread count `BLASThreads` chooses for the product's `2·m·n·k` flops.
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        BLASKernels.ensureBestKernels()
        BLASThreads.run(flops: 2 * m * n * k) {
            cblas_sgemm(
                CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }

    /// `tanh`, `sigmoid` and `softplus` by the vectorisable polynomial approximations of
    /// `FastMath.swift` (absolute error within 4e-7); every other operation by the generic loop.
    public static func unaryKernel(_ op: UnaryOp, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        switch op {
        case .tanh: fastTanhLoop(x, y, count)
        case .sigmoid: fastSigmoidLoop(x, y, count)
        case .softplus: fastSoftplusLoop(x, y, count)
        default: applyUnary(op, x, y, count)
        }
    }

    /// The generic broadcasting loop over `plan`, specialised for Float.
    public static func binaryKernel(
        _ op: BinaryOp, _ plan: StridedPlan,
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>
    ) {
        applyBinary(op, plan, a, b, out)
    }

    /// The generic strided reduction over `plan`, specialised for Float.
    public static func reduceKernel(
        _ op: ReduceOp, _ plan: StridedPlan, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>
    ) {
        applyReduce(op, plan, x, out)
    }

    /// The generic strided gather over `plan`, specialised for Float.
    public static func copyKernel(_ plan: StridedPlan, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        applyCopy(plan, x, out)
    }

    /// OpenBLAS `cblas_saxpy` on `count` unit-stride elements.
    public static func axpy(count: Int, alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
    }

    /// The generic loop, specialised for Float: ratios and sums in Double; a NaN ratio makes
    /// `maxAbs` NaN.
    public static func errorStatistics(
        _ e: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int,
        rtol: Double, atol: Double
    ) -> (sumOfSquares: Double, maxAbs: Double) {
        applyErrorStatistics(e, a, b, count, rtol, atol)
    }

    /// One branch-free pass accumulating `x[i]·0`, which turns NaN as soon as an element is NaN
    /// or infinite.
    public static func allFinite(_ x: UnsafePointer<Float>, count: Int) -> Bool {
        applyAllFinite(x, count)
    }

    /// The generic unfolding of one image, specialised for Float; `columns` is overwritten.
    public static func im2col(_ image: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>, _ geometry: ConvGeometry) {
        applyIm2col(image, columns, geometry)
    }

    /// The generic folding of one image, specialised for Float: adds into `image`, which the caller
    /// initialises (zeros for a plain adjoint).
    public static func col2im(_ columns: UnsafePointer<Float>, _ image: UnsafeMutablePointer<Float>, _ geometry: ConvGeometry) {
        applyCol2im(columns, image, geometry)
    }

    /// `tanh`, `sigmoid` and `softplus` through the same approximations as `unaryKernel`, so that
    /// `value` matches the forward pass (`elu` and `swish` use the approximate `exp` and sigmoid
    /// too); `tanh`, the common case, has its own single-pass vectorised loop.
    public static func activationDerivatives(
        _ op: UnaryOp, _ p: UnsafePointer<Float>, value: UnsafeMutablePointer<Float>,
        first: UnsafeMutablePointer<Float>, second: UnsafeMutablePointer<Float>?, count: Int
    ) {
        applyActivationDerivativesFloat(op, p, value, first, second, count)
    }

    /// The generic elementwise loop, specialised for Float.
    public static func productKernel(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>?,
        _ out: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool
    ) {
        applyProduct(a, b, c, out, count, accumulate: accumulate)
    }

    /// The generic single-pass loop, specialised for Float.
    public static func productPairKernel(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>, _ d: UnsafePointer<Float>,
        _ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool
    ) {
        applyProductPair(a, b, c, d, x, y, count, accumulate: accumulate)
    }

    /// The generic kernel, specialised for Float: statistics in Double, blocks of samples on
    /// several threads from 2¹⁵ elements up.
    public static func groupNormForward(
        _ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        _ xhat: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>, _ geometry: GroupNormGeometry, epsilon: Double
    ) {
        groupNormForwardLoop(x, gamma, beta, y, xhat, rstd, geometry, epsilon: epsilon)
    }

    /// The generic kernel, specialised for Float: blocks of samples on several threads from 2¹⁵
    /// elements up, their `dγ`, `dβ` summed.
    public static func groupNormBackward(
        _ dy: UnsafePointer<Float>, _ xhat: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>,
        _ dx: UnsafeMutablePointer<Float>, _ dgamma: UnsafeMutablePointer<Float>, _ dbeta: UnsafeMutablePointer<Float>,
        _ geometry: GroupNormGeometry
    ) {
        groupNormBackwardLoop(dy, xhat, rstd, gamma, dx, dgamma, dbeta, geometry)
    }
}

extension Double: TensorScalar {
    /// `F64`, the safetensors dtype of double precision.
    public static var dtypeName: String { "F64" }

    /// OpenBLAS `cblas_dgemm` (row-major), after the one-time kernel selection of `BLASKernels`,
    /// with the thread count `BLASThreads` chooses for the product's `2·m·n·k` flops.
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        BLASKernels.ensureBestKernels()
        BLASThreads.run(flops: 2 * m * n * k) {
            cblas_dgemm(
                CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }

    /// Every operation by the generic loop with RealModule's functions (no approximations).
    public static func unaryKernel(_ op: UnaryOp, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int) {
        applyUnary(op, x, y, count)
    }

    /// The generic broadcasting loop over `plan`, specialised for Double.
    public static func binaryKernel(
        _ op: BinaryOp, _ plan: StridedPlan,
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>
    ) {
        applyBinary(op, plan, a, b, out)
    }

    /// The generic strided reduction over `plan`, specialised for Double.
    public static func reduceKernel(
        _ op: ReduceOp, _ plan: StridedPlan, _ x: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>
    ) {
        applyReduce(op, plan, x, out)
    }

    /// The generic strided gather over `plan`, specialised for Double.
    public static func copyKernel(_ plan: StridedPlan, _ x: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>) {
        applyCopy(plan, x, out)
    }

    /// OpenBLAS `cblas_daxpy` on `count` unit-stride elements.
    public static func axpy(count: Int, alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
        cblas_daxpy(Int32(count), alpha, x, 1, y, 1)
    }

    /// The generic loop, specialised for Double; a NaN ratio makes `maxAbs` NaN.
    public static func errorStatistics(
        _ e: UnsafePointer<Double>, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, count: Int,
        rtol: Double, atol: Double
    ) -> (sumOfSquares: Double, maxAbs: Double) {
        applyErrorStatistics(e, a, b, count, rtol, atol)
    }

    /// One branch-free pass accumulating `x[i]·0`, which turns NaN as soon as an element is NaN
    /// or infinite.
    public static func allFinite(_ x: UnsafePointer<Double>, count: Int) -> Bool {
        applyAllFinite(x, count)
    }

    /// The generic unfolding of one image, specialised for Double; `columns` is overwritten.
    public static func im2col(_ image: UnsafePointer<Double>, _ columns: UnsafeMutablePointer<Double>, _ geometry: ConvGeometry) {
        applyIm2col(image, columns, geometry)
    }

    /// The generic folding of one image, specialised for Double: adds into `image`, which the caller
    /// initialises (zeros for a plain adjoint).
    public static func col2im(_ columns: UnsafePointer<Double>, _ image: UnsafeMutablePointer<Double>, _ geometry: ConvGeometry) {
        applyCol2im(columns, image, geometry)
    }

    /// With RealModule's `tanh` and `exp` and overflow-safe sigmoid and softplus (no
    /// approximations).
    public static func activationDerivatives(
        _ op: UnaryOp, _ p: UnsafePointer<Double>, value: UnsafeMutablePointer<Double>,
        first: UnsafeMutablePointer<Double>, second: UnsafeMutablePointer<Double>?, count: Int
    ) {
        applyActivationDerivatives(op, p, value, first, second, count)
    }

    /// The generic elementwise loop, specialised for Double.
    public static func productKernel(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>?,
        _ out: UnsafeMutablePointer<Double>, count: Int, accumulate: Bool
    ) {
        applyProduct(a, b, c, out, count, accumulate: accumulate)
    }

    /// The generic single-pass loop, specialised for Double.
    public static func productPairKernel(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>, _ d: UnsafePointer<Double>,
        _ x: UnsafeMutablePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int, accumulate: Bool
    ) {
        applyProductPair(a, b, c, d, x, y, count, accumulate: accumulate)
    }

    /// The generic kernel, specialised for Double: statistics in Double, blocks of samples on
    /// several threads from 2¹⁵ elements up.
    public static func groupNormForward(
        _ x: UnsafePointer<Double>, _ gamma: UnsafePointer<Double>, _ beta: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>,
        _ xhat: UnsafeMutablePointer<Double>, _ rstd: UnsafeMutablePointer<Double>, _ geometry: GroupNormGeometry, epsilon: Double
    ) {
        groupNormForwardLoop(x, gamma, beta, y, xhat, rstd, geometry, epsilon: epsilon)
    }

    /// The generic kernel, specialised for Double: blocks of samples on several threads from 2¹⁵
    /// elements up, their `dγ`, `dβ` summed.
    public static func groupNormBackward(
        _ dy: UnsafePointer<Double>, _ xhat: UnsafePointer<Double>, _ rstd: UnsafePointer<Double>, _ gamma: UnsafePointer<Double>,
        _ dx: UnsafeMutablePointer<Double>, _ dgamma: UnsafeMutablePointer<Double>, _ dbeta: UnsafeMutablePointer<Double>,
        _ geometry: GroupNormGeometry
    ) {
        groupNormBackwardLoop(dy, xhat, rstd, gamma, dx, dgamma, dbeta, geometry)
    }
}
