import CBLAS
import RealModule

/// Element type of a ``Tensor``: `Float` (the training default) or `Double` (gradient checks,
/// tight solver tolerances).
///
/// The protocol carries the vectorised kernels as static requirements. Each forwards to the
/// generic kernels of this module with the conformance's concrete type (shared default
/// implementations where the loop is the same for both types), so every loop is compiled
/// specialised once, here; generic code in other modules pays one witness-table call per
/// tensor operation, never per element.
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
    /// `y = γ·x̂ + β` (`max(γ·x̂ + β, 0)` with `rectify`), also writing `x̂` and the reciprocal
    /// standard deviations ([N·G]).
    static func groupNormForward(
        _ x: UnsafePointer<Self>, _ gamma: UnsafePointer<Self>, _ beta: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>,
        _ xhat: UnsafeMutablePointer<Self>, _ rstd: UnsafeMutablePointer<Self>, _ geometry: GroupNormGeometry, epsilon: Double,
        rectify: Bool)

    /// The vector–Jacobian product of ``groupNormForward(_:_:_:_:_:_:_:epsilon:rectify:)``: `dx`,
    /// `dγ`, `dβ` (the last two overwritten); `rectifiedBias` is the forward's β when it was
    /// rectified, nil otherwise.
    static func groupNormBackward(
        _ dy: UnsafePointer<Self>, _ xhat: UnsafePointer<Self>, _ rstd: UnsafePointer<Self>, _ gamma: UnsafePointer<Self>,
        _ dx: UnsafeMutablePointer<Self>, _ dgamma: UnsafeMutablePointer<Self>, _ dbeta: UnsafeMutablePointer<Self>,
        _ geometry: GroupNormGeometry, rectifiedBias: UnsafePointer<Self>?)
}

// The operations whose loops are the same for every scalar type: one generic kernel each, called
// with the conformance's concrete type. Each conformance's witness is the default below
// instantiated at `Float` or `Double`, which the optimiser specialises in this module, so the
// loops are emitted specialised once per scalar type, here; generic code elsewhere reaches them
// through one witness-table call per tensor operation.
extension TensorScalar {
    /// The generic broadcasting loop over `plan`, specialised for the scalar type.
    public static func binaryKernel(
        _ op: BinaryOp, _ plan: StridedPlan,
        _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>
    ) {
        applyBinary(op, plan, a, b, out)
    }

    /// The generic strided reduction over `plan`, specialised for the scalar type.
    public static func reduceKernel(
        _ op: ReduceOp, _ plan: StridedPlan, _ x: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>
    ) {
        applyReduce(op, plan, x, out)
    }

    /// The generic strided gather over `plan`, specialised for the scalar type.
    public static func copyKernel(_ plan: StridedPlan, _ x: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>) {
        applyCopy(plan, x, out)
    }

    /// The generic loop, specialised for the scalar type: ratios and sums in Double; a NaN ratio
    /// makes `maxAbs` NaN.
    public static func errorStatistics(
        _ e: UnsafePointer<Self>, _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, count: Int,
        rtol: Double, atol: Double
    ) -> (sumOfSquares: Double, maxAbs: Double) {
        applyErrorStatistics(e, a, b, count, rtol, atol)
    }

    /// One branch-free pass accumulating `x[i]·0`, which turns NaN as soon as an element is NaN
    /// or infinite.
    public static func allFinite(_ x: UnsafePointer<Self>, count: Int) -> Bool {
        applyAllFinite(x, count)
    }

    /// The generic unfolding of one image, specialised for the scalar type; `columns` is
    /// overwritten.
    public static func im2col(_ image: UnsafePointer<Self>, _ columns: UnsafeMutablePointer<Self>, _ geometry: ConvGeometry) {
        applyIm2col(image, columns, geometry)
    }

    /// The generic folding of one image, specialised for the scalar type: adds into `image`,
    /// which the caller initialises (zeros for a plain adjoint).
    public static func col2im(_ columns: UnsafePointer<Self>, _ image: UnsafeMutablePointer<Self>, _ geometry: ConvGeometry) {
        applyCol2im(columns, image, geometry)
    }

    /// The generic elementwise loop, specialised for the scalar type.
    public static func productKernel(
        _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ c: UnsafePointer<Self>?,
        _ out: UnsafeMutablePointer<Self>, count: Int, accumulate: Bool
    ) {
        applyProduct(a, b, c, out, count, accumulate: accumulate)
    }

    /// The generic single-pass loop, specialised for the scalar type.
    public static func productPairKernel(
        _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ c: UnsafePointer<Self>, _ d: UnsafePointer<Self>,
        _ x: UnsafeMutablePointer<Self>, _ y: UnsafeMutablePointer<Self>, count: Int, accumulate: Bool
    ) {
        applyProductPair(a, b, c, d, x, y, count, accumulate: accumulate)
    }

    /// The generic kernel, specialised for the scalar type: statistics in Double, blocks of
    /// samples on several threads from 2¹⁵ elements up.
    public static func groupNormForward(
        _ x: UnsafePointer<Self>, _ gamma: UnsafePointer<Self>, _ beta: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>,
        _ xhat: UnsafeMutablePointer<Self>, _ rstd: UnsafeMutablePointer<Self>, _ geometry: GroupNormGeometry, epsilon: Double,
        rectify: Bool
    ) {
        groupNormForwardLoop(x, gamma, beta, y, xhat, rstd, geometry, epsilon: epsilon, rectify: rectify)
    }

    /// The generic kernel, specialised for the scalar type: blocks of samples on several threads
    /// from 2¹⁵ elements up, their `dγ`, `dβ` summed.
    public static func groupNormBackward(
        _ dy: UnsafePointer<Self>, _ xhat: UnsafePointer<Self>, _ rstd: UnsafePointer<Self>, _ gamma: UnsafePointer<Self>,
        _ dx: UnsafeMutablePointer<Self>, _ dgamma: UnsafeMutablePointer<Self>, _ dbeta: UnsafeMutablePointer<Self>,
        _ geometry: GroupNormGeometry, rectifiedBias: UnsafePointer<Self>?
    ) {
        groupNormBackwardLoop(dy, xhat, rstd, gamma, dx, dgamma, dbeta, geometry, rectifiedBias: rectifiedBias)
    }
}

/// The signature CBLAS's `sgemm` and `dgemm` share, for scalars `T`.
private typealias CBLASGemm<T> = (
    CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, Int32, Int32, Int32,
    T, UnsafePointer<T>?, Int32, UnsafePointer<T>?, Int32, T, UnsafeMutablePointer<T>?, Int32
) -> Void

/// `C ← α·op(A)·op(B) + β·C` on row-major matrices by `routine` (`cblas_sgemm` or
/// `cblas_dgemm`), after the one-time kernel selection of `BLASKernels`, with the thread count
/// `BLASThreads` chooses for the product's `2·m·n·k` flops.
private func rowMajorGemm<T>(
    _ routine: CBLASGemm<T>, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: T, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int
) {
    BLASKernels.ensureBestKernels()
    BLASThreads.run(flops: 2 * m * n * k) {
        routine(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

// The operations that differ between the two types: the BLAS routines, and the Float fast paths
// for the activations.
extension Float: TensorScalar {
    /// `F32`, the safetensors dtype of single precision.
    public static var dtypeName: String { "F32" }

    /// OpenBLAS `cblas_sgemm` (row-major), with the kernel selection and thread count of
    /// every product (see `rowMajorGemm`).
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        rowMajorGemm(
            cblas_sgemm, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
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

    /// OpenBLAS `cblas_saxpy` on `count` unit-stride elements.
    public static func axpy(count: Int, alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
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
}

extension Double: TensorScalar {
    /// `F64`, the safetensors dtype of double precision.
    public static var dtypeName: String { "F64" }

    /// OpenBLAS `cblas_dgemm` (row-major), with the kernel selection and thread count of
    /// every product (see `rowMajorGemm`).
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        rowMajorGemm(
            cblas_dgemm, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// Every operation by the generic loop with RealModule's functions (no approximations).
    public static func unaryKernel(_ op: UnaryOp, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int) {
        applyUnary(op, x, y, count)
    }

    /// OpenBLAS `cblas_daxpy` on `count` unit-stride elements.
    public static func axpy(count: Int, alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
        cblas_daxpy(Int32(count), alpha, x, 1, y, 1)
    }

    /// With RealModule's `tanh` and `exp` and overflow-safe sigmoid and softplus (no
    /// approximations).
    public static func activationDerivatives(
        _ op: UnaryOp, _ p: UnsafePointer<Double>, value: UnsafeMutablePointer<Double>,
        first: UnsafeMutablePointer<Double>, second: UnsafeMutablePointer<Double>?, count: Int
    ) {
        applyActivationDerivatives(op, p, value, first, second, count)
    }
}
